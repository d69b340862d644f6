// Seeded randomness for the demo generator (design §8: "given a seed it is deterministic").
// sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 128-bit state) seeded through
// splitmix32, plus the few distributions the simulation draws from. Nothing here reads
// Math.random or the clock.

export type Rng = () => number;

/** splitmix32: turns one 32-bit seed into a sequence of well-mixed words (sfc32 state). */
function splitmix32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x9e3779b9) | 0;
    let z = a;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return (z ^ (z >>> 15)) >>> 0;
  };
}

/** sfc32 generator: uniform floats in [0, 1) with 32 bits of resolution. */
export function sfc32(seed: number): Rng {
  const init = splitmix32(seed);
  let a = init();
  let b = init();
  let c = init();
  let d = init();
  const next = (): number => {
    d = (d + 1) | 0;
    const t = (((a + b) | 0) + d) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  // Discard the first outputs: sfc32's state needs a few rounds to mix after seeding.
  for (let i = 0; i < 12; i++) next();
  return next;
}

/** FNV-1a 32-bit hash of a string (run tags, experiment buckets). */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Distributions over one sfc32 stream. */
export class Random {
  private readonly next: Rng;

  constructor(seed: number) {
    this.next = sfc32(seed);
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.next();
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** Exponential with the given mean (inter-arrival times of a Poisson process). */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }

  /**
   * Log-normal with the given median and log-space sigma (Box–Muller): human response delays
   * are heavy-tailed, most within minutes, some days later.
   */
  logNormal(median: number, sigma: number): number {
    const u = 1 - this.next();
    const v = this.next();
    return median * Math.exp(sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
  }

  /** 1 + number of successes before the first failure, capped: a count with a long tail. */
  count(pMore: number, max: number): number {
    let n = 1;
    while (n < max && this.next() < pMore) n++;
    return n;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** Picks a key with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const keys = Object.keys(weights) as K[];
    let total = 0;
    for (const k of keys) total += weights[k];
    let x = this.next() * total;
    for (const k of keys) {
      x -= weights[k];
      if (x < 0) return k;
    }
    return keys[keys.length - 1];
  }
}
