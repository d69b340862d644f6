// Every processor, listed once (conventions §4.1). The raw sink runs first (its table is the
// durable state the others are restored from); the others run in this order on every batch.
//
// The referral graph is shared state and order matters: the graph processor applies each batch
// to the graph and comes before every reader. Attribution, super-connectors and k-factor read
// the graph's changes through graph.subscribe(), so they are called on every batch, restore
// included. Fraud comes before super-connectors, which reads its flag changes.
import type { Config } from '../core/config.ts';
import type { Processor } from '../core/processor.ts';
import { createRawEventsProcessor } from './raw-events/index.ts';
import { ReferralGraph } from './referral-graph/graph.ts';
import { createReferralGraphProcessor, REFERRAL_ANCESTORS_TABLE, REFERRAL_NODES_TABLE } from './referral-graph/graph-processor.ts';
import { ATTRIBUTION_TABLE, createAttributionProcessor } from './referral-graph/attribution.ts';
import { createSuperConnectorProcessor, SUPER_CONNECTORS_TABLE } from './referral-graph/super-connectors.ts';
import { createFraudProcessor } from './fraud/processor.ts';
import { KFactorProcessor, KFACTOR_TABLE } from './k-factor/compute.ts';
import { CohortProcessor, COHORT_TABLE } from './cohorts/compute.ts';
import { createExperimentsProcessor, VARIANT_STATS_TABLE } from './experiments/counting.ts';

export interface Registry {
  rawSink: Processor;
  /** Fresh derived processors sharing fresh state: the runtime makes one set per app (and a new set to rebuild an app after an erase). */
  createProcessors: () => Processor[];
  /** Every table the derived processors write. */
  derivedTables: readonly string[];
}

export function createRegistry(config: Config): Registry {
  return {
    rawSink: createRawEventsProcessor(),
    createProcessors: () => {
      const graph = new ReferralGraph();
      // Graph readers subscribe to its change feed when constructed: all before the first apply.
      const fraud = createFraudProcessor(graph);
      const kFactor = new KFactorProcessor(graph, { attributionWindowDays: config.attributionWindowDays });
      const cohorts = new CohortProcessor(graph);
      return [
        // One ancestor more than the chain route shows: it then knows whether the chain goes on.
        createReferralGraphProcessor(graph, { storedAncestors: config.chainMaxDepth + 1 }),
        kFactor,
        cohorts,
        createAttributionProcessor(graph),
        fraud,
        createSuperConnectorProcessor(graph, { isFlagged: (app, user) => fraud.isFlagged(app, user), newlyFlagged: () => fraud.flagChanges() }),
        createExperimentsProcessor(),
      ];
    },
    derivedTables: [REFERRAL_NODES_TABLE, REFERRAL_ANCESTORS_TABLE, KFACTOR_TABLE, COHORT_TABLE, ATTRIBUTION_TABLE, 'fraud_signals', SUPER_CONNECTORS_TABLE, VARIANT_STATS_TABLE],
  };
}
