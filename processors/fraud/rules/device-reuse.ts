// device_reuse (design §5): "3 or more distinct users sign up from the same hashed device within
// 24 h — every one of them is flagged".
//
// Each user counts once per device, at their earliest sign-up on it. A user is flagged when some
// half-open 24 h span holds them and at least two other users; their evidence is the earliest
// such span (the trailing window of its latest sign-up), so the identity (user, that user's
// sign-up on the device) and the evidence are functions of the final event set. The device hash
// is the salted hash ingest made (design §3); the IP hash is never used (§5: NAT, shared networks).
import type { FraudConfig } from '../config.ts';
import { type Detection, type Stamp, iso } from '../types.ts';
import { scanTrailingWindows } from '../window.ts';

export interface DeviceSignup extends Stamp {
  user_id: string;
}

/** device_reuse detections for one device; `signups` hold one entry per user, sorted by compareStamps. */
export function deviceReuse(deviceHash: string, signups: readonly DeviceSignup[], cfg: FraudConfig): Detection[] {
  const found: Detection[] = [];
  if (signups.length < cfg.deviceReuseMinUsers) return found;
  // Windows arrive with non-decreasing `lo`, so indices up to `marked` already have their
  // earliest window and only the tail of each new qualifying window needs evidence.
  let marked = -1;
  scanTrailingWindows(signups, cfg.deviceReuseSpanMs, (w) => {
    const size = w.hi - w.lo + 1;
    if (size < cfg.deviceReuseMinUsers) return;
    const members = signups.slice(w.lo, w.hi + 1);
    const evidence = {
      device_hash: deviceHash,
      span_start: iso(signups[w.lo].at),
      span_end: iso(signups[w.end].at),
      user_count: size,
      users: members.slice(0, cfg.evidenceMaxUsers).map((s) => s.user_id),
    };
    for (let i = Math.max(w.lo, marked + 1); i <= w.hi; i++) {
      const s = signups[i];
      found.push({ user_id: s.user_id, signal: 'device_reuse', event_id: s.event_id, at: s.at, evidence });
    }
    marked = w.hi;
  });
  return found;
}
