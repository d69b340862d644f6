// Pipeline health (design §9): ingest rate, consumer lag, freshness, dead letters.
//
// ClickHouse holds only what reached it, so the panels split by source:
// - from viral.events (per app): ingest rate by received_at, events by type, seconds since the
//   last event arrived, and the arrival delay received_at − occurred_at — how late clients send
//   (offline devices, backfills), NOT the pipeline's own latency, which ClickHouse does not store;
// - from the services' Prometheus metrics (all apps together; core/kafka/run-pipeline.ts and
//   ingest/routes/events.ts): consumer lag, dead letters (they live in Kafka's dead-letter topic,
//   not in ClickHouse), and freshness = ingest receive → committed to ClickHouse (design §4's
//   5 s p95 target). These need a Prometheus scraping ingest :8080, processors :8082 and api
//   :8081 `/metrics`, provisioned as the `viral-prometheus` data source.
import type { DashboardSpec, PromPanel, SqlPanel } from '../lib/clickhouse-panel.ts';
import { APP, DEDUPE, timeBucket } from '../lib/sql-fragments.ts';

const ingestRate: SqlPanel = {
  title: 'Ingest rate',
  description: 'Distinct events per second by the time ingest received them (received_at), for the selected app.',
  type: 'timeseries',
  width: 12,
  unit: 'suffix: events/s',
  sql: `SELECT ${timeBucket('received_at')} AS time, count() / $__interval_s AS events_per_second
FROM (
  SELECT received_at FROM viral.events
  WHERE ${APP} AND $__timeFilter(received_at)
  ${DEDUPE}
)
GROUP BY time
ORDER BY time`,
  columns: ['time', 'events_per_second'],
};

const lastEvent: SqlPanel = {
  title: 'Since the last event arrived',
  description: 'now() − the newest received_at of the app: grows when the app stops sending or ingest → Kafka → raw sink stalls.',
  type: 'stat',
  width: 6,
  unit: 's',
  sql: `SELECT toInt64(toUInt32(now())) - toInt64(toUInt32(max(received_at))) AS seconds_since_last_event
FROM viral.events
WHERE ${APP}`,
  columns: ['seconds_since_last_event'],
};

const eventsInRange: SqlPanel = {
  title: 'Events received in range',
  description: 'Distinct events received in the range, and how many different users sent them.',
  type: 'stat',
  width: 6,
  sql: `SELECT count() AS events, uniqExact(user_id) AS users
FROM (
  SELECT user_id FROM viral.events
  WHERE ${APP} AND $__timeFilter(received_at)
  ${DEDUPE}
)`,
  columns: ['events', 'users'],
};

const byType: SqlPanel = {
  title: 'Events by type (event time)',
  description: 'Distinct events per interval of occurred_at, by type (design §3).',
  type: 'timeseries',
  width: 12,
  sql: `SELECT ${timeBucket('occurred_at')} AS time, toString(type) AS event_type, count() AS events
FROM (
  SELECT occurred_at, type FROM viral.events
  WHERE ${APP} AND $__timeFilter(occurred_at)
  ${DEDUPE}
)
GROUP BY time, event_type
ORDER BY time, event_type`,
  columns: ['time', 'event_type', 'events'],
};

const arrivalDelay: SqlPanel = {
  title: 'Arrival delay (received_at − occurred_at)',
  description:
    'How long after the event happened (client clock, skew-corrected at ingest) it reached ingest: p50/p95/p99 per interval of arrival. Large for offline clients and backfills; this is not the pipeline latency (see Freshness below).',
  type: 'timeseries',
  width: 12,
  unit: 's',
  sql: `SELECT ${timeBucket('received_at')} AS time,
  quantile(0.5)(delay) AS p50, quantile(0.95)(delay) AS p95, quantile(0.99)(delay) AS p99
FROM (
  SELECT received_at, toInt64(toUInt32(received_at)) - toInt64(toUInt32(occurred_at)) AS delay FROM viral.events
  WHERE ${APP} AND $__timeFilter(received_at)
  ${DEDUPE}
)
GROUP BY time
ORDER BY time`,
  columns: ['time', 'p50', 'p95', 'p99'],
};

const consumerLag: PromPanel = {
  title: 'Consumer lag',
  description: 'Messages behind the log end per partition of the events topic (processors, viral_consumer_lag). Prometheus: all apps.',
  type: 'timeseries',
  width: 12,
  promql: [{ expr: 'max by (partition) (viral_consumer_lag)', legend: 'partition {{partition}}' }],
};

const freshness: PromPanel = {
  title: 'Freshness: ingest → ClickHouse',
  description: 'p50/p95 seconds from ingest receiving an event to the processors committing it to ClickHouse (viral_processor_freshness_seconds; design §4 target: 5 s p95 end to end).',
  type: 'timeseries',
  width: 12,
  unit: 's',
  promql: [
    { expr: 'histogram_quantile(0.5, sum by (le) (rate(viral_processor_freshness_seconds_bucket[$__rate_interval])))', legend: 'p50' },
    { expr: 'histogram_quantile(0.95, sum by (le) (rate(viral_processor_freshness_seconds_bucket[$__rate_interval])))', legend: 'p95' },
  ],
};

const deadLetters: PromPanel = {
  title: 'Dead letters',
  description:
    'Events written to the dead-letter topic per second: rejected at ingest (viral_ingest_events_total{outcome="rejected"}) and poison messages from the processors (viral_dead_letters_total). The dead letters themselves are in Kafka, not ClickHouse.',
  type: 'timeseries',
  width: 12,
  unit: 'suffix: /s',
  promql: [
    { expr: 'sum(rate(viral_ingest_events_total{outcome="rejected"}[$__rate_interval]))', legend: 'rejected at ingest' },
    { expr: 'sum by (source) (rate(viral_dead_letters_total[$__rate_interval]))', legend: 'poison ({{source}})' },
  ],
};

const ingestOutcomes: PromPanel = {
  title: 'Ingest outcomes',
  description: 'Events per second by outcome at ingest: accepted, duplicate, rejected, unavailable (Kafka down, answered 503).',
  type: 'timeseries',
  width: 12,
  unit: 'suffix: events/s',
  promql: [{ expr: 'sum by (outcome) (rate(viral_ingest_events_total[$__rate_interval]))', legend: '{{outcome}}' }],
};

export const pipelineHealth: DashboardSpec = {
  uid: 'viral-pipeline-health',
  title: 'Pipeline health',
  description: 'Ingest rate, consumer lag, freshness and dead letters (design §4, §9).',
  tags: ['viral', 'operations'],
  variables: ['app'],
  rows: [
    { title: 'Events in ClickHouse (selected app)', height: 8, panels: [lastEvent, eventsInRange, ingestRate, byType, arrivalDelay] },
    { title: 'Services (Prometheus, all apps)', height: 8, panels: [consumerLag, freshness, deadLetters, ingestOutcomes] },
  ],
};
