// buildApi(deps) returns the read-side Fastify app without listening (conventions §7).
// It reads only precomputed tables; every value reaches SQL through core/clickhouse/sql.ts.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../core/config.ts';
import type { ClickHouse } from '../core/clickhouse/client.ts';
import auth from '../core/http/auth.ts';
import { registerCommon } from '../core/http/common.ts';
import { viralRoutes } from './routes/viral.ts';
import { experimentRoutes } from './routes/experiments.ts';
import { userRoutes } from './routes/users.ts';
import { graphRoutes } from './routes/graph.ts';
import { streamRoutes } from './routes/stream.ts';
import { createStreamHub, type StreamHub } from './stream-hub.ts';
import type { EventProducer } from '../core/kafka/client.ts';
import type { SeriesRefresher } from './series-refresher.ts';

export interface ApiDeps {
  config: Config;
  ch: ClickHouse;
  log: Logger;
  registry: Registry;
  /** Kafka reachability for /ready. */
  kafkaReady: () => Promise<boolean>;
  /** Producer for erase requests (DELETE /v1/users/:id). */
  producer?: EventProducer;
  /** Live updates for /v1/stream (fed from the updates topic by api/main.ts). */
  hub?: StreamHub;
  now?: () => number;
  /** Builds the viral series answers off the event loop (api/main.ts); without it, in-thread. */
  series?: SeriesRefresher;
}

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log as unknown as FastifyBaseLogger,
    bodyLimit: 256 * 1024,
    trustProxy: deps.config.trustProxy,
    requestTimeout: 30_000,
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Viral growth analytics API', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await registerCommon(app, {
    registry: deps.registry,
    rateLimitPerMinute: deps.config.apiRateLimit,
    corsOrigins: deps.config.corsOrigins,
    ready: async () => {
      const [clickhouse, kafka] = await Promise.all([deps.ch.ping(), deps.kafkaReady()]);
      return { clickhouse, kafka };
    },
  });
  await app.register(auth, { keys: deps.config.apiKeys });
  const routeDeps = { ...deps, hub: deps.hub ?? createStreamHub(), now: deps.now ?? Date.now };
  await app.register(viralRoutes, routeDeps);
  await app.register(experimentRoutes, routeDeps);
  await app.register(graphRoutes, routeDeps);
  await app.register(userRoutes, routeDeps);
  await app.register(streamRoutes, routeDeps);
  app.get('/docs/json', { schema: { hide: true }, config: { rateLimit: false } }, async () => app.swagger());
  return app;
}
