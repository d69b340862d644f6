// Graceful shutdown (design §10, issue 8): SIGTERM while clients are posting loses nothing — every
// request answered 202 before the process exited is in Kafka; the others failed visibly.
import { afterAll, describe, expect, it, inject } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { eventually, freePorts, makeTenant, readTopic, testEnv } from '../core/testing/services.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const tenant = makeTenant('term');
const [port] = await freePorts(1);
const env = testEnv([tenant], { INGEST_PORT: String(port), LOG_LEVEL: 'fatal' });
const url = `http://127.0.0.1:${port}`;
const child = spawn(process.execPath, ['--import', 'tsx', 'ingest/main.ts'], { cwd: root, env: { ...process.env, ...env }, stdio: 'ignore' });
afterAll(() => {
  if (child.exitCode === null) child.kill('SIGKILL');
});

describe('ingest SIGTERM under load', () => {
  it('keeps every acknowledged event', async () => {
    await eventually(async () => (await fetch(`${url}/health`).catch(() => undefined))?.ok, 30_000, 'ingest up');
    const acknowledged: string[] = [];
    let failed = 0;
    let n = 0;
    let running = true;
    const client = async () => {
      while (running) {
        const ids = Array.from({ length: 20 }, () => `t-${n++}`);
        const res = await fetch(`${url}/v1/events/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant.ingestKey}` },
          body: JSON.stringify({ events: ids.map((id) => ({ event_id: id, type: 'signup', occurred_at: Date.now() - 1000, user_id: id })) }),
        }).catch(() => undefined);
        if (res?.status === 202) acknowledged.push(...ids);
        else {
          failed++;
          if (!res) await new Promise((r) => setTimeout(r, 20));
        }
      }
    };
    const clients = Array.from({ length: 8 }, client);
    await new Promise((r) => setTimeout(r, 1500));
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    running = false;
    await Promise.all(clients);
    expect(acknowledged.length).toBeGreaterThan(100);
    expect(failed).toBeGreaterThan(0); // requests after the close were refused, not silently dropped
    const messages = await readTopic(inject('kafkaBrokers'), env.EVENTS_TOPIC, acknowledged.length, 30_000);
    const inKafka = new Set(messages.map((m) => JSON.parse(m.value).event_id as string));
    const lost = acknowledged.filter((id) => !inKafka.has(id));
    expect(lost).toEqual([]);
  });
});
