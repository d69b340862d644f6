// Well-formed Unicode for strings that become ClickHouse values: ClickHouse 18.16 refuses a lone
// surrogate (JSON "\ud800" without its pair) in an insert (Code 25), so ingest and the api refuse
// it where a value becomes a column, naming the field.

/** String.prototype.isWellFormed (Node ≥ 20; TypeScript's lib here predates it). */
export function wellFormed(s: string): boolean {
  return (s as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/** The reason given for a string that is not well-formed, after its field's name. */
export const NOT_WELL_FORMED = 'must be well-formed Unicode (it holds a lone surrogate)';
