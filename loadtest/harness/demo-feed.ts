// Feeds the demo stream (core/demo) into ingest: first the simulated history, then every second
// the events whose time has come. Used by the start command; loadtest reuses `postBatches`.
import type { Logger } from 'pino';
import { createDemoStream, type PostedEvent } from '../../core/demo/index.ts';

export interface DemoFeedOptions {
  ingestUrl: string;
  ingestKey: string;
  log: Logger;
  seed: number;
  days?: number;
  seedUsers?: number;
}

/**
 * Posts events in batches of `size`, retrying 429/503 answers after their Retry-After. With
 * `sentAt` each batch carries the client clock, so ingest corrects clock skew (design §3); tests
 * that recompute from the posted events turn it off to get exactly the posted times.
 */
export async function postBatches(ingestUrl: string, key: string, events: PostedEvent[], size = 500, sentAt = true): Promise<{ accepted: number; rejected: number }> {
  let accepted = 0;
  let rejected = 0;
  for (let i = 0; i < events.length; i += size) {
    const body = JSON.stringify(sentAt ? { sent_at: Date.now(), events: events.slice(i, i + size) } : { events: events.slice(i, i + size) });
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(`${ingestUrl}/v1/events/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body,
      });
      if (res.status === 202) {
        const r = (await res.json()) as { accepted: number; rejected: unknown[] };
        accepted += r.accepted;
        rejected += r.rejected.length;
        break;
      }
      if ((res.status === 429 || res.status === 503) && attempt < 20) {
        await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 1000));
        continue;
      }
      throw new Error(`ingest answered ${res.status}: ${await res.text()}`);
    }
  }
  return { accepted, rejected };
}

export function startDemoFeed(o: DemoFeedOptions): { stop(): Promise<void> } {
  const stream = createDemoStream({ seed: o.seed, now: Date.now(), days: o.days ?? 14, seedUsers: o.seedUsers });
  let running = true;
  const loop = (async () => {
    const history = stream.next(Date.now());
    const t = Date.now();
    const r = await postBatches(o.ingestUrl, o.ingestKey, history);
    o.log.info({ events: history.length, accepted: r.accepted, rejected: r.rejected, ms: Date.now() - t, eventsPerSecond: Math.round(history.length / ((Date.now() - t) / 1000)) }, 'demo history posted');
    while (running) {
      await new Promise((r) => setTimeout(r, 1000));
      const live = stream.next(Date.now());
      if (live.length) await postBatches(o.ingestUrl, o.ingestKey, live).catch((err) => o.log.warn({ err: err.message }, 'demo post failed'));
    }
  })().catch((err) => o.log.error({ err: err.message }, 'demo feed stopped'));
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}
