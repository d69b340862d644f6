// Node/V8 flags the ingest service is started with (npm start, docker-compose, the load test).
//
// --max-semi-space-size=32 (MiB, default 16): a request's parsed events, messages and kafkajs
// buffers live until Kafka acknowledges them (tens of ms under load); with V8's default young
// generation many survived two scavenges and were promoted, to be collected by major GCs. Measured
// with the load test's ingest scenario (quick profile, three rounds alternating 16/32/64 MiB, 100-
// event batches): 24.9/25.8/28.1 µs CPU/event at 32 against 26.2/26.3/29.6 at the default (linger
// 0: 23.8/24.3/25.8 against 24.4/25.4/27.4) — lower in each of the six pairs; 64 was no better.
export const INGEST_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];
