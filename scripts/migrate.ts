// `npm run migrate`: applies sql/migrations to CLICKHOUSE_URL (docker-compose runs it once
// before the services start).
import { join } from 'node:path';
import { loadConfig } from '../core/config.ts';
import { createLogger } from '../core/log.ts';
import { createClickHouse } from '../core/clickhouse/client.ts';
import { migrate } from '../core/clickhouse/migrate.ts';

const config = loadConfig();
const log = createLogger(config.logLevel, 'migrate');
if (!config.clickhouseUrl) throw new Error('CLICKHOUSE_URL is not set');
const ch = createClickHouse({ url: config.clickhouseUrl, username: config.clickhouseUser, password: config.clickhousePassword });
for (let attempt = 1; !(await ch.ping()); attempt++) {
  if (attempt > 60) throw new Error(`ClickHouse at ${config.clickhouseUrl} did not answer`);
  await new Promise((r) => setTimeout(r, 1000));
}
const applied = await migrate(ch, join(config.rootDir, 'sql', 'migrations'));
log.info({ applied }, 'migrations applied');
await ch.close();
