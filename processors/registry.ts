// Every processor, listed once (conventions §4.1). The raw sink runs first (its table is the
// durable state the others are restored from); the others run in this order on every batch.
import type { Config } from '../core/config.ts';
import type { Processor } from '../core/processor.ts';
import { createRawEventsProcessor } from './raw-events/index.ts';

export interface Registry {
  rawSink: Processor;
  processors: Processor[];
}

export function createProcessors(_config: Config): Registry {
  return { rawSink: createRawEventsProcessor(), processors: [] };
}
