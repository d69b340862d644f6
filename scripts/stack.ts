// `npm run stack`: starts the embedded Kafka + ClickHouse (design §2) in the foreground and applies
// the migrations; Ctrl-C stops them. Used to keep a stack running between test runs.
import { loadConfig } from '../core/config.ts';
import { createLogger } from '../core/log.ts';
import { startEmbeddedStack } from '../core/stack/embedded.ts';
import { createClickHouse } from '../core/clickhouse/client.ts';
import { migrate } from '../core/clickhouse/migrate.ts';
import { join } from 'node:path';

const config = loadConfig();
const log = createLogger(config.logLevel, 'stack');
const t0 = Date.now();
const stack = await startEmbeddedStack({ ...config, log });
const ch = createClickHouse({ url: stack.clickhouseUrl });
const applied = await migrate(ch, join(config.rootDir, 'sql', 'migrations'));
await ch.close();
log.info({ applied: applied.length }, 'migrations applied');
log.info({ ms: Date.now() - t0, kafka: stack.kafkaBrokers, clickhouse: stack.clickhouseUrl }, 'embedded stack up');
const stop = async () => {
  await stack.stop();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
