// Latency summaries from raw samples (milliseconds). Samples of several load-generator processes
// are concatenated before the percentiles are taken, so a split run reports one true p99.
import { quantileSorted } from 'simple-statistics';

export interface Latency {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

/** Percentiles of the samples (linear interpolation, simple-statistics); zeros when empty. */
export function latency(samples: readonly number[]): Latency {
  if (samples.length === 0) return { count: 0, p50: 0, p95: 0, p99: 0, max: 0 };
  const sorted = Float64Array.from(samples).sort();
  const arr = Array.from(sorted);
  return {
    count: arr.length,
    p50: round(quantileSorted(arr, 0.5)),
    p95: round(quantileSorted(arr, 0.95)),
    p99: round(quantileSorted(arr, 0.99)),
    max: round(arr[arr.length - 1]),
  };
}
