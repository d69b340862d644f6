// The bare Fastify reference (design §8): the same framework on the same machine with nothing
// behind it — no auth, rate limit, helmet, validation, Kafka or ClickHouse. GET /bare is the api's
// reference; POST /bare/events parses the same JSON bodies ingest gets and answers 202, the HTTP +
// JSON-parse ceiling of ingest. Port from BARE_PORT.
import Fastify from 'fastify';

const app = Fastify({ logger: false, bodyLimit: 1024 * 1024, keepAliveTimeout: 65_000 });
app.get('/health', async () => ({ status: 'ok' }));
app.get('/bare', async () => ({ ok: true }));
app.post('/bare/events', async (req, reply) => {
  const body = req.body as { events?: unknown[] };
  return reply.code(202).send({ accepted: Array.isArray(body?.events) ? body.events.length : 1, duplicates: 0, rejected: [] });
});
await app.listen({ host: '127.0.0.1', port: Number(process.env.BARE_PORT ?? 0) });
const stop = async () => {
  await app.close();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
