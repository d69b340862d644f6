// GET /v1/viral/coefficient and /v1/viral/cohorts (design §7), from the precomputed windows.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { CHANNELS } from '../../core/events/types.ts';
import { ARROW_STREAM, toArrow, wantsArrow, type ColumnType } from '../../core/http/arrow.ts';
import type { Sql } from '../../core/clickhouse/sql.ts';
import { createResponseCache, encodedBody, withGzip } from '../response-cache.ts';
import type { ApiDeps } from '../app.ts';
import { enumParam, GRANULARITIES, onlyParams, rangeParams } from '../params.ts';
import { coefficientQuery, cohortsQuery } from '../queries/viral.ts';

const SEP = '\u0000';
const JSON_TYPE = 'application/json; charset=utf-8';
const iso = (s: number | string) => new Date(Number(s) * 1000).toISOString().replace('.000Z', 'Z');
const num = (v: unknown) => Number(v);

const COEFFICIENT_COLUMNS = {
  window_start: 'string',
  channel: 'string',
  invites_sent: 'int',
  inviters: 'int',
  invites_accepted: 'int',
  conversion_rate: 'float',
  invites_per_inviter: 'float',
  k_factor: 'float',
} as const;
const COHORT_COLUMNS = { window_start: 'string', cohort_size: 'int', referred_signups: 'int', cohort_k: 'float' } as const;

const rangeQuery = {
  type: 'object',
  properties: {
    from: { type: 'string', description: 'RFC 3339; windows starting at or after (default: to − 30 days)' },
    to: { type: 'string', description: 'RFC 3339; windows starting before (default: now)' },
    granularity: { type: 'string', enum: GRANULARITIES, default: 'day' },
  },
} as const;

export const viralRoutes: FastifyPluginAsync<ApiDeps & { now: () => number }> = async (app, deps) => {
  const { ch, now } = deps;
  const cache = createResponseCache({
    ttlMs: deps.config.apiCacheMs,
    staleMs: deps.config.apiCacheStaleMs,
    onRefreshError: (err) => app.log.warn({ err: (err as Error).message }, 'cached answer not refreshed; serving the previous one'),
  });
  // The processors announce new viral-coefficient rows on the updates topic (/v1/stream): the
  // app's cached answers are refreshed on their next request instead of after the TTL.
  const unsubscribe = deps.hub?.subscribeAll((u) => {
    if (u.kind === 'viral_coefficient') cache.expire(u.app_id + SEP);
  });
  app.addHook('onClose', async () => unsubscribe?.());
  /**
   * Sends the series `statement` selects, each row shaped by `shape`, shared by identical
   * requests: same app, route, raw parameters and format → the same serialized answer for
   * API_CACHE_MS (then served while one query refreshes it, up to API_CACHE_STALE_MS longer).
   * Rows are shaped and serialized chunk by chunk as ClickHouse sends them, so building a large
   * answer (30 days × 24 h × 5 channels) never holds the event loop for long; the JSON is the
   * same text as JSON.stringify({ granularity, series }).
   */
  async function sendCached<R extends Record<string, unknown>>(
    req: FastifyRequest,
    reply: FastifyReply,
    route: string,
    columns: Record<string, ColumnType>,
    granularity: string,
    statement: Sql,
    shape: (r: Record<string, string | number>) => R,
  ) {
    const arrow = wantsArrow(req);
    const key = [req.auth!.appId, route, arrow ? 'arrow' : 'json', JSON.stringify(Object.entries(req.query as Record<string, unknown>).sort())].join(SEP);
    const answer = await cache.get(key, async () => {
      const rows: R[] = [];
      const parts: string[] = [];
      await ch.stream<Record<string, string | number>>(
        statement,
        (chunk) => {
          for (const r of chunk) {
            const row = shape(r);
            if (arrow) rows.push(row);
            else parts.push(JSON.stringify(row));
          }
        },
        { maxExecutionTime: 30 },
      );
      if (arrow) return withGzip({ contentType: ARROW_STREAM, body: Buffer.from(toArrow(rows, columns)) });
      return withGzip({ contentType: JSON_TYPE, body: Buffer.from(`{"granularity":${JSON.stringify(granularity)},"series":[${parts.join(',')}]}`) });
    });
    const { body, gzip } = encodedBody(answer, req.headers['accept-encoding']);
    reply.header('content-type', answer.contentType).header('vary', 'accept-encoding');
    if (gzip) reply.header('content-encoding', 'gzip');
    return reply.send(body);
  }

  app.get(
    '/v1/viral/coefficient',
    {
      onRequest: app.requireScope('read'),
      schema: {
        summary: 'Viral coefficient (K-factor) per window and channel (design §5)',
        querystring: { ...rangeQuery, properties: { ...rangeQuery.properties, channel: { type: 'string', enum: [...CHANNELS, 'all'] } } },
      },
    },
    async (req, reply) => {
      const q = req.query as Record<string, unknown>;
      onlyParams(q, ['from', 'to', 'granularity', 'channel']);
      const granularity = enumParam(q, 'granularity', GRANULARITIES, 'day');
      const { from, to } = rangeParams(q, now());
      const channel = q.channel === undefined ? undefined : enumParam(q, 'channel', [...CHANNELS, 'all'] as const);
      return sendCached(req, reply, 'coefficient', COEFFICIENT_COLUMNS, granularity, coefficientQuery(req.auth!.appId, granularity, from, to, channel), (r) => ({
        window_start: iso(r.ws),
        channel: String(r.channel),
        invites_sent: num(r.invites_sent),
        inviters: num(r.inviters),
        invites_accepted: num(r.invites_accepted),
        conversion_rate: num(r.conversion_rate),
        invites_per_inviter: num(r.invites_per_inviter),
        k_factor: num(r.k_factor),
      }));
    },
  );

  app.get(
    '/v1/viral/cohorts',
    {
      onRequest: app.requireScope('read'),
      schema: { summary: 'Cohort viral coefficient per sign-up window (design §5)', querystring: rangeQuery },
    },
    async (req, reply) => {
      const q = req.query as Record<string, unknown>;
      onlyParams(q, ['from', 'to', 'granularity']);
      const granularity = enumParam(q, 'granularity', GRANULARITIES, 'day');
      const { from, to } = rangeParams(q, now());
      return sendCached(req, reply, 'cohorts', COHORT_COLUMNS, granularity, cohortsQuery(req.auth!.appId, granularity, from, to), (r) => ({
        window_start: iso(r.ws),
        cohort_size: num(r.cohort_size),
        referred_signups: num(r.referred_signups),
        cohort_k: num(r.cohort_k),
      }));
    },
  );
};
