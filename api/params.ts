// Query-parameter parsing for the api: every invalid parameter is a 400 naming it (design §7).
import { AppError } from '../core/errors.ts';

export type Granularity = 'hour' | 'day' | 'week';
export const GRANULARITIES: readonly Granularity[] = ['hour', 'day', 'week'];
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

export function badParam(name: string, why: string): AppError {
  return new AppError('VIRAL_ERR_BAD_PARAMETER', `${name}: ${why}`);
}

/** An RFC 3339 time parameter → epoch ms (DateTime range); `fallback` when absent. */
export function timeParam(query: Record<string, unknown>, name: string, fallback?: number): number {
  const v = query[name];
  if (v === undefined || v === '') {
    if (fallback === undefined) throw badParam(name, 'is required (RFC 3339 date-time)');
    return fallback;
  }
  if (typeof v !== 'string' || !RFC3339.test(v)) throw badParam(name, 'must be an RFC 3339 date-time, e.g. 2026-01-31T00:00:00Z');
  const t = Date.parse(v);
  if (!Number.isFinite(t) || t < 0 || t >= 4294967295000) throw badParam(name, 'is out of range');
  return t;
}

/** `[from, to)` with from < to and a span limit. Defaults: the last 30 days. */
export function rangeParams(query: Record<string, unknown>, now: number, maxSpanDays = 400): { from: number; to: number } {
  const to = timeParam(query, 'to', now);
  const from = timeParam(query, 'from', to - 30 * 86_400_000);
  if (from >= to) throw badParam('from', 'must be before to');
  if (to - from > maxSpanDays * 86_400_000) throw badParam('from', `range longer than ${maxSpanDays} days`);
  return { from, to };
}

export function enumParam<T extends string>(query: Record<string, unknown>, name: string, allowed: readonly T[], fallback?: T): T {
  const v = query[name];
  if (v === undefined || v === '') {
    if (fallback === undefined) throw badParam(name, `is required (one of ${allowed.join(', ')})`);
    return fallback;
  }
  if (typeof v !== 'string' || !allowed.includes(v as T)) throw badParam(name, `must be one of ${allowed.join(', ')}`);
  return v as T;
}

export function intParam(query: Record<string, unknown>, name: string, fallback: number, min: number, max: number): number {
  const v = query[name];
  if (v === undefined || v === '') return fallback;
  const n = typeof v === 'string' && /^\d{1,9}$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw badParam(name, `must be an integer from ${min} to ${max}`);
  return n;
}

const ID = /^[\s\S]{1,128}$/;
export function idParam(value: unknown, name: string): string {
  if (typeof value !== 'string' || !ID.test(value)) throw badParam(name, 'must be a string of 1 to 128 characters');
  return value;
}

export function optionalId(query: Record<string, unknown>, name: string): string | undefined {
  const v = query[name];
  return v === undefined || v === '' ? undefined : idParam(v, name);
}

/** Unknown query parameters are errors too, so typos do not silently widen a query. */
export function onlyParams(query: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(query)) if (!allowed.includes(k)) throw badParam(k, `unknown parameter (allowed: ${allowed.join(', ')})`);
}
