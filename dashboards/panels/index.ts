// The six dashboards of design §9, listed once: build.ts writes them, the tests check them.
import type { DashboardSpec } from '../lib/clickhouse-panel.ts';
import { experiments } from './experiments.ts';
import { fraud } from './fraud.ts';
import { pipelineHealth } from './pipeline-health.ts';
import { referralChains } from './referral-chains.ts';
import { superConnectors } from './super-connectors.ts';
import { viralOverview } from './viral-overview.ts';

/** File name (without .json) → dashboard. */
export const DASHBOARDS: Readonly<Record<string, DashboardSpec>> = {
  'viral-overview': viralOverview,
  'referral-chains': referralChains,
  'super-connectors': superConnectors,
  fraud,
  experiments,
  'pipeline-health': pipelineHealth,
};
