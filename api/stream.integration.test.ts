// GET /v1/stream (design §7, issue 6): a client receives an update after posting events, resumes
// with Last-Event-ID, and a read key of another app receives nothing of this app.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTenant, testConfig } from '../core/testing/services.ts';
import { startIngest } from '../ingest/main.ts';
import { startProcessors } from '../processors/main.ts';
import { startApi } from './main.ts';

const tenant = makeTenant('sse');
const other = makeTenant('sse2');
const config = testConfig([tenant, other]);
let ingest: Awaited<ReturnType<typeof startIngest>>;
let processors: Awaited<ReturnType<typeof startProcessors>>;
let api: Awaited<ReturnType<typeof startApi>>;

interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
}

/** Opens an SSE connection and collects parsed events until closed. */
function listen(key: string, lastEventId?: string) {
  const controller = new AbortController();
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const done = (async () => {
    const res = await fetch(`${api.url}/v1/stream`, {
      headers: { authorization: `Bearer ${key}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
      signal: controller.signal,
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    // The raw response carries the reply's headers too (core/http/common.ts).
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const e: SseEvent = {};
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) comments.push(line);
          else if (line.startsWith('id: ')) e.id = line.slice(4);
          else if (line.startsWith('event: ')) e.event = line.slice(7);
          else if (line.startsWith('data: ')) e.data = line.slice(6);
        }
        if (e.event) events.push(e);
      }
    }
  })().catch((err) => {
    if ((err as Error).name !== 'AbortError') throw err;
  });
  return { events, comments, close: async () => (controller.abort(), await done) };
}

async function until<T>(fn: () => T | undefined, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function postInvite(id: string) {
  const res = await fetch(`${ingest.url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant.ingestKey}` },
    body: JSON.stringify({ event_id: id, type: 'invite_sent', occurred_at: Date.now() - 1000, user_id: 'streamer', properties: { invite_id: `inv-${id}`, channel: 'whatsapp' } }),
  });
  expect(res.status).toBe(202);
}

beforeAll(async () => {
  ingest = await startIngest(config);
  processors = await startProcessors(config);
  api = await startApi(config);
});
afterAll(async () => {
  await api?.close();
  await processors?.close();
  await ingest?.close();
});

describe('GET /v1/stream', () => {
  it('pushes viral-coefficient updates of the key’s app only, and resumes with Last-Event-ID', async () => {
    const mine = listen(tenant.readKey);
    const theirs = listen(other.readKey);
    await until(() => mine.comments.length > 0 && theirs.comments.length > 0); // connected
    const posted = Date.now();
    await postInvite('s1');
    const first = await until(() => mine.events.find((e) => e.event === 'viral_coefficient'));
    const latency = Date.now() - posted;
    const rows = JSON.parse(first.data!) as { app_id: string; channel: string; invites_sent: number }[];
    expect(rows.every((r) => r.app_id === tenant.appId)).toBe(true);
    expect(rows.some((r) => r.channel === 'whatsapp' && r.invites_sent === 1)).toBe(true);
    expect(latency).toBeGreaterThan(0); // reported in the note; the 1 s freshness is measured by loadtest/
    await mine.close();

    // Missed while disconnected: a second update, then a resume from the first id.
    await postInvite('s2');
    await new Promise((r) => setTimeout(r, 1500));
    const resumed = listen(tenant.readKey, first.id);
    const replayed = await until(() => resumed.events.find((e) => e.event === 'viral_coefficient' && Number(e.id) > Number(first.id)));
    expect((JSON.parse(replayed.data!) as { app_id: string }[]).every((r) => r.app_id === tenant.appId)).toBe(true);
    expect(resumed.events.every((e) => Number(e.id) > Number(first.id))).toBe(true);
    await resumed.close();

    await theirs.close();
    expect(theirs.events).toEqual([]);
  });

  it('expires the api’s cached coefficient answers of the app when its update arrives', async () => {
    // A TTL far longer than the test: only the update can make the cached answer refresh.
    const cached = await startApi({ ...config, apiCacheMs: 600_000, apiCacheStaleMs: 600_000 });
    try {
      const from = new Date(Date.now() - 86_400_000).toISOString();
      const sent = async () => {
        const res = await fetch(`${cached.url}/v1/viral/coefficient?granularity=day&channel=whatsapp&from=${from}`, { headers: { authorization: `Bearer ${tenant.readKey}` } });
        const body = (await res.json()) as { series: { invites_sent: number }[] };
        return body.series.reduce((a, r) => a + r.invites_sent, 0);
      };
      const before = await sent();
      await postInvite('s3');
      let now = before;
      for (const end = Date.now() + 20_000; now === before && Date.now() < end; ) {
        await new Promise((r) => setTimeout(r, 100));
        now = await sent();
      }
      expect(now).toBe(before + 1);
    } finally {
      await cached.close();
    }
  });

  it('needs a read key', async () => {
    const res = await fetch(`${api.url}/v1/stream`, { headers: { authorization: `Bearer ${tenant.ingestKey}` } });
    expect(res.status).toBe(403);
  });
});
