// The ONLY way values reach SQL (design §2: no query parameters on ClickHouse 18.16).
//
// Every statement is built with the `sql` tagged template; it accepts only `Sql` fragments as
// interpolations, and fragments can only be made by the validating constructors below
// (`str`, `int`, `float`, `dateTime`, `ident`, `list`, `raw` for trusted constants). A plain
// string interpolated into `sql` is a TypeError at compile time and a thrown error at run time.
//
// String literal format (ClickHouse single-quoted strings): backslash starts an escape, so `\` →
// `\\` and `'` → `\'`; control characters are written as escapes (`\0`, `\n`, `\r`, `\t`, `\b`,
// `\f`) so a statement stays one printable line in logs. Lone UTF-16 surrogates are rejected
// (they cannot be encoded as UTF-8, so the server would see replacement bytes, not the value).
import { AppError } from '../errors.ts';

const BRAND: unique symbol = Symbol('sql');

export class Sql {
  readonly [BRAND] = true;
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export function isSql(v: unknown): v is Sql {
  return v instanceof Sql;
}

/** Longest string value accepted into a statement (256 Ki UTF-16 code units). */
export const MAX_STRING_LENGTH = 256 * 1024;

function fail(what: string): never {
  throw new AppError('VIRAL_ERR_SQL_VALUE', `invalid SQL value: ${what}`);
}

const ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  "'": "\\'",
  '\0': '\\0',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};
// Characters that need escaping, plus any other C0 control character (written as \xHH).
const NEEDS_ESCAPE = /[\\'\0\n\r\t\b\f\x01-\x07\x0b\x0e-\x1f\x7f]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A string literal. */
export function str(value: unknown): Sql {
  if (typeof value !== 'string') fail(`expected a string, got ${typeof value}`);
  if (value.length > MAX_STRING_LENGTH) fail(`string longer than ${MAX_STRING_LENGTH}`);
  if (LONE_SURROGATE.test(value)) fail('string contains a lone UTF-16 surrogate');
  const escaped = value.replace(NEEDS_ESCAPE, (c) => ESCAPES[c] ?? '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'));
  return new Sql(`'${escaped}'`);
}

/** An integer literal (safe integers only). */
export function int(value: unknown): Sql {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) fail(`expected a safe integer, got ${String(value)}`);
  return new Sql(String(value));
}

/** A finite floating-point literal. */
export function float(value: unknown): Sql {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(`expected a finite number, got ${String(value)}`);
  // Exponent form is valid SQL on both versions; toString never yields NaN/Infinity here.
  return new Sql(`toFloat64(${String(value)})`);
}

/** A DateTime (seconds, UTC) from epoch milliseconds or a Date: `toDateTime(<seconds>)`. */
export function dateTime(value: number | Date): Sql {
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) fail('expected a date');
  const s = Math.floor(ms / 1000);
  // DateTime is UInt32 seconds: 1970-01-01 … 2106-02-07.
  if (s < 0 || s > 0xffffffff) fail(`date out of DateTime range: ${String(value)}`);
  return new Sql(`toDateTime(${s})`);
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** An identifier (column, table, database), checked against a whitelist when one is given. */
export function ident(name: unknown, allowed?: readonly string[]): Sql {
  if (typeof name !== 'string' || !IDENT.test(name)) fail(`invalid identifier ${JSON.stringify(String(name)).slice(0, 80)}`);
  if (allowed && !allowed.includes(name)) fail(`identifier ${name} is not allowed`);
  return new Sql(name);
}

/** A parenthesised list of fragments: `(a, b, c)`; empty lists are rejected (invalid SQL). */
export function list(items: readonly Sql[]): Sql {
  if (items.length === 0) fail('empty list');
  for (const i of items) if (!isSql(i)) fail('list item is not an Sql fragment');
  return new Sql(`(${items.map((i) => i.text).join(', ')})`);
}

/** Joins fragments with a separator (e.g. ' AND '). */
export function join(items: readonly Sql[], separator: string): Sql {
  for (const i of items) if (!isSql(i)) fail('join item is not an Sql fragment');
  return new Sql(items.map((i) => i.text).join(separator));
}

/**
 * Trusted SQL text written in this repository (keywords, constant expressions). Never pass user
 * input: the name is meant to stand out in review.
 */
export function raw(text: string): Sql {
  return new Sql(text);
}

/** Tagged template: only `Sql` fragments may be interpolated. */
export function sql(strings: TemplateStringsArray, ...values: Sql[]): Sql {
  let out = strings[0];
  values.forEach((v, i) => {
    if (!isSql(v)) fail(`interpolated value ${i} is not an Sql fragment (use str/int/float/dateTime/ident)`);
    out += v.text + strings[i + 1];
  });
  return new Sql(out);
}
