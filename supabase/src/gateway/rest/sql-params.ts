/** Collects bound parameters: every value from a request travels as `$n`, never in the SQL text. */
export class SqlParams {
  readonly values: unknown[] = []

  add(value: unknown): string {
    this.values.push(value)
    return `$${this.values.length}`
  }
}

/** A schema-checked identifier, double-quoted (a `"` inside is doubled). */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

/** A Postgres array literal `{"a","b",NULL}`: how `in.(…)` lists and array arguments are bound. */
export function arrayLiteral(values: ReadonlyArray<unknown>): string {
  const items = values.map((v) => {
    if (v === null || v === undefined) return 'NULL'
    if (Array.isArray(v)) return arrayLiteral(v)
    const text = typeof v === 'object' ? JSON.stringify(v) : String(v)
    return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
  })
  return `{${items.join(',')}}`
}
