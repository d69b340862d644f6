// Load bodies cut from the demo generator's events (design §8), made unique per request cheaply.
//
// Ingest answers a re-posted event_id as a duplicate and does not produce it (design §3), so a
// load test that repeats one body would measure an ingest that never talks to Kafka. Each body
// is therefore serialized once as a template with a marker where every event_id goes; a request
// joins the template's parts with a fresh token, which costs one string join instead of a
// JSON.stringify per request in the load generator.
import { generateDemo, type PostedEvent } from '../../core/demo/index.ts';
import { validateEvent } from '../../core/events/validate.ts';
import type { ViralEvent } from '../../core/events/types.ts';

/** '@' is not allowed in an event_id (design §3), so the marker never occurs in real data. */
const MARK = '@ID@';

/** A serialized body whose event ids are `<token><index>`; `parts.join(token)` yields it. */
export type Template = string[];

export interface TemplateSource {
  seed: number;
  days: number;
  seedUsers: number;
}

/** The demo's posted events ending at `now`, the raw material of every load body. */
export function demoEvents(src: TemplateSource, now: number): PostedEvent[] {
  return generateDemo({ seed: src.seed, now, days: src.days, seedUsers: src.seedUsers }).events;
}

function template(value: unknown): Template {
  return JSON.stringify(value).split(MARK);
}

/** One template per event: the body of `POST /v1/events`. */
export function singleTemplates(events: readonly PostedEvent[]): Template[] {
  return events.map((e) => template({ ...e, event_id: `${MARK}0` }));
}

/** Consecutive slices of `size` events: bodies of `POST /v1/events/batch` (no sent_at: no skew). */
export function batchTemplates(events: readonly PostedEvent[], size: number): Template[] {
  const out: Template[] = [];
  for (let i = 0; i + size <= events.length; i += size) {
    out.push(template({ events: events.slice(i, i + size).map((e, j) => ({ ...e, event_id: `${MARK}${j}` })) }));
  }
  return out;
}

/** Ingest's normalized form (what it writes to Kafka) of each event, as a template. */
export function normalizedTemplates(events: readonly PostedEvent[], appId: string, now: number): { key: string; value: Template }[] {
  const ctx = { appId, receivedAt: now, skewMs: 0, ipHash: '', hashSalt: 'loadtest-salt-0123456789' };
  const out: { key: string; value: Template }[] = [];
  for (const e of events) {
    const r = validateEvent(e, ctx);
    if (r.ok) out.push({ key: r.event.user_id, value: template({ ...r.event, event_id: `${MARK}0` } satisfies ViralEvent) });
  }
  return out;
}

/**
 * Cycles through the templates; every call returns a body whose event ids were never returned
 * before by this factory. `tag` (valid event_id characters) keeps factories of different
 * processes and runs apart.
 */
export function bodyFactory(templates: readonly Template[], tag: string): () => string {
  if (templates.length === 0) throw new Error('no templates');
  let n = 0;
  return () => {
    const t = templates[n % templates.length];
    const token = `${tag}.${(n++).toString(36)}.`;
    return t.join(token);
  };
}
