import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { FRAUD_PATTERNS, SIGNAL_OF, type FraudCase } from './fraud.ts';
import { generateDemo } from './generator.ts';
import type { PostedEvent } from './posted-event.ts';
import { DAY, HOUR, SEC, groupBy, maxInWindow, ms, recount, type Recount } from './test-support.ts';

const NOW = Date.UTC(2025, 5, 1, 18);
// The default density (5000 seed users per 14 days) with the default one case per pattern per day.
const { events, truth } = generateDemo({ seed: 2024, now: NOW, days: 10, seedUsers: 3600 });
const counted = recount(events);

const timesOf = (list: PostedEvent[], type: string, user: string) =>
  list
    .filter((e) => e.type === type && e.user_id === user)
    .map(ms)
    .sort((a, b) => a - b);

/** §5 invite_velocity baseline: mean and SD of per-user counts in each UTC hour with invitations. */
function hourlyInviteStats(list: PostedEvent[]): { mean: number; sd: number } {
  const counts = [...groupBy(list.filter((e) => e.type === 'invite_sent'), (e) => `${e.user_id}|${Math.floor(ms(e) / HOUR)}`).values()].map((l) => l.length);
  const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
  return { mean, sd: Math.sqrt(counts.reduce((a, b) => a + (b - mean) ** 2, 0) / counts.length) };
}

/** Whether following referrers from `user` comes back to `user` (a §5 referral cycle). */
function inCycle(user: string, referrerOf: Map<string, string>): boolean {
  const seen = new Set<string>();
  for (let u = referrerOf.get(user); u !== undefined && !seen.has(u); u = referrerOf.get(u)) {
    if (u === user) return true;
    seen.add(u);
  }
  return false;
}

/** Checks, from the events alone, that a case carries the pattern its signal is defined on (§5). */
function patternHolds(c: FraudCase, list: PostedEvent[], r: Recount): boolean {
  const [user] = c.user_ids;
  const signup = r.signups.get(user);
  switch (c.pattern) {
    case 'self_referral':
      return signup?.properties.referrer_id === user;
    case 'shared_device': {
      const inviter = r.invites.get(signup?.properties.invite_id as string)?.user_id;
      return inviter === c.related_user_ids[0] && signup?.device_id !== undefined && signup.device_id === r.deviceOf.get(inviter);
    }
    case 'referral_ring': {
      const members = [...c.user_ids, ...c.related_user_ids];
      const closing = Math.max(...members.map((u) => ms(r.signups.get(u)!)));
      return inCycle(user, r.referrerOf) && ms(signup!) === closing && members.every((u) => inCycle(u, r.referrerOf));
    }
    case 'invite_burst': {
      const { mean, sd } = hourlyInviteStats(list);
      const peak = maxInWindow(timesOf(list, 'invite_sent', user), HOUR);
      return peak > 50 && peak > mean + 3 * sd;
    }
    case 'device_farm': {
      const device = r.deviceOf.get(user);
      const farm = [...r.signups.values()].filter((s) => s.device_id === device);
      return (
        c.user_ids.length >= 3 &&
        farm.length === c.user_ids.length &&
        c.user_ids.every((u) => r.deviceOf.get(u) === device) &&
        maxInWindow(farm.map(ms).sort((a, b) => a - b), DAY) >= 3
      );
    }
    case 'fast_conversion': {
      const invite = r.invites.get(signup?.properties.invite_id as string);
      return invite !== undefined && invite.user_id === c.related_user_ids[0] && ms(signup!) - ms(invite) < 10 * SEC;
    }
    case 'reward_gaming':
      return maxInWindow(timesOf(list, 'reward_claimed', user), DAY) > 20;
  }
}

