// The fraud rules over the demo generator's stream (design §8) at its default volume, normalized
// by ingest's own validateEvent (core/events/validate.ts), against the generator's ground truth:
// issue 4 asks for the false-positive count per rule on demo traffic.
import { describe, expect, it } from 'vitest';
import { generateDemo } from '../../core/demo/index.ts';
import { validateEvent } from '../../core/events/validate.ts';
import type { ViralEvent } from '../../core/events/types.ts';
import { SIGNALS, type SignalName } from './types.ts';
import { comparable, pipeline, shuffledBatches } from './test-support.ts';

const NOW = Date.UTC(2026, 10, 16, 12, 0, 0);

function demoEvents(seed: number) {
  const { events: posted, truth } = generateDemo({ seed, now: NOW, days: 14 });
  const events: ViralEvent[] = posted.map((raw) => {
    const r = validateEvent(raw, { appId: 'demo', receivedAt: NOW, skewMs: 0, ipHash: 'nat-1', hashSalt: 'salt' });
    if (!r.ok) throw new Error(`demo event ${raw.event_id} invalid: ${r.errors.join('; ')}`);
    return r.event;
  });
  return { events, truth };
}

describe('demo traffic (generateDemo, 14 days, default volume)', () => {
  it.each([11, 12])('seed %i: no false positive per rule, every injected case caught', (seed) => {
    const { events, truth } = demoEvents(seed);
    const p = pipeline();
    const out: ReturnType<typeof p.apply>[] = [];
    for (let i = 0; i < events.length; i += 5000) out.push(p.apply(events.slice(i, i + 5000), NOW));
    const held = [...comparable(out).values()];

    const involved = new Set(truth.fraud.flatMap((c) => [...c.user_ids, ...c.related_user_ids]));
    const falsePositives = Object.fromEntries(SIGNALS.map((s) => [s, new Set<string>()])) as Record<SignalName, Set<string>>;
    const flagged = Object.fromEntries(SIGNALS.map((s) => [s, new Set<string>()])) as Record<SignalName, Set<string>>;
    for (const r of held) {
      flagged[r.signal as SignalName].add(r.user_id as string);
      if (!involved.has(r.user_id as string)) falsePositives[r.signal as SignalName].add(r.user_id as string);
    }
    const missed = truth.fraud.flatMap((c) => c.user_ids.filter((u) => !flagged[c.signal].has(u)).map((u) => `${c.pattern}:${u}`));
    const honestUsers = new Set(events.filter((e) => e.type === 'signup' && !involved.has(e.user_id)).map((e) => e.user_id)).size;
    console.log(
      `demo seed ${seed}: ${events.length} events, ${honestUsers} honest users, ${truth.fraud.length} injected cases; ` +
        SIGNALS.map((s) => `${s} flagged ${flagged[s].size} / false positives ${falsePositives[s].size}`).join(', '),
    );
    expect(events.length).toBeGreaterThan(30_000);
    expect(truth.fraud.length).toBeGreaterThan(0);
    expect(missed).toEqual([]);
    expect(Object.fromEntries(SIGNALS.map((s) => [s, [...falsePositives[s]]]))).toEqual(Object.fromEntries(SIGNALS.map((s) => [s, []])));

    // Replay at volume: the same stream shuffled, duplicated and cut into 60 batches holds the same signals.
    const q = pipeline();
    expect(comparable(shuffledBatches(events, seed, 60).map((b) => q.apply(b, NOW)))).toEqual(comparable(out));
  });
});
