// Node/V8 flags the processors service is started with (npm start, docker-compose, the load test).
//
// --max-semi-space-size=64 (MiB, default 16): a step of up to PROCESSOR_MAX_BATCH decoded events
// (~30 MB at 20,000) does not fit V8's young generation, so most of it was promoted and collected
// by full mark-compacts of a heap holding the graph. Measured replaying 200,000 events
// (.local bench, same machine, alternating runs): 30–34.5 µs CPU/event at the default, 26–28 µs
// at 64, 25–27 µs at 128 — 64 takes most of the gain for a third of the young-generation memory.
export const PROCESSORS_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];
