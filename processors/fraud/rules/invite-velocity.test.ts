import { describe, expect, it } from 'vitest';
import { mean, standardDeviation } from 'simple-statistics';
import { DEFAULT_FRAUD_CONFIG } from '../config.ts';
import { type Stamp, compareStamps } from '../types.ts';
import { inviteVelocity, populationStats, velocityLimit } from './invite-velocity.ts';

const T = Date.UTC(2026, 10, 2, 9, 0, 0);
const HOUR = 3_600_000;
/** n invitations: the first at T, the rest evenly up to T + last. */
function invites(n: number, last: number): Stamp[] {
  return Array.from({ length: n }, (_, i) => ({ at: T + Math.round((last * i) / Math.max(1, n - 1)), event_id: `inv-${String(i).padStart(3, '0')}` })).sort(compareStamps);
}
/** A population of 400 cells of 1–4 invitations: mean 2.5, SD √1.25. */
const honest = populationStats(new Map([[1, 100], [2, 100], [3, 100], [4, 100]]));

describe('populationStats', () => {
  it('equals the plain mean and population SD of the expanded cells', () => {
    const histogram = new Map([[1, 3], [2, 1], [7, 2]]);
    const cells = [1, 1, 1, 2, 7, 7];
    const s = populationStats(histogram);
    expect(s.cells).toBe(6);
    expect(s.mean).toBeCloseTo(mean(cells), 12);
    expect(s.sd).toBeCloseTo(standardDeviation(cells), 12);
    expect(s.mean).toBeCloseTo(19 / 6, 12);
  });

  it('is all zeros for an empty population and ignores emptied buckets', () => {
    expect(populationStats(new Map())).toEqual({ cells: 0, mean: 0, sd: 0 });
    expect(populationStats(new Map([[3, 0], [2, 2]]))).toEqual({ cells: 2, mean: 2, sd: 0 });
  });
});

describe('inviteVelocity', () => {
  it('fires on 51 invitations within one hour, at the 51st, with exact evidence', () => {
    const d = inviteVelocity('u1', invites(51, HOUR - 1), honest, DEFAULT_FRAUD_CONFIG);
    expect(d).toEqual({
      user_id: 'u1',
      signal: 'invite_velocity',
      event_id: 'inv-050',
      at: T + HOUR - 1,
      evidence: {
        invitations: 51,
        span_start: new Date(T).toISOString(),
        span_end: new Date(T + HOUR - 1).toISOString(),
        max_invites: 50,
        population: { cells: 400, mean: 2.5, sd: Math.sqrt(1.25), limit: 2.5 + 3 * Math.sqrt(1.25) },
      },
    });
  });

  it.each([
    { n: 50, last: HOUR - 1, description: '50 invitations within an hour (not more than 50)' },
    { n: 51, last: HOUR, description: '51 invitations whose first and last are exactly one hour apart' },
  ])('stays silent on $description', ({ n, last }) => {
    expect(inviteVelocity('u1', invites(n, last), honest, DEFAULT_FRAUD_CONFIG)).toBeNull();
  });

  it('stays silent when the count is not more than 3 SD above a busy population mean', () => {
    // Everyone sends 40–80 an hour: mean 60, SD 20 → limit 120, so 100 in an hour is ordinary here.
    const busy = populationStats(new Map([[40, 50], [80, 50]]));
    expect(velocityLimit(busy, DEFAULT_FRAUD_CONFIG)).toBe(120);
    expect(inviteVelocity('u1', invites(100, HOUR - 1), busy, DEFAULT_FRAUD_CONFIG)).toBeNull();
    expect(inviteVelocity('u1', invites(121, HOUR - 1), busy, DEFAULT_FRAUD_CONFIG)?.evidence.invitations).toBe(121);
  });

  it('keys on the first span that crossed, not the busiest', () => {
    const early = invites(51, 30 * 60_000);
    const later = Array.from({ length: 200 }, (_, i) => ({ at: T + 5 * HOUR + i, event_id: `z-${i}` }));
    const d = inviteVelocity('u1', [...early, ...later].sort(compareStamps), honest, DEFAULT_FRAUD_CONFIG);
    expect(d?.event_id).toBe('inv-050');
    expect(d?.evidence.invitations).toBe(51);
  });
});
