// DELETE /v1/users/:id (scope admin, design §10): the erase request is written durably to Kafka
// (acks = all) and answered 202; the processors delete the user's raw events, rebuild every
// derived table of the app without them and drop the app's older rows (core/kafka/run-pipeline.ts).
import type { FastifyPluginAsync } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { ApiDeps } from '../app.ts';
import { idParam } from '../params.ts';

export const userRoutes: FastifyPluginAsync<ApiDeps & { now: () => number }> = async (app, deps) => {
  app.delete(
    '/v1/users/:id',
    {
      onRequest: app.requireScope('admin'),
      schema: {
        summary: "Erase a user's raw events and every derived row that includes them (design §10)",
        params: { type: 'object', properties: { id: { type: 'string' } } },
      },
    },
    async (req, reply) => {
      const userId = idParam((req.params as { id: string }).id, 'id');
      const requestId = randomUUID();
      if (!deps.producer) return reply.code(503).send({ error: 'unavailable', message: 'erasure needs Kafka, which this api has no connection to' });
      try {
        await deps.producer.send([
          { topic: deps.config.erasuresTopic, key: req.auth!.appId, value: JSON.stringify({ request_id: requestId, app_id: req.auth!.appId, user_id: userId, requested_at: deps.now() }) },
        ]);
      } catch (err) {
        return reply.code(503).header('retry-after', '5').send({ error: 'kafka_unavailable', message: (err as Error).message });
      }
      return reply.code(202).send({ request_id: requestId, user_id: userId, status: 'accepted' });
    },
  );
};
