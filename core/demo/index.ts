// Demo stream generator (design §8): the entry point for the start command and loadtest/.
export { createDemoStream, generateDemo, assignVariant, DEFAULT_CHANNELS, DEMO_EXPERIMENT_DEFINITIONS, EXPERIMENTS, VARIANTS } from './generator.ts';
export type { ChannelModel, ChannelTruth, CurrencyTruth, DemoOptions, DemoStream, DemoTruth, VariantTruth } from './generator.ts';
export { FRAUD_PATTERNS, SIGNAL_OF } from './fraud.ts';
export type { FraudCase, FraudPattern, FraudSignal } from './fraud.ts';
export type { PostedEvent } from './posted-event.ts';
