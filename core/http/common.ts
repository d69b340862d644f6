// Pieces every HTTP service shares: /health, /ready, /metrics, security headers, per-key rate
// limit, CORS, and the error shape `{error, message}`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyError } from 'fastify';
import helmet from 'helmet';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import type { Registry } from 'prom-client';
import { AppError } from '../errors.ts';

export interface CommonOptions {
  registry: Registry;
  ready: () => Promise<Record<string, boolean>>;
  rateLimitPerMinute: number;
  corsOrigins: string;
}

export async function registerCommon(app: FastifyInstance, o: CommonOptions): Promise<void> {
  // helmet's security headers on every answer (no CSP: JSON and SSE only). Without a CSP they do
  // not depend on the request, so helmet runs once here and every reply gets the recorded headers
  // through Fastify: run as middleware per request, each header went through the raw response's
  // setHeader and then Fastify's own headers were merged into them (3–7 µs of CPU per request at
  // saturation: a bare app with helmet alone / the api; @fastify/helmet, which builds the
  // middleware per request, cost ~7 µs more).
  // A route that writes the raw response itself sends reply.getHeaders() (api/routes/stream.ts).
  const securityHeaders = recordHeaders(helmet({ contentSecurityPolicy: false }));
  app.addHook('onRequest', (_req, reply, done) => {
    reply.headers(securityHeaders);
    done();
  });
  if (o.corsOrigins) {
    await app.register(cors, {
      origin: o.corsOrigins === '*' ? true : o.corsOrigins.split(',').map((s) => s.trim()),
      allowedHeaders: ['Authorization', 'Content-Type', 'Last-Event-ID'],
      methods: ['GET', 'POST', 'PUT', 'DELETE'],
      maxAge: 600,
    });
  }
  // Per key (the bearer token's prefix-free digest would need the auth step; the raw header is
  // only used as a map key inside the limiter and never logged), falling back to the client IP.
  await app.register(rateLimit, {
    global: true,
    max: o.rateLimitPerMinute,
    timeWindow: 60_000,
    cache: 50_000,
    keyGenerator: (req) => (typeof req.headers.authorization === 'string' ? req.headers.authorization : req.ip),
    allowList: (req) => req.url === '/health' || req.url === '/ready' || req.url === '/metrics',
    errorResponseBuilder: (_req, ctx) => ({
      statusCode: 429,
      error: 'rate_limited',
      message: `rate limit of ${ctx.max} requests per minute for this key exceeded; retry in ${Math.ceil(ctx.ttl / 1000)} s`,
    }),
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode ?? (err instanceof AppError ? err.status : 500);
    if (status >= 500) req.log.error({ err }, 'request failed');
    const code =
      status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : status === 429 ? 'rate_limited' : status === 404 ? 'not_found' : status === 503 ? 'unavailable' : status >= 500 ? 'internal' : 'bad_request';
    const message = status >= 500 && !(err instanceof AppError) ? 'internal error' : err.validation ? validationMessage(err) : err.message;
    if ((err as { retryAfter?: number }).retryAfter) reply.header('retry-after', String((err as { retryAfter?: number }).retryAfter));
    reply.code(status).send({ error: code, message });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` }));

  app.get('/health', { config: { rateLimit: false } }, async () => ({ status: 'ok' }));
  app.get('/ready', { config: { rateLimit: false } }, async (_req, reply) => {
    const checks = await o.ready();
    const ok = Object.values(checks).every(Boolean);
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'unready', checks });
  });
  app.get('/metrics', { config: { rateLimit: false } }, async (_req, reply) => {
    reply.header('content-type', o.registry.contentType);
    return o.registry.metrics();
  });
}

/**
 * The headers a request-independent middleware sets, recorded by running it once on a stand-in
 * response. Throws when it does not finish at once or calls anything on the response but
 * setHeader/removeHeader (it would then depend on the request or the answer, e.g. a CSP nonce).
 */
export function recordHeaders(middleware: (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void): Record<string, string> {
  const headers: Record<string, string> = {};
  const res = {
    setHeader: (name: string, value: unknown) => void (headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value)),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
  };
  let finished = false;
  middleware({} as IncomingMessage, res as unknown as ServerResponse, (err) => {
    if (err) throw err;
    finished = true;
  });
  if (!finished) throw new Error('recordHeaders: the middleware did not finish synchronously');
  return headers;
}

/** "tier: must be equal to one of the allowed values (platinum, gold, silver)" — the parameter first. */
function validationMessage(err: FastifyError): string {
  const v = err.validation![0];
  const params = v.params as { missingProperty?: string; allowedValues?: unknown[] };
  const name = params.missingProperty ?? v.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const allowed = params.allowedValues ? ` (${params.allowedValues.join(', ')})` : '';
  return `${name || err.validationContext || 'request'}: ${v.message ?? 'is invalid'}${allowed}`;
}
