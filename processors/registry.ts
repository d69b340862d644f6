// Every processor, listed once (conventions §4.1). The raw sink runs first (its table is the
// durable state the others are restored from); the others run in this order on every batch.
import type { Config } from '../core/config.ts';
import type { Processor } from '../core/processor.ts';
import { createRawEventsProcessor } from './raw-events/index.ts';

export interface Registry {
  rawSink: Processor;
  /** Fresh derived processors sharing fresh state (called again to rebuild after an erase). */
  createProcessors: () => Processor[];
  /** Every table the derived processors write. */
  derivedTables: readonly string[];
}

export function createRegistry(_config: Config): Registry {
  return { rawSink: createRawEventsProcessor(), createProcessors: () => [], derivedTables: [] };
}
