import { describe, it, expect } from 'vitest';
import { validateEvent } from '../../core/events/validate.ts';
import { batchTemplates, bodyFactory, demoEvents, normalizedTemplates, singleTemplates } from './bodies.ts';

const NOW = Date.UTC(2026, 5, 1, 12);
const events = demoEvents({ seed: 3, days: 3, seedUsers: 40 }, NOW);
const ctx = { appId: 'lt', receivedAt: NOW, skewMs: 0, ipHash: '', hashSalt: 'salt-salt-salt-salt' };

describe('load bodies', () => {
  it('cuts full batches of the demo events, in order', () => {
    const t = batchTemplates(events, 10);
    expect(t).toHaveLength(Math.floor(events.length / 10));
    const body = JSON.parse(bodyFactory(t, 'x')()) as { events: { user_id: string; type: string }[] };
    expect(body.events.map((e) => [e.user_id, e.type])).toEqual(events.slice(0, 10).map((e) => [e.user_id, e.type]));
  });

  it('gives every event of every body a fresh event_id, valid for ingest', () => {
    const next = bodyFactory(batchTemplates(events, 10), 'w0');
    const seen = new Set<string>();
    const rounds = Math.ceil(events.length / 10) * 2 + 3; // wraps around the templates twice
    for (let i = 0; i < rounds; i++) {
      for (const e of (JSON.parse(next()) as { events: Record<string, unknown>[] }).events) {
        const r = validateEvent(e, ctx);
        expect(r.ok).toBe(true);
        seen.add(e.event_id as string);
      }
    }
    expect(seen.size).toBe(rounds * 10);
  });

  it('single bodies are the posted events with only the event_id changed', () => {
    const t = singleTemplates(events);
    const next = bodyFactory(t, 'tag');
    const first = JSON.parse(next()) as Record<string, unknown>;
    expect(first.event_id).toBe('tag.0.0');
    expect({ ...first, event_id: events[0].event_id }).toEqual(events[0]);
  });

  it('keys normalized messages by user_id and keeps every valid event', () => {
    const n = normalizedTemplates(events, 'app1', NOW);
    expect(n).toHaveLength(events.filter((e) => validateEvent(e, ctx).ok).length);
    const v = JSON.parse(n[5].value.join('k.1.')) as { app_id: string; user_id: string; event_id: string };
    expect(v).toMatchObject({ app_id: 'app1', user_id: n[5].key, event_id: 'k.1.0' });
  });
});
