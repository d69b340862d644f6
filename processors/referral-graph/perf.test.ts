// Perf smoke check (no timed assertion): events/s of the graph and of the three processors over
// a 200k-event viral forest, in order (the live stream) and shuffled in one batch (a restore
// replay). The shuffled run is also checked against the batch reference.
import { describe, it, expect } from 'vitest';
import type { ViralEvent } from '../../core/events/types.ts';
import { createAttributionProcessor } from './attribution.ts';
import { referenceCompute } from './batch-reference.ts';
import { ReferralGraph } from './graph.ts';
import { createReferralGraphProcessor } from './graph-processor.ts';
import { createSuperConnectorProcessor, DEFAULT_SUPER_CONNECTOR_CONFIG } from './super-connectors.ts';
import { invite, purchase, signup } from './test-builders.ts';

/** A branching process: each new user is referred (by invitation or code) by a random earlier user. */
function forest(n: number): ViralEvent[] {
  let s = 42;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
  const events: ViralEvent[] = [];
  let users = 0;
  for (let t = 0; events.length < n; t++) {
    const u = 'u' + users;
    if (users === 0 || rnd() < 0.05) events.push(signup(u, t));
    else {
      const r = 'u' + Math.floor(rnd() * users);
      if (rnd() < 0.6) events.push(invite(r, 'i' + t, t), signup(u, t + 1, { invite: 'i' + t }));
      else events.push(signup(u, t + 1, { ref: r }));
    }
    users++;
    if (rnd() < 0.15) events.push(purchase(u, 'o' + t, Math.floor(rnd() * 10_000) / 100, rnd() < 0.8 ? 'USD' : 'EUR', t + 2));
  }
  return events;
}

function rate(label: string, n: number, run: () => void): void {
  const t0 = performance.now();
  run();
  const ms = performance.now() - t0;
  console.log(`${label}: ${n} events in ${ms.toFixed(0)} ms = ${Math.round((n / ms) * 1000).toLocaleString('en')} events/s`);
}

describe('perf smoke', () => {
  const events = forest(200_000);

  it('graph and processors over 200k events', { timeout: 120_000 }, () => {
    rate('graph, in order, batches of 1000', events.length, () => {
      const g = new ReferralGraph();
      for (let i = 0; i < events.length; i += 1000) g.apply(events.slice(i, i + 1000));
    });

    const shuffled = [...events];
    let s = 7;
    for (let i = shuffled.length - 1; i > 0; i--) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      const j = s % (i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
    }
    const g = new ReferralGraph();
    rate('graph, shuffled, one batch', events.length, () => g.apply(shuffled));

    rate('graph + referral_nodes + attribution + super-connectors, in order, batches of 1000', events.length, () => {
      const graph = new ReferralGraph();
      const procs = [createReferralGraphProcessor(graph), createAttributionProcessor(graph), createSuperConnectorProcessor(graph, { isFlagged: () => false })];
      for (let i = 0; i < events.length; i += 1000) {
        const batch = events.slice(i, i + 1000);
        for (const p of procs) p.apply(batch, 1);
      }
    });

    const ref = referenceCompute(events, () => false, DEFAULT_SUPER_CONNECTOR_CONFIG).get('app')!;
    const nodes = [...g.nodes('app')];
    expect(nodes.length).toBe(ref.nodes.size);
    for (const n of nodes) expect(n).toEqual(ref.nodes.get(n.user_id));
    console.log(`max depth ${Math.max(...nodes.map((n) => n.depth ?? 0))}, users ${nodes.length}`);
  });
});
