// Assignment (design §6): deterministic, sticky, and distributed by weight.
import { describe, expect, it } from 'vitest';
import { webcrypto } from 'node:crypto';
import { assignmentBucket, assignVariant, bucketBounds, BUCKETS } from './assign.ts';

const variants = (...weights: number[]) => weights.map((weight, i) => ({ name: `v${i}`, weight }));

describe('assignmentBucket', () => {
  it('is the first 4 bytes of SHA-256("experiment:user") as a big-endian uint32, mod 10,000', async () => {
    // Independent path: WebCrypto digest + DataView, not node's createHash + Buffer.
    for (const [x, u] of [['exp', 'alice'], ['invite_flow', 'user-42'], ['é-x', 'ユーザー']]) {
      const digest = await webcrypto.subtle.digest('SHA-256', new TextEncoder().encode(`${x}:${u}`));
      expect(assignmentBucket(x, u)).toBe(new DataView(digest).getUint32(0) % 10_000);
    }
  });

  it('is deterministic and depends on both ids', () => {
    expect(assignmentBucket('x', 'u1')).toBe(assignmentBucket('x', 'u1'));
    const users = Array.from({ length: 200 }, (_, i) => `u${i}`);
    const inX = users.map((u) => assignmentBucket('x', u));
    const inY = users.map((u) => assignmentBucket('y', u));
    // Different experiments give (nearly) unrelated buckets for the same users.
    expect(inX.filter((b, i) => b === inY[i]).length).toBeLessThan(3);
    expect(new Set(inX).size).toBeGreaterThan(190);
  });
});

describe('bucketBounds', () => {
  it.each([
    { weights: [50, 50], bounds: [5000, 10000] },
    { weights: [10, 90], bounds: [1000, 10000] },
    { weights: [1, 1, 1], bounds: [3333, 6667, 10000] },
    { weights: [0.2, 0.3, 0.5], bounds: [2000, 5000, 10000] },
  ])('scales cumulative weights $weights to 10,000 buckets', ({ weights, bounds }) => {
    expect(bucketBounds(variants(...weights))).toEqual(bounds);
  });
});

describe('assignVariant', () => {
  it('answers the variant owning the bucket, with the bucket', () => {
    const v = variants(10, 90);
    for (let i = 0; i < 500; i++) {
      const a = assignVariant('x', `u${i}`, v);
      expect(a).toEqual({ experiment_id: 'x', user_id: `u${i}`, variant: a.bucket < 1000 ? 'v0' : 'v1', bucket: assignmentBucket('x', `u${i}`) });
    }
  });

  it('is sticky when a treatment ramps up: users only move from control into the treatment', () => {
    const before = variants(90, 10);
    const after = variants(70, 30);
    for (let i = 0; i < 5000; i++) {
      const b = assignVariant('ramp', `u${i}`, before).variant;
      const a = assignVariant('ramp', `u${i}`, after).variant;
      if (b === 'v1') expect(a).toBe('v1');
    }
  });

  it.each([
    { description: '50/50', weights: [50, 50] },
    { description: '10/90', weights: [10, 90] },
    { description: 'three variants 20/30/50', weights: [20, 30, 50] },
    { description: 'four unequal variants', weights: [1, 2, 3, 4] },
  ])('splits 100,000 users by weight ($description) within 5 binomial standard deviations', ({ weights }) => {
    const n = 100_000;
    const v = variants(...weights);
    const bounds = bucketBounds(v);
    const counts = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const name = assignVariant('dist', `user-${i}`, v, bounds).variant;
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    const total = weights.reduce((a, b) => a + b, 0);
    v.forEach((variant, i) => {
      const p = weights[i] / total;
      const sd = Math.sqrt(n * p * (1 - p));
      expect(Math.abs((counts.get(variant.name) ?? 0) - n * p)).toBeLessThan(5 * sd);
    });
  });

  it('fills every bucket over many users (uniform over [0, 10,000))', () => {
    const seen = new Uint32Array(BUCKETS);
    for (let i = 0; i < 200_000; i++) seen[assignmentBucket('uniform', `u${i}`)]++;
    // Poisson(20) per bucket: an empty bucket has probability e^-20 each.
    expect(seen.every((c) => c > 0)).toBe(true);
    expect(Math.max(...seen)).toBeLessThan(60);
  });
});
