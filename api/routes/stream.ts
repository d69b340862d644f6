// GET /v1/stream (scope read): Server-Sent Events of the key's app — `viral_coefficient`,
// `experiment_results` and `fraud_signal` updates as the processors write them, a heartbeat
// comment every 15 s, `Last-Event-ID` resume from the hub's buffer. A client that does not read
// (socket buffer over the limit) is disconnected rather than buffered without bound.
import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from '../app.ts';
import type { StreamHub, StreamUpdate } from '../stream-hub.ts';

const HEARTBEAT_MS = 15_000;
/** Bytes queued in the socket before a slow client is dropped. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

export const streamRoutes: FastifyPluginAsync<ApiDeps & { now: () => number; hub: StreamHub }> = async (app, deps) => {
  app.get(
    '/v1/stream',
    { onRequest: app.requireScope('read'), schema: { summary: 'Live metric updates (Server-Sent Events)' } },
    async (req, reply) => {
      const appId = req.auth!.appId;
      const res = reply.raw;
      reply.hijack();
      // The reply's headers (security headers, rate limit) go out with the raw response too.
      res.writeHead(200, {
        ...(reply.getHeaders() as OutgoingHttpHeaders),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      const send = (u: StreamUpdate) => {
        if (res.writableLength > MAX_BUFFERED_BYTES) {
          res.destroy();
          return;
        }
        res.write(`id: ${u.id}\nevent: ${u.kind}\ndata: ${JSON.stringify(u.rows)}\n\n`);
      };
      res.write(`retry: 2000\n: connected\n\n`);
      const lastHeader = req.headers['last-event-id'];
      const lastId = typeof lastHeader === 'string' && /^\d{1,15}$/.test(lastHeader) ? Number(lastHeader) : undefined;
      if (lastId !== undefined) {
        const { updates, complete } = deps.hub.since(appId, lastId);
        if (!complete) res.write(`event: reset\ndata: {"reason":"updates since Last-Event-ID are no longer buffered; reload from the routes"}\n\n`);
        updates.forEach(send);
      }
      const unsubscribe = deps.hub.subscribe(appId, send);
      const heartbeat = setInterval(() => res.write(`: heartbeat ${deps.now()}\n\n`), HEARTBEAT_MS);
      const done = () => {
        clearInterval(heartbeat);
        unsubscribe();
      };
      res.on('close', done);
      res.on('error', done);
    },
  );
};
