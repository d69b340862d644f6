// POST /v1/events and POST /v1/events/batch (design §3).
//
// Each posted event is validated on its own (per-index errors); valid ones are produced to
// `viral.events.v1` keyed by user_id, rejected ones (raw, with their reasons) to the dead-letter
// topic, both in the same acks=all send, and the answer is 202 only after Kafka acknowledged
// them. Kafka down → 503 + Retry-After and nothing is reported accepted (the client retries; a
// retry of events that did reach Kafka is collapsed by event_id downstream).
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { BATCH_SCHEMA, ERROR_SCHEMA, EVENT_SCHEMA, INGEST_RESPONSE_SCHEMA } from '../../core/events/schema.ts';
import { cachedHashId, parseTime, validateEvent } from '../../core/events/validate.ts';
import type { OutMessage } from '../../core/kafka/client.ts';
import { counter, histogram } from '../../core/metrics.ts';
import { toDeadLetter } from '../../core/kafka/dead-letter.ts';
import type { IngestDeps } from '../app.ts';
import { RecentKeys } from './recent-keys.ts';
import { serializeEvent } from './serialize.ts';

interface Rejected {
  index: number;
  errors: string[];
}

/** Recently acknowledged event ids, per app: a re-post is answered as a duplicate. At least the
 * last 100,000 of each app are remembered, at most 200,000. */
const SEEN_GENERATION = 100_000;

export const eventRoutes: FastifyPluginAsync<IngestDeps & { now: () => number }> = async (app, deps) => {
  const { config, producer, registry, now } = deps;
  // Per app, so the key is the event_id string as parsed (no concatenated key to flatten and hash).
  const seenByApp = new Map<string, RecentKeys>();
  const eventsTotal = counter(registry, 'viral_ingest_events_total', 'Events by outcome', ['outcome']);
  const sendSeconds = histogram(registry, 'viral_ingest_kafka_ack_seconds', 'Time from request to Kafka ack', [], [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5]);

  async function ingest(req: FastifyRequest, reply: FastifyReply, rawEvents: unknown[], sentAt: unknown, single: boolean) {
    const appId = req.auth!.appId;
    const receivedAt = now();
    let skewMs = 0;
    if (sentAt !== undefined) {
      const t = parseTime(sentAt);
      skewMs = receivedAt - t;
    }
    // The IP is the same for every event of the request (and usually of the connection).
    const ipHash = cachedHashId(config.hashSalt, req.ip ?? '');
    const ctx = { appId, receivedAt, skewMs, ipHash, hashSalt: config.hashSalt };
    let seen = seenByApp.get(appId);
    if (!seen) seenByApp.set(appId, (seen = new RecentKeys(SEEN_GENERATION)));
    const messages: OutMessage[] = [];
    const rejected: Rejected[] = [];
    const fresh: string[] = [];
    const inRequest = new Set<string>();
    let duplicates = 0;
    for (let index = 0; index < rawEvents.length; index++) {
      const raw = rawEvents[index];
      const result = validateEvent(raw, ctx);
      if (!result.ok) {
        rejected.push({ index, errors: result.errors });
        messages.push(toDeadLetter(config.dlqTopic, { app_id: appId, index, errors: result.errors, raw, received_at: receivedAt, source: 'ingest' }));
        continue;
      }
      const eventId = result.event.event_id;
      if (inRequest.has(eventId) || seen.has(eventId)) {
        duplicates++;
        continue;
      }
      inRequest.add(eventId);
      fresh.push(eventId);
      messages.push({ topic: config.eventsTopic, key: result.event.user_id, value: serializeEvent(result.event) });
    }
    const stop = sendSeconds.startTimer();
    try {
      await producer.send(messages);
    } catch (err) {
      eventsTotal.inc({ outcome: 'unavailable' }, rawEvents.length);
      const e = err instanceof AppError ? err : new AppError('VIRAL_ERR_KAFKA_UNAVAILABLE', undefined, { cause: err });
      req.log.warn({ err: e.message }, 'Kafka unavailable: answering 503');
      return reply.code(503).header('retry-after', '5').send({ error: 'kafka_unavailable', message: e.message });
    }
    stop();
    for (const k of fresh) seen.add(k);
    const accepted = fresh.length;
    eventsTotal.inc({ outcome: 'accepted' }, accepted);
    eventsTotal.inc({ outcome: 'duplicate' }, duplicates);
    eventsTotal.inc({ outcome: 'rejected' }, rejected.length);
    const body = { accepted, duplicates, rejected };
    // A single event that fails validation is a bad request; it is still in the dead-letter topic.
    if (single && rejected.length) return reply.code(400).send({ error: 'invalid_event', message: rejected[0].errors.join('; '), ...body });
    return reply.code(202).send(body);
  }

  app.post(
    '/v1/events',
    {
      onRequest: app.requireScope('ingest'),
      schema: {
        summary: 'Post one viral event',
        // No body schema: a JSON body that is not an event object must still reach validateEvent
        // so it is answered with its reasons and dead-lettered (design §3).
        response: { 202: INGEST_RESPONSE_SCHEMA, '4xx': ERROR_SCHEMA },
        description: `Event schema: ${JSON.stringify(EVENT_SCHEMA.required)} required`,
      },
    },
    async (req, reply) => ingest(req, reply, [req.body], undefined, true),
  );

  app.post(
    '/v1/events/batch',
    {
      onRequest: app.requireScope('ingest'),
      schema: { summary: 'Post up to 1,000 viral events (≤ 1 MiB)', response: { 202: INGEST_RESPONSE_SCHEMA, '4xx': ERROR_SCHEMA } },
    },
    async (req, reply) => {
      const body = req.body as Record<string, unknown> | null;
      const problem = batchProblem(body);
      if (problem) {
        // Nothing of this request is accepted; keep what was sent in the dead-letter topic anyway.
        await producer
          .send([toDeadLetter(config.dlqTopic, { app_id: req.auth!.appId, errors: [problem.message], raw: body, received_at: now(), source: 'ingest' })])
          .catch((err: Error) => req.log.error({ err: err.message }, 'dead letter of a rejected request not written'));
        return reply.code(problem.status).send({ error: problem.status === 413 ? 'payload_too_large' : 'bad_request', message: problem.message });
      }
      return ingest(req, reply, body!.events as unknown[], body!.sent_at, false);
    },
  );
};

function batchProblem(body: Record<string, unknown> | null): { status: number; message: string } | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { status: 400, message: 'body must be a JSON object {"events": [...]}' };
  if (!Array.isArray(body.events)) return { status: 400, message: 'events: must be an array of events' };
  if (body.events.length === 0) return { status: 400, message: 'events: must hold at least one event' };
  if (body.events.length > BATCH_SCHEMA.properties.events.maxItems) {
    return { status: 413, message: `events: at most ${BATCH_SCHEMA.properties.events.maxItems} events per batch, got ${body.events.length}` };
  }
  if (body.sent_at !== undefined && !Number.isFinite(parseTime(body.sent_at))) return { status: 400, message: 'sent_at: must be an RFC 3339 date-time or epoch milliseconds' };
  return undefined;
}
