/**
 * The `filter` of a postgres_changes binding, as Supabase Realtime accepts it:
 * `column=op.value`, several joined by commas (AND), optionally `column=not.op.value`;
 * ops eq, neq, lt, lte, gt, gte, in (`in.(a,b,"c,d")`). Values compare as Postgres would for the
 * column's JSON value: numerically for numbers, `true`/`false` for booleans, as text otherwise;
 * a NULL column matches nothing (SQL's three-valued logic).
 */
export type FilterOp = 'eq' | 'neq' | 'lt' | 'lte' | 'gt' | 'gte' | 'in'
const OPS: readonly FilterOp[] = ['eq', 'neq', 'lt', 'lte', 'gt', 'gte', 'in']

export interface FilterCondition {
  column: string
  op: FilterOp
  negated: boolean
  values: string[]
}

export class FilterSyntaxError extends Error {
  constructor(filter: string, why: string) {
    super(`Invalid postgres_changes filter ${JSON.stringify(filter)}: ${why}. Use column=op.value with op one of ${OPS.join(', ')}`)
    this.name = 'FilterSyntaxError'
  }
}

/** Splits on `sep` outside double quotes and parentheses. */
function splitTopLevel(text: string, sep: string): string[] {
  const parts: string[] = []
  let depth = 0
  let quoted = false
  let current = ''
  for (const ch of text) {
    if (ch === '"') quoted = !quoted
    else if (!quoted && ch === '(') depth++
    else if (!quoted && ch === ')') depth--
    if (ch === sep && !quoted && depth === 0) {
      parts.push(current)
      current = ''
    } else current += ch
  }
  parts.push(current)
  return parts
}

const unquote = (value: string) =>
  value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1).replaceAll('\\"', '"') : value

export function parseFilter(filter: string): FilterCondition[] {
  return splitTopLevel(filter, ',').map((part) => {
    const eq = part.indexOf('=')
    if (eq <= 0) throw new FilterSyntaxError(filter, `"${part}" has no column=`)
    const column = part.slice(0, eq).trim()
    let rest = part.slice(eq + 1)
    let negated = false
    if (rest.startsWith('not.')) {
      negated = true
      rest = rest.slice(4)
    }
    const dot = rest.indexOf('.')
    const op = (dot < 0 ? rest : rest.slice(0, dot)) as FilterOp
    if (!OPS.includes(op) || dot < 0) throw new FilterSyntaxError(filter, `unknown operator in "${part}"`)
    const raw = rest.slice(dot + 1)
    if (op === 'in') {
      if (!raw.startsWith('(') || !raw.endsWith(')')) throw new FilterSyntaxError(filter, 'in needs a list: in.(a,b)')
      return { column, op, negated, values: splitTopLevel(raw.slice(1, -1), ',').map((v) => unquote(v.trim())) }
    }
    return { column, op, negated, values: [unquote(raw)] }
  })
}

function compare(actual: unknown, expected: string): number | null {
  if (actual === null || actual === undefined) return null
  if (typeof actual === 'number') {
    const n = Number(expected)
    return Number.isNaN(n) ? null : Math.sign(actual - n)
  }
  const text = typeof actual === 'string' ? actual : typeof actual === 'boolean' ? String(actual) : JSON.stringify(actual)
  return text === expected ? 0 : text < expected ? -1 : 1
}

function holds(condition: FilterCondition, record: Record<string, unknown>): boolean {
  const actual = record[condition.column]
  const results = condition.values.map((v) => compare(actual, v))
  if (results.some((r) => r === null)) return false
  const c = results[0]!
  let ok: boolean
  switch (condition.op) {
    case 'eq': ok = c === 0; break
    case 'neq': ok = c !== 0; break
    case 'lt': ok = c < 0; break
    case 'lte': ok = c <= 0; break
    case 'gt': ok = c > 0; break
    case 'gte': ok = c >= 0; break
    case 'in': ok = results.includes(0); break
  }
  return condition.negated ? !ok : ok
}

/** Whether a row image passes every condition (no conditions: every row). */
export function matchesFilter(conditions: FilterCondition[], record: Record<string, unknown> | null): boolean {
  if (conditions.length === 0) return true
  if (!record) return false
  return conditions.every((condition) => holds(condition, record))
}
