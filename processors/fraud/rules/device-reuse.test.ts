import { describe, expect, it } from 'vitest';
import { DEFAULT_FRAUD_CONFIG } from '../config.ts';
import { compareStamps } from '../types.ts';
import { type DeviceSignup, deviceReuse } from './device-reuse.ts';

const T = Date.UTC(2026, 10, 2, 9, 0, 0);
const HOUR = 3_600_000;
const signups = (offsets: number[]): DeviceSignup[] =>
  offsets.map((o, i) => ({ at: T + o, event_id: `s${i}`, user_id: `u${i}` })).sort(compareStamps);
const iso = (o: number) => new Date(T + o).toISOString();

describe('deviceReuse', () => {
  it('flags every one of 3 users on one device within 24 h, each at their own sign-up', () => {
    const found = deviceReuse('dev-x', signups([0, 5 * HOUR, 24 * HOUR - 1]), DEFAULT_FRAUD_CONFIG);
    const evidence = { device_hash: 'dev-x', span_start: iso(0), span_end: iso(24 * HOUR - 1), user_count: 3, users: ['u0', 'u1', 'u2'] };
    expect(found).toEqual([
      { user_id: 'u0', signal: 'device_reuse', event_id: 's0', at: T, evidence },
      { user_id: 'u1', signal: 'device_reuse', event_id: 's1', at: T + 5 * HOUR, evidence },
      { user_id: 'u2', signal: 'device_reuse', event_id: 's2', at: T + 24 * HOUR - 1, evidence },
    ]);
  });

  it.each([
    { offsets: [0, HOUR], description: '2 users on one device' },
    { offsets: [0, 5 * HOUR, 24 * HOUR], description: '3 users whose first and last are exactly 24 h apart' },
    { offsets: [0, 20 * HOUR, 40 * HOUR], description: '3 users, each pair of neighbours within 24 h but never all 3' },
  ])('stays silent on $description', ({ offsets }) => {
    expect(deviceReuse('dev-x', signups(offsets), DEFAULT_FRAUD_CONFIG)).toEqual([]);
  });

  it('gives each user the earliest qualifying span and leaves users outside every span alone', () => {
    // u0 alone; u1..u3 within 2 h; u4 joins u2, u3 within 24 h of them; u5 far later.
    const found = deviceReuse('d', signups([-48 * HOUR, 0, HOUR, 2 * HOUR, 20 * HOUR, 90 * HOUR]), DEFAULT_FRAUD_CONFIG);
    expect(found.map((d) => [d.user_id, d.evidence.span_end, d.evidence.user_count])).toEqual([
      ['u1', iso(2 * HOUR), 3],
      ['u2', iso(2 * HOUR), 3],
      ['u3', iso(2 * HOUR), 3],
      ['u4', iso(20 * HOUR), 4],
    ]);
  });

  it('cuts the evidence list but keeps the full count', () => {
    const farm = signups(Array.from({ length: 30 }, (_, i) => i * 60_000));
    const found = deviceReuse('d', farm, { ...DEFAULT_FRAUD_CONFIG, evidenceMaxUsers: 5 });
    expect(found).toHaveLength(30);
    expect(found[29].evidence).toMatchObject({ user_count: 30, users: ['u0', 'u1', 'u2', 'u3', 'u4'] });
  });
});
