// Behaviour under the null hypothesis (issue 5 "A/A simulation"), through the public
// computeExperimentResults exactly as the scheduled recomputation calls it: cumulative counts,
// one look per day for 30 days, the previous look's p_value_sequential passed back in.
//   - fixed horizon: rejecting at p < 0.05 on day 30 only must give a false-positive rate inside
//     the binomial band of 5% over the simulated experiments;
//   - peeking daily at the fixed-horizon p-value inflates it well above 5% (why §6 asks for mSPRT);
//   - peeking daily at the always-valid p-value keeps it at or below 5%.
// Seeded PRNG, so the run is deterministic; tolerances are the binomial ones a fresh seed needs.
import { beforeAll, describe, expect, it } from 'vitest';
import { computeExperimentResults, type VariantResult, type VariantStats } from './results.ts';

const EXPERIMENTS = 2000;
const DAYS = 30;
const USERS_PER_ARM_PER_DAY = 100;
const ALPHA = 0.05;
/** Standard error of an observed rate of 5% over EXPERIMENTS runs. */
const BINOMIAL_SE = Math.sqrt((ALPHA * (1 - ALPHA)) / EXPERIMENTS);

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function binomial(random: () => number, n: number, p: number): number {
  let successes = 0;
  for (let i = 0; i < n; i++) if (random() < p) successes++;
  return successes;
}

function makeArm(name: string, exposures: number, conversions: number): VariantStats {
  // Conversion goal: revenue sums are zero; the simulation is about conversion p-values.
  return { name, weight: 50, exposures, conversions, revenueSum: 0, revenueSumSquares: 0 };
}

interface Outcome {
  fixedHorizon: boolean;
  naivePeeking: boolean;
  sequential: boolean;
}

/** One experiment observed daily; which of the three decision rules ever rejected at ALPHA. */
function simulateExperiment(random: () => number, controlRate: number, treatmentRate: number): Outcome {
  let control = makeArm('control', 0, 0);
  let treatment = makeArm('b', 0, 0);
  let previous: number | null = null;
  const outcome: Outcome = { fixedHorizon: false, naivePeeking: false, sequential: false };
  for (let day = 1; day <= DAYS; day++) {
    control = makeArm('control', control.exposures + USERS_PER_ARM_PER_DAY,
      control.conversions + binomial(random, USERS_PER_ARM_PER_DAY, controlRate));
    treatment = makeArm('b', treatment.exposures + USERS_PER_ARM_PER_DAY,
      treatment.conversions + binomial(random, USERS_PER_ARM_PER_DAY, treatmentRate));
    const row: VariantResult = computeExperimentResults({ control: 'control' }, [control, treatment], { b: previous }).variants[1];
    const p = row.p_value ?? 1;
    previous = row.p_value_sequential;
    if (p < ALPHA) outcome.naivePeeking = true;
    if (day === DAYS && p < ALPHA) outcome.fixedHorizon = true;
    if (previous !== null && previous <= ALPHA) outcome.sequential = true;
  }
  return outcome;
}

function rejectionRates(seed: number, experiments: number, controlRate: number, treatmentRate: number) {
  const random = createRandom(seed);
  const counts = { fixedHorizon: 0, naivePeeking: 0, sequential: 0 };
  for (let i = 0; i < experiments; i++) {
    const outcome = simulateExperiment(random, controlRate, treatmentRate);
    for (const rule of ['fixedHorizon', 'naivePeeking', 'sequential'] as const) if (outcome[rule]) counts[rule]++;
  }
  return {
    fixedHorizon: counts.fixedHorizon / experiments,
    naivePeeking: counts.naivePeeking / experiments,
    sequential: counts.sequential / experiments,
  };
}

describe('A/A simulation under the null (10% conversion in both arms, 30 daily looks)', () => {
  let rates: ReturnType<typeof rejectionRates>;
  beforeAll(() => {
    rates = rejectionRates(20240605, EXPERIMENTS, 0.1, 0.1);
  });

  // Observed with this seed: fixed horizon 4.4%, naive peeking 26.1%, always-valid 0.2%.
  it('fixed-horizon z-test: false-positive rate within the 3-sigma binomial band of 5%', () => {
    expect(rates.fixedHorizon).toBeGreaterThanOrEqual(ALPHA - 3 * BINOMIAL_SE);
    expect(rates.fixedHorizon).toBeLessThanOrEqual(ALPHA + 3 * BINOMIAL_SE);
  });

  it('naive daily peeking at the fixed-horizon p-value inflates false positives far above 5%', () => {
    expect(rates.naivePeeking).toBeGreaterThan(2 * ALPHA);
  });

  it('daily peeking at the always-valid (mSPRT) p-value stays at or below 5%', () => {
    expect(rates.sequential).toBeLessThanOrEqual(ALPHA + 2 * BINOMIAL_SE);
  });
});

describe('the always-valid p-value still detects a real effect', () => {
  it('10% vs 13% conversion: most experiments reject by day 30', () => {
    const rates = rejectionRates(7, 200, 0.1, 0.13);
    // Observed 63.5% (fixed horizon 97.5%): the price of being allowed to look every day.
    expect(rates.sequential).toBeGreaterThan(0.5);
  });
});