describe('injected fraud (design §8), checked against the §5 signal definitions', () => {
  it('injects every pattern, each labelled with its fixed signal name', () => {
    expect(new Set(truth.fraud.map((c) => c.pattern))).toEqual(new Set(FRAUD_PATTERNS));
    expect(truth.fraud.every((c) => c.signal === SIGNAL_OF[c.pattern] && c.user_ids.length > 0)).toBe(true);
  });

  it.each(FRAUD_PATTERNS.map((pattern) => ({ pattern })))('$pattern: every case carries its pattern in the events', ({ pattern }) => {
    const cases = truth.fraud.filter((c) => c.pattern === pattern);
    expect(cases.length).toBeGreaterThan(0);
    for (const c of cases) expect(patternHolds(c, events, counted)).toBe(true);
  });

  it('attributes every case event to its actors, and keeps fraud a small share', () => {
    const byId = new Map(events.map((e) => [e.event_id, e]));
    for (const c of truth.fraud) {
      // Visitor ids (invitees before sign-up) share the user's id suffix.
      const actors = new Set([...c.user_ids, ...c.related_user_ids].map((u) => u.slice(2)));
      expect(c.event_ids.every((id) => actors.has(byId.get(id)!.user_id.slice(2)))).toBe(true);
    }
    const fraudEvents = truth.fraud.reduce((n, c) => n + c.event_ids.length, 0);
    expect(fraudEvents / events.length).toBeLessThan(0.05);
  });

  it('keeps fraud actors apart from the honest population (no edge between them)', () => {
    const fraudUsers = new Set(truth.fraud.flatMap((c) => [...c.user_ids, ...c.related_user_ids]));
    for (const [user, referrer] of counted.referrerOf) expect(fraudUsers.has(user)).toBe(fraudUsers.has(referrer));
  });
});

/** Every §5 pattern an honest user could trip, as violations found in the events. */
function honestViolations(list: PostedEvent[], cases: FraudCase[]): string[] {
  const r = recount(list);
  const fraud = new Set(cases.flatMap((c) => [...c.user_ids, ...c.related_user_ids]));
  const honest = [...r.signups.keys()].filter((u) => !fraud.has(u));
  const out: string[] = [];
  const signupsByDevice = groupBy([...r.signups.values()], (s) => s.device_id ?? '');
  const byUser = (type: string) => groupBy(list.filter((e) => e.type === type), (e) => e.user_id);
  const invitesBy = byUser('invite_sent');
  const rewardsBy = byUser('reward_claimed');
  const times = (l: PostedEvent[] | undefined) => (l ?? []).map(ms).sort((a, b) => a - b);
  for (const u of honest) {
    const referrer = r.referrerOf.get(u);
    if (referrer === u) out.push(`${u}: self-referral`);
    if (referrer !== undefined && r.deviceOf.get(referrer) === r.deviceOf.get(u)) out.push(`${u}: shares a device with its referrer`);
    if (inCycle(u, r.referrerOf)) out.push(`${u}: in a referral cycle`);
    if ((signupsByDevice.get(r.deviceOf.get(u) ?? '') ?? []).length > 1) out.push(`${u}: device shared with another sign-up`);
    if (maxInWindow(times(invitesBy.get(u)), HOUR) > 10) out.push(`${u}: more than 10 invitations in an hour`);
    if (maxInWindow(times(rewardsBy.get(u)), DAY) > 20) out.push(`${u}: more than 20 rewards in 24 h`);
    const invite = r.invites.get(r.signups.get(u)!.properties.invite_id as string);
    if (invite && ms(r.signups.get(u)!) - ms(invite) < 10 * SEC) out.push(`${u}: signed up < 10 s after the invitation`);
  }
  return out;
}

describe('honest users never trigger a fraud pattern', () => {
  it('in the reference data set', () => {
    expect(honestViolations(events, truth.fraud)).toEqual([]);
  });

  it('for any seed (property)', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const demo = generateDemo({ seed, now: NOW, days: 4, seedUsers: 600 });
        expect(honestViolations(demo.events, demo.truth.fraud)).toEqual([]);
      }),
      { numRuns: 10 },
    );
  });

  it('the checks do catch the patterns when fraud users are counted as honest', () => {
    const found = honestViolations(events, []);
    for (const what of ['self-referral', 'shares a device', 'referral cycle', 'device shared', 'invitations in an hour', 'rewards in 24 h', '< 10 s']) {
      expect(found.some((v) => v.includes(what))).toBe(true);
    }
  });
});
