// Experiment definitions (design §6): what `PUT /v1/experiments/:id` accepts, what
// `viral.experiments` stores, and what the results job reads back. Pure, shared by api and
// processors. Validation collects every problem, each message naming the field (design §7: a 400
// names the parameter), so an owner fixes a definition in one round trip.
import { NOT_WELL_FORMED, wellFormed } from '../unicode.ts';

export const GOAL_KINDS = ['conversion', 'revenue'] as const;
export type GoalKind = (typeof GOAL_KINDS)[number];

/** `invite_accepted` = a signup with an invite_id, credited to the invitation's sender (§6). */
export const GOAL_EVENTS = ['signup', 'invite_sent', 'invite_accepted', 'purchase'] as const;
export type GoalEvent = (typeof GOAL_EVENTS)[number];

export interface ExperimentVariant {
  name: string;
  weight: number;
}

export interface ExperimentDefinition {
  variants: ExperimentVariant[];
  control: string;
  goal: { kind: GoalKind; event: GoalEvent };
}

/** Experiment ids appear in URLs, exposure events and SQL literals: a conservative alphabet. */
export const EXPERIMENT_ID = /^[A-Za-z0-9_.-]{1,64}$/;
/** Variant names are matched against exposure events, whose `variant` is 1–128 characters (§3). */
const MAX_VARIANT_NAME = 128;
/** More arms than this is not an A/B test any more, and each arm needs its own share of traffic. */
export const MAX_VARIANTS = 20;

export function isExperimentId(id: unknown): id is string {
  return typeof id === 'string' && EXPERIMENT_ID.test(id);
}

export type DefinitionResult = { ok: true; definition: ExperimentDefinition } | { ok: false; errors: string[] };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function unknownKeys(obj: Record<string, unknown>, allowed: readonly string[], prefix: string, errors: string[]): void {
  for (const k of Object.keys(obj)) if (!allowed.includes(k)) errors.push(`${prefix}${k}: unknown field (allowed: ${allowed.join(', ')})`);
}

/**
 * Validates a definition body (design §6) and returns a normalized copy (only the known fields).
 * Rules: 2–20 variants with unique non-empty names and positive finite weights; `control` names one
 * of them; goal.kind ∈ {conversion, revenue}; goal.event ∈ {signup, invite_sent, invite_accepted,
 * purchase}; a revenue goal measures purchase amounts, so its event must be `purchase`. Unknown
 * fields are rejected so a typo (`wieght`) never silently falls back to something else.
 */
export function validateDefinition(body: unknown): DefinitionResult {
  const errors: string[] = [];
  if (!isObject(body)) return { ok: false, errors: ['body: must be a JSON object with variants, control and goal'] };
  unknownKeys(body, ['variants', 'control', 'goal'], '', errors);

  const variants: ExperimentVariant[] = [];
  // Names seen, valid weight or not: a control naming a variant with a bad weight is not a second error.
  const seen = new Set<string>();
  if (!Array.isArray(body.variants)) errors.push('variants: is required (an array of {name, weight})');
  else {
    if (body.variants.length < 2) errors.push('variants: needs at least 2 variants');
    if (body.variants.length > MAX_VARIANTS) errors.push(`variants: at most ${MAX_VARIANTS} variants`);
    body.variants.forEach((v: unknown, i: number) => {
      const at = `variants[${i}]`;
      if (!isObject(v)) return void errors.push(`${at}: must be an object {name, weight}`);
      unknownKeys(v, ['name', 'weight'], `${at}.`, errors);
      const sized = typeof v.name === 'string' && v.name.length >= 1 && v.name.length <= MAX_VARIANT_NAME;
      // ClickHouse refuses a lone surrogate in a string, and ingest refuses it in an exposure's variant.
      const nameOk = sized && wellFormed(v.name as string);
      if (!sized) errors.push(`${at}.name: must be a string of 1 to ${MAX_VARIANT_NAME} characters`);
      else if (!nameOk) errors.push(`${at}.name: ${NOT_WELL_FORMED}`);
      else if (seen.has(v.name as string)) errors.push(`${at}.name: duplicate variant name ${JSON.stringify(v.name)}`);
      const weightOk = typeof v.weight === 'number' && Number.isFinite(v.weight) && v.weight > 0;
      if (!weightOk) errors.push(`${at}.weight: must be a positive number`);
      if (nameOk) seen.add(v.name as string);
      if (nameOk && weightOk) variants.push({ name: v.name as string, weight: v.weight as number });
    });
  }

  if (typeof body.control !== 'string' || body.control === '') errors.push('control: is required (the name of one of the variants)');
  else if (Array.isArray(body.variants) && !seen.has(body.control)) {
    errors.push(`control: ${JSON.stringify(body.control)} is not among the variants`);
  }

  let goal: ExperimentDefinition['goal'] | undefined;
  if (!isObject(body.goal)) errors.push('goal: is required ({kind, event})');
  else {
    unknownKeys(body.goal, ['kind', 'event'], 'goal.', errors);
    const { kind, event } = body.goal;
    const kindOk = GOAL_KINDS.includes(kind as GoalKind);
    const eventOk = GOAL_EVENTS.includes(event as GoalEvent);
    if (!kindOk) errors.push(`goal.kind: must be one of ${GOAL_KINDS.join(', ')}`);
    if (!eventOk) errors.push(`goal.event: must be one of ${GOAL_EVENTS.join(', ')}`);
    if (kindOk && eventOk && kind === 'revenue' && event !== 'purchase') errors.push('goal.event: a revenue goal sums purchase amounts, so its event must be purchase');
    if (kindOk && eventOk) goal = { kind: kind as GoalKind, event: event as GoalEvent };
  }

  if (errors.length || !goal) return { ok: false, errors };
  return { ok: true, definition: { variants, control: body.control as string, goal } };
}
