// GET /v1/viral/coefficient and /v1/viral/cohorts (design §7), from the precomputed windows.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { CHANNELS } from '../../core/events/types.ts';
import { wantsArrow } from '../../core/http/arrow.ts';
import type { Sql } from '../../core/clickhouse/sql.ts';
import { createResponseCache, encodedBody } from '../response-cache.ts';
import { buildSeries, type SeriesRoute } from '../series.ts';
import type { ApiDeps } from '../app.ts';
import { enumParam, GRANULARITIES, onlyParams, rangeParams } from '../params.ts';
import { coefficientQuery, cohortsQuery } from '../queries/viral.ts';

const SEP = '\u0000';

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
   * Sends the series `statement` selects, shared by identical requests: same app, route, raw
   * parameters and format → the same serialized answer for API_CACHE_MS (then served while one
   * query refreshes it, up to API_CACHE_STALE_MS longer). The answer is built by api/series.ts —
   * in the series worker thread when the api has one (api/main.ts), so building a large answer
   * (30 days × 24 h × 5 channels) does not hold the event loop.
   */
  async function sendCached(req: FastifyRequest, reply: FastifyReply, route: SeriesRoute, granularity: string, statement: Sql) {
    const arrow = wantsArrow(req);
    const key = [req.auth!.appId, route, arrow ? 'arrow' : 'json', JSON.stringify(Object.entries(req.query as Record<string, unknown>).sort())].join(SEP);
    const answer = await cache.get(key, () => {
      const job = { route, statement: statement.text, granularity, arrow };
      return deps.series ? deps.series.build(job) : buildSeries(ch, job);
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
      return sendCached(req, reply, 'coefficient', granularity, coefficientQuery(req.auth!.appId, granularity, from, to, channel));
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
      return sendCached(req, reply, 'cohorts', granularity, cohortsQuery(req.auth!.appId, granularity, from, to));
    },
  );
};
