// Definition validation (design §6): every error names its field.
import { describe, expect, it } from 'vitest';
import { isExperimentId, validateDefinition } from './definition.ts';

function makeDefinition(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    variants: [
      { name: 'control', weight: 50 },
      { name: 'b', weight: 50 },
    ],
    control: 'control',
    goal: { kind: 'conversion', event: 'invite_accepted' },
    ...overrides,
  };
}

describe('validateDefinition', () => {
  it('accepts the design §6 example and returns only the known fields', () => {
    const r = validateDefinition(makeDefinition());
    expect(r).toEqual({ ok: true, definition: makeDefinition() });
  });

  it('accepts three variants with fractional weights and a revenue goal on purchase', () => {
    const body = makeDefinition({
      variants: [
        { name: 'control', weight: 0.5 },
        { name: 'b', weight: 0.25 },
        { name: 'c', weight: 0.25 },
      ],
      goal: { kind: 'revenue', event: 'purchase' },
    });
    expect(validateDefinition(body)).toEqual({ ok: true, definition: body });
  });

  it.each([
    { description: 'a non-object body', body: [1, 2], errors: ['body: must be a JSON object with variants, control and goal'] },
    { description: 'missing fields', body: {}, errors: ['variants: is required (an array of {name, weight})', 'control: is required (the name of one of the variants)', 'goal: is required ({kind, event})'] },
    { description: 'one variant', body: makeDefinition({ variants: [{ name: 'control', weight: 1 }] }), errors: ['variants: needs at least 2 variants'] },
    {
      description: 'zero, negative, string and infinite weights',
      body: makeDefinition({ variants: [{ name: 'control', weight: 0 }, { name: 'b', weight: -1 }, { name: 'c', weight: '50' }, { name: 'd', weight: Infinity }] }),
      errors: ['variants[0].weight: must be a positive number', 'variants[1].weight: must be a positive number', 'variants[2].weight: must be a positive number', 'variants[3].weight: must be a positive number'],
    },
    {
      description: 'duplicate and empty names',
      body: makeDefinition({ variants: [{ name: 'control', weight: 1 }, { name: 'control', weight: 1 }, { name: '', weight: 1 }] }),
      errors: ['variants[1].name: duplicate variant name "control"', 'variants[2].name: must be a string of 1 to 128 characters'],
    },
    {
      description: 'a name with a lone surrogate',
      body: makeDefinition({ variants: [{ name: 'control', weight: 1 }, { name: 'b\ud800', weight: 1 }] }),
      errors: ['variants[1].name: must be well-formed Unicode (it holds a lone surrogate)'],
    },
    { description: 'a control that is not a variant', body: makeDefinition({ control: 'a' }), errors: ['control: "a" is not among the variants'] },
    { description: 'an unknown goal kind', body: makeDefinition({ goal: { kind: 'retention', event: 'signup' } }), errors: ['goal.kind: must be one of conversion, revenue'] },
    {
      description: 'an unknown goal event',
      body: makeDefinition({ goal: { kind: 'conversion', event: 'invite_opened' } }),
      errors: ['goal.event: must be one of signup, invite_sent, invite_accepted, purchase'],
    },
    {
      description: 'a revenue goal on another event',
      body: makeDefinition({ goal: { kind: 'revenue', event: 'signup' } }),
      errors: ['goal.event: a revenue goal sums purchase amounts, so its event must be purchase'],
    },
    {
      description: 'unknown fields (typos) anywhere',
      body: makeDefinition({ owner: 'x', variants: [{ name: 'control', wieght: 1 }, { name: 'b', weight: 1 }], goal: { kind: 'conversion', event: 'signup', window: 7 } }),
      errors: [
        'owner: unknown field (allowed: variants, control, goal)',
        'variants[0].wieght: unknown field (allowed: name, weight)',
        'variants[0].weight: must be a positive number',
        'goal.window: unknown field (allowed: kind, event)',
      ],
    },
    { description: 'a variant that is not an object', body: makeDefinition({ variants: ['control', { name: 'b', weight: 1 }] }), errors: ['variants[0]: must be an object {name, weight}', 'control: "control" is not among the variants'] },
  ])('rejects $description, naming each field', ({ body, errors }) => {
    expect(validateDefinition(body)).toEqual({ ok: false, errors });
  });

  it('rejects more than 20 variants', () => {
    const variants = Array.from({ length: 21 }, (_, i) => ({ name: `v${i}`, weight: 1 }));
    expect(validateDefinition(makeDefinition({ variants, control: 'v0' }))).toEqual({ ok: false, errors: ['variants: at most 20 variants'] });
  });
});

describe('isExperimentId', () => {
  it.each([
    { id: 'invite_flow', ok: true },
    { id: 'a.b-c_9', ok: true },
    { id: 'x'.repeat(64), ok: true },
    { id: 'x'.repeat(65), ok: false },
    { id: '', ok: false },
    { id: 'has space', ok: false },
    { id: "quote'", ok: false },
    { id: 42, ok: false },
  ])('$id → $ok', ({ id, ok }) => {
    expect(isExperimentId(id)).toBe(ok);
  });
});
