// buildIngest(deps) returns the ingest Fastify app without listening (conventions §7).
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../core/config.ts';
import { kafkaReachable, type EventProducer } from '../core/kafka/client.ts';
import auth from '../core/http/auth.ts';
import { registerCommon } from '../core/http/common.ts';
import { eventRoutes } from './routes/events.ts';

export interface IngestDeps {
  config: Config;
  producer: EventProducer;
  log: Logger;
  registry: Registry;
  /** Clock (tests pin it). */
  now?: () => number;
}

/** Largest accepted body (design §3: batch ≤ 1 MiB). */
export const BODY_LIMIT = 1024 * 1024;

export async function buildIngest(deps: IngestDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log as unknown as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    trustProxy: deps.config.trustProxy,
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    keepAliveTimeout: 65_000,
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  });
  // Only JSON bodies: without this Fastify would parse text/plain as a string (design §3: 415).
  app.removeContentTypeParser('text/plain');
  await registerCommon(app, {
    registry: deps.registry,
    rateLimitPerMinute: deps.config.ingestRateLimit,
    corsOrigins: deps.config.corsOrigins,
    ready: async () => ({ kafka: deps.producer.connected() && (await kafkaReachable(deps.config.kafkaBrokers)) }),
  });
  await app.register(auth, { keys: deps.config.apiKeys });
  await app.register(eventRoutes, { ...deps, now: deps.now ?? Date.now });
  return app;
}
