// Public API of the experiment statistics (design §6–§7); callers import from here.
export { computeExperimentResults, SMALL_SAMPLE_SIZE } from './results.ts';
export type {
  ExperimentResults,
  ExperimentStatsDefinition,
  PreviousSequential,
  RevenueResult,
  VariantResult,
  VariantStats,
} from './results.ts';
export { STATS_FLAGS, type StatsFlag } from './flags.ts';
export { MSPRT_TAU2, alwaysValidPValue, msprtLogLikelihoodRatio } from './msprt.ts';
export { twoProportionZTest, absoluteDifference, relativeLift } from './z-test.ts';
export { summarizeMean, welchTTest } from './welch.ts';
export { chanceToBeatControl } from './beta.ts';
export { srmPValue } from './srm.ts';
export { holmAdjust } from './holm.ts';
export { normalCdf, normalSf, studentTSf, chiSquareSf, Z_975 } from './distributions.ts';
