// Referral-graph routes (design §7): chains of one user, chain statistics, attribution,
// super-connectors, fraud signals — from the tables the graph and fraud processors upsert.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { sendTabular } from '../../core/http/arrow.ts';
import { chainStatsFromHistogram, chainStatsQuery } from '../../processors/referral-graph/chain-stats.ts';
import type { ApiDeps } from '../app.ts';
import { enumParam, idParam, intParam, onlyParams, optionalId, rangeParams } from '../params.ts';
import { ancestorsQuery, attributionQuery, fraudSignalsQuery, nodesQuery, parentQuery, superConnectorsQuery } from '../queries/graph.ts';

const SIGNALS = ['self_referral', 'referral_cycle', 'invite_velocity', 'device_reuse', 'fast_conversion', 'reward_gaming'] as const;
const TIERS = ['platinum', 'gold', 'silver'] as const;

interface NodeRow {
  user_id: string;
  referrer_id: string;
  root_id: string;
  depth: number;
  status: string;
  signup_at: number;
  direct_referrals: number;
  descendants: number;
  subtree_depth: number;
}

const userParams = { type: 'object', properties: { userId: { type: 'string' } } } as const;

export const graphRoutes: FastifyPluginAsync<ApiDeps & { now: () => number }> = async (app, deps) => {
  const { ch, now, config } = deps;

  async function node(appId: string, userId: string): Promise<NodeRow | undefined> {
    return (await ch.query<NodeRow>(nodesQuery(appId, [userId])))[0];
  }

  /** The `:userId` of a per-user route; 400 naming a bad one. */
  function requestedUser(req: FastifyRequest): { appId: string; userId: string } {
    onlyParams(req.query as Record<string, unknown>, []);
    return { appId: req.auth!.appId, userId: idParam((req.params as { userId: string }).userId, 'userId') };
  }

  function found(userId: string, n: NodeRow | undefined): NodeRow {
    if (!n) throw new AppError('VIRAL_ERR_NOT_FOUND', `userId: no sign-up of user ${userId} is known`);
    return n;
  }

  /** The `:userId` of a per-user route and its node; 404 when the user has no sign-up. */
  async function requestedNode(req: FastifyRequest): Promise<{ appId: string; userId: string; n: NodeRow }> {
    const { appId, userId } = requestedUser(req);
    return { appId, userId, n: found(userId, await node(appId, userId)) };
  }

  /** Accepted referrer of a user, '' when the user's edge is not accepted (or the user is unknown). */
  async function referrerOf(appId: string, userId: string): Promise<string> {
    const [up] = await ch.query<{ referrer_id: string; status: string }>(parentQuery(appId, userId));
    return up && up.status === 'accepted' ? up.referrer_id : '';
  }

  /**
   * The accepted chain above a user, nearest first, at most CHAIN_MAX_DEPTH (design §10), and
   * whether it goes on beyond. From the stored chain (viral.referral_ancestors, looked up beside
   * the node) when it belongs to this node row (it starts at the row's referrer); where that chain
   * is missing (users written before the table existed) or may end early (the processors keep
   * fewer ancestors than asked here, or the chain ends at a pending user), walking on with one
   * lookup per level.
   */
  async function chainAbove(appId: string, userId: string, n: NodeRow, stored: readonly string[] | undefined): Promise<{ ancestors: string[]; truncated: boolean }> {
    const max = config.chainMaxDepth;
    if (n.status !== 'accepted' || n.referrer_id === '') return { ancestors: [], truncated: false };
    const usable = stored !== undefined && stored.length > 0 && stored[0] === n.referrer_id;
    if (usable && stored.length > max) return { ancestors: stored.slice(0, max), truncated: true };
    // A chain that ends at a root holds exactly `depth` ancestors: then the stored one is whole.
    if (usable && stored.length === Number(n.depth)) return { ancestors: [...stored], truncated: false };
    const ancestors = usable ? [...stored] : [];
    const seen = new Set([userId, ...ancestors]);
    let next = usable ? await referrerOf(appId, ancestors[ancestors.length - 1]) : n.referrer_id;
    while (next && ancestors.length < max && !seen.has(next)) {
      ancestors.push(next);
      seen.add(next);
      next = await referrerOf(appId, next);
    }
    return { ancestors, truncated: ancestors.length === max && next !== '' };
  }

  app.get(
    '/v1/viral/chains/:userId',
    { onRequest: app.requireScope('read'), schema: { summary: "A user's place in the referral graph (design §5)", params: userParams } },
    async (req) => {
      const { appId, userId } = requestedUser(req);
      const [maybe, stored] = await Promise.all([node(appId, userId), ch.query<{ ancestors: string[] }>(ancestorsQuery(appId, userId))]);
      const n = found(userId, maybe);
      const { ancestors, truncated } = await chainAbove(appId, userId, n, stored[0]?.ancestors);
      const depth = Number(n.depth);
      return {
        user_id: userId,
        referrer_id: n.referrer_id || null,
        root_id: n.root_id || null,
        depth: depth < 0 ? null : depth,
        status: n.status,
        ancestors,
        ancestors_truncated: truncated,
        direct_referrals: Number(n.direct_referrals),
        descendants: Number(n.descendants),
        subtree_depth: Number(n.subtree_depth),
      };
    },
  );

  app.get(
    '/v1/viral/chains',
    {
      onRequest: app.requireScope('read'),
      schema: {
        summary: 'Depth statistics of referred users whose first sign-up is in [from, to)',
        querystring: { type: 'object', properties: { from: { type: 'string' }, to: { type: 'string' } } },
      },
    },
    async (req, reply) => {
      const q = req.query as Record<string, unknown>;
      onlyParams(q, ['from', 'to']);
      const { from, to } = rangeParams(q, now());
      const stats = chainStatsFromHistogram(await ch.query<{ depth: number; users: string }>(chainStatsQuery(req.auth!.appId, from, to)));
      const rows = Object.entries(stats.depth_histogram).map(([depth, users]) => ({ depth: Number(depth), users }));
      return sendTabular(req, reply, stats, rows, { depth: 'int', users: 'int' });
    },
  );

  app.get(
    '/v1/attribution/:userId',
    { onRequest: app.requireScope('read'), schema: { summary: 'Users and revenue a referrer brought, per currency, net of refunds', params: userParams } },
    async (req) => {
      const { appId, userId, n } = await requestedNode(req);
      const direct: Record<string, number> = {};
      const chain: Record<string, number> = {};
      // A currency row can hold 0 after a buyer moved to another chain: such currencies are left out.
      for (const r of await ch.query<{ currency: string; direct: number; chain: number }>(attributionQuery(appId, userId))) {
        if (Number(r.direct) !== 0) direct[r.currency] = Number(r.direct);
        if (Number(r.chain) !== 0) chain[r.currency] = Number(r.chain);
      }
      return {
        user_id: userId,
        direct_referred_users: Number(n.direct_referrals),
        direct_referred_revenue: direct,
        chain_referred_users: Number(n.descendants),
        chain_referred_revenue: chain,
      };
    },
  );

  app.get(
    '/v1/super-connectors',
    {
      onRequest: app.requireScope('read'),
      schema: {
        summary: 'Super-connectors by score (design §5), optionally one tier',
        querystring: { type: 'object', properties: { tier: { type: 'string', enum: TIERS }, limit: { type: 'string' } } },
      },
    },
    async (req, reply) => {
      const q = req.query as Record<string, unknown>;
      onlyParams(q, ['tier', 'limit']);
      const tier = q.tier === undefined ? undefined : enumParam(q, 'tier', TIERS);
      const limit = intParam(q, 'limit', 100, 1, 10_000);
      const rows = (await ch.query<Record<string, string | number>>(superConnectorsQuery(req.auth!.appId, tier ? [tier] : TIERS, limit))).map((r) => ({
        user_id: String(r.user_id),
        score: Number(r.score),
        tier: String(r.tier),
        quality_referrals: Number(r.quality_referrals),
        indirect_referrals: Number(r.indirect_referrals),
        paying_referrals: Number(r.paying_referrals),
      }));
      return sendTabular(req, reply, rows, rows, {
        user_id: 'string',
        score: 'float',
        tier: 'string',
        quality_referrals: 'int',
        indirect_referrals: 'int',
        paying_referrals: 'int',
      });
    },
  );

  app.get(
    '/v1/fraud/signals',
    {
      onRequest: app.requireScope('read'),
      schema: {
        summary: 'Fraud signals (design §5), newest first',
        querystring: {
          type: 'object',
          properties: { user_id: { type: 'string' }, signal: { type: 'string', enum: SIGNALS }, from: { type: 'string' }, to: { type: 'string' }, limit: { type: 'string' } },
        },
      },
    },
    async (req, reply) => {
      const q = req.query as Record<string, unknown>;
      onlyParams(q, ['user_id', 'signal', 'from', 'to', 'limit']);
      const userId = optionalId(q, 'user_id');
      const signal = q.signal === undefined ? undefined : enumParam(q, 'signal', SIGNALS);
      const { from, to } = rangeParams(q, now() + 60_000, 3660);
      const limit = intParam(q, 'limit', 100, 1, 10_000);
      const rows = (await ch.query<Record<string, string | number>>(fraudSignalsQuery(req.auth!.appId, { userId, signal, from, to, limit }))).map((r) => ({
        user_id: String(r.user_id),
        signal: String(r.signal),
        event_id: String(r.event_id),
        detected_at: new Date(Number(r.detected_at) * 1000).toISOString().replace('.000Z', 'Z'),
        evidence: JSON.parse(String(r.evidence)) as unknown,
      }));
      return sendTabular(req, reply, rows, rows, { user_id: 'string', signal: 'string', event_id: 'string', detected_at: 'string', evidence: 'string' });
    },
  );
};
