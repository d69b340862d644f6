// The bare Fastify reference (design §8): the same framework on the same machine with nothing
// behind it — no auth, rate limit, helmet, validation, Kafka or ClickHouse. GET /bare is the api's
// reference; POST /bare/events parses the same JSON bodies ingest gets and answers 202, the HTTP +
// JSON-parse ceiling of ingest. PUT /bare/body stores a response (its bytes, content-type and
// content-encoding) that GET /bare/body then serves as is: the reference for a route whose answer
// is large (the coefficient route's gzipped 30 days), since moving those bytes through HTTP and
// the load generator costs the same whatever computed them. Port from BARE_PORT.
import Fastify from 'fastify';

const app = Fastify({ logger: false, bodyLimit: 1024 * 1024, keepAliveTimeout: 65_000 });
app.get('/health', async () => ({ status: 'ok' }));
app.get('/bare', async () => ({ ok: true }));
let stored: { body: Buffer; type: string; encoding?: string } = { body: Buffer.from('{}'), type: 'application/json' };
app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
app.put('/bare/body', async (req, reply) => {
  const h = (name: string) => (typeof req.headers[name] === 'string' ? (req.headers[name] as string) : undefined);
  stored = { body: req.body as Buffer, type: h('x-body-type') ?? 'application/json', encoding: h('x-body-encoding') };
  return reply.code(204).send();
});
app.get('/bare/body', async (_req, reply) => {
  reply.header('content-type', stored.type);
  if (stored.encoding) reply.header('content-encoding', stored.encoding);
  return reply.send(stored.body);
});
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
