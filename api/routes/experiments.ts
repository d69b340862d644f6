// Experiments (design §6–§7): definitions (PUT scope admin, GET scope read), deterministic
// assignment (scope ingest or read, no I/O: definitions come from an in-memory cache refreshed
// every few seconds and updated at once by a PUT here), and results (the latest look the results
// job stored, or computed on the spot when there is none yet or the definition changed since).
import type { FastifyPluginAsync } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { rowVersion } from '../../core/processor.ts';
import { sendTabular } from '../../core/http/arrow.ts';
import { assignVariant } from '../../core/experiments/assign.ts';
import { createDefinitionCache } from '../../core/experiments/cache.ts';
import { GOAL_EVENTS, GOAL_KINDS, isExperimentId, validateDefinition } from '../../core/experiments/definition.ts';
import { latestResultsQuery, type ResultRow } from '../../core/experiments/queries.ts';
import { readDefinitions, writeDefinition, type StoredExperiment } from '../../core/experiments/store.ts';
import { computeExperimentResult } from '../../processors/experiments/results-job.ts';
import type { ExperimentResultDocument } from '../../processors/experiments/results.ts';
import type { ApiDeps } from '../app.ts';
import { badParam, idParam, onlyParams } from '../params.ts';

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

function experimentId(params: unknown): string {
  const id = (params as { id?: unknown }).id;
  if (!isExperimentId(id)) throw badParam('id', 'must be 1 to 64 characters of A-Z a-z 0-9 _ . -');
  return id;
}

const notFound = (id: string) => new AppError('VIRAL_ERR_NOT_FOUND', `experiment ${id} is not defined for this app`);

function publicDefinition(e: StoredExperiment) {
  return { experiment_id: e.experiment_id, ...e.definition, updated_at: iso(e.updated_at) };
}

const idParams = { type: 'object', properties: { id: { type: 'string' } } } as const;
const definitionBody = {
  type: 'object',
  description: 'Validated in code so every error names its field (design §6)',
  properties: {
    variants: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, weight: { type: 'number', exclusiveMinimum: 0 } } } },
    control: { type: 'string' },
    goal: { type: 'object', properties: { kind: { type: 'string', enum: GOAL_KINDS }, event: { type: 'string', enum: GOAL_EVENTS } } },
  },
} as const;

const RESULT_COLUMNS = {
  variant: 'string',
  exposures: 'int',
  conversions: 'int',
  conversion_rate: 'float',
  abs_diff: 'float',
  abs_diff_ci_low: 'float',
  abs_diff_ci_high: 'float',
  lift: 'float',
  lift_ci_low: 'float',
  lift_ci_high: 'float',
  z: 'float',
  p_value: 'float',
  p_value_holm: 'float',
  p_value_sequential: 'float',
  chance_to_beat_control: 'float',
  revenue_mean: 'float',
  revenue_variance: 'float',
  revenue_t: 'float',
  revenue_p_value: 'float',
} as const;

/** The variants as a flat table (Arrow answer: one row per variant, CIs and revenue unnested). */
function resultTable(doc: ExperimentResultDocument): Record<string, unknown>[] {
  return doc.variants.map((v) => ({
    ...v,
    abs_diff_ci_low: v.abs_diff_ci?.[0] ?? null,
    abs_diff_ci_high: v.abs_diff_ci?.[1] ?? null,
    lift_ci_low: v.lift_ci?.[0] ?? null,
    lift_ci_high: v.lift_ci?.[1] ?? null,
    revenue_mean: v.revenue.mean,
    revenue_variance: v.revenue.variance,
    revenue_t: v.revenue.t,
    revenue_p_value: v.revenue.p_value,
  }));
}

export const experimentRoutes: FastifyPluginAsync<ApiDeps & { now: () => number }> = async (app, deps) => {
  const { ch, now } = deps;
  const cache = createDefinitionCache({ ch, log: deps.log });
  await cache.refresh();
  cache.start();
  app.addHook('onClose', async () => cache.stop());

  app.put(
    '/v1/experiments/:id',
    {
      onRequest: app.requireScope('admin'),
      schema: { summary: 'Create or replace an experiment definition (design §6)', params: idParams, body: definitionBody },
      // The schema documents the body; validateDefinition checks it, so that every error names
      // its field the same way and nothing is coerced (Fastify's Ajv would turn "50" into 50).
      validatorCompiler: () => () => true,
    },
    async (req, reply) => {
      const id = experimentId(req.params);
      const result = validateDefinition(req.body);
      if (!result.ok) return reply.code(400).send({ error: 'bad_request', message: result.errors.join('; '), errors: result.errors });
      const t = now();
      const stored: StoredExperiment = { app_id: req.auth!.appId, experiment_id: id, definition: result.definition, updated_at: Math.floor(t / 1000) * 1000, version: rowVersion(t) };
      await writeDefinition(ch, stored);
      cache.put(stored);
      return publicDefinition(stored);
    },
  );

  app.get('/v1/experiments', { onRequest: app.requireScope('read'), schema: { summary: "The app's experiment definitions (design §6)" } }, async (req) => {
    onlyParams(req.query as Record<string, unknown>, []);
    return { experiments: (await readDefinitions(ch, req.auth!.appId)).map(publicDefinition) };
  });

  app.get(
    '/v1/experiments/:id/assignment',
    {
      onRequest: app.requireScope('ingest', 'read'),
      schema: {
        summary: "A user's variant: deterministic, sticky, no I/O (design §6)",
        params: idParams,
        querystring: { type: 'object', properties: { user_id: { type: 'string' } } },
        response: {
          200: {
            type: 'object',
            properties: { experiment_id: { type: 'string' }, user_id: { type: 'string' }, variant: { type: 'string' }, bucket: { type: 'integer' } },
          },
        },
      },
    },
    async (req) => {
      const id = experimentId(req.params);
      const q = req.query as Record<string, unknown>;
      onlyParams(q, ['user_id']);
      const userId = idParam(q.user_id, 'user_id');
      if (!cache.loaded()) throw new AppError('VIRAL_ERR_CLICKHOUSE_UNAVAILABLE', 'experiment definitions are not loaded yet; retry shortly');
      const e = cache.get(req.auth!.appId, id);
      if (!e) throw notFound(id);
      return assignVariant(id, userId, e.definition.variants, e.bounds);
    },
  );

  app.get(
    '/v1/experiments/:id/results',
    { onRequest: app.requireScope('read'), schema: { summary: 'Per-variant results against control (design §6–§7)', params: idParams } },
    async (req, reply) => {
      const id = experimentId(req.params);
      onlyParams(req.query as Record<string, unknown>, []);
      const appId = req.auth!.appId;
      const experiment = (await readDefinitions(ch, appId)).find((e) => e.experiment_id === id);
      if (!experiment) throw notFound(id);
      const [stored] = await ch.query<ResultRow>(latestResultsQuery([{ app_id: appId, experiment_id: id }]));
      // A look older than the definition may use another goal or control: compute a fresh one.
      const doc: ExperimentResultDocument =
        stored && Number(stored.computed_at) * 1000 > experiment.updated_at ? JSON.parse(stored.result) : await computeExperimentResult(ch, experiment, now());
      return sendTabular(req, reply, doc, resultTable(doc), RESULT_COLUMNS);
    },
  );
};
