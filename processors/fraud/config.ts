// Thresholds of the fraud rules (design §5 "Fraud signals": "Thresholds are configuration").
// One flat object; the defaults are the numbers of §5. The processor takes a partial override so
// loadConfig (core/config.ts) or a test can change one threshold without restating the others.

export interface FraudConfig {
  /** invite_velocity: a user is flagged for MORE than this many invitations in one span. */
  velocityMaxInvites: number;
  /** invite_velocity: span length (ms); spans are half-open, so t and t + 1 h are in different spans. */
  velocitySpanMs: number;
  /** invite_velocity: the span count must also exceed population mean + this many SDs. */
  velocitySdMultiplier: number;
  /** device_reuse: this many distinct users signing up on one hashed device... */
  deviceReuseMinUsers: number;
  /** device_reuse: ...within a half-open span of this length (ms). */
  deviceReuseSpanMs: number;
  /** fast_conversion: a sign-up less than this many ms after the accepted invitation was sent. */
  fastConversionMs: number;
  /** reward_gaming: a user is flagged for MORE than this many reward claims in one span. */
  rewardMaxClaims: number;
  /** reward_gaming: span length (ms). */
  rewardSpanMs: number;
  /** Evidence lists (device_reuse users) are cut to this many entries; the full count is kept. */
  evidenceMaxUsers: number;
}

export const DEFAULT_FRAUD_CONFIG: Readonly<FraudConfig> = Object.freeze({
  velocityMaxInvites: 50,
  velocitySpanMs: 3_600_000,
  velocitySdMultiplier: 3,
  deviceReuseMinUsers: 3,
  deviceReuseSpanMs: 86_400_000,
  fastConversionMs: 10_000,
  rewardMaxClaims: 20,
  rewardSpanMs: 86_400_000,
  evidenceMaxUsers: 20,
});

/** Defaults overlaid with `overrides`; throws on a non-positive or non-finite threshold. */
export function resolveFraudConfig(overrides: Partial<FraudConfig> = {}): Readonly<FraudConfig> {
  const cfg = { ...DEFAULT_FRAUD_CONFIG, ...overrides };
  for (const [key, value] of Object.entries(cfg)) {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`fraud config ${key} must be a finite number ≥ 0, got ${value}`);
  }
  return Object.freeze(cfg);
}
