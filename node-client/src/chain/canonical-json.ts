/**
 * Canonical JSON, for hashing: object keys sorted by UTF-16 code units (JavaScript's default sort),
 * at every depth; no whitespace; strings, numbers, booleans and null as JSON.stringify writes them
 * (numbers in their shortest round-trip form). Object properties whose value is undefined are left
 * out, as JSON.stringify does. Anything else JSON cannot represent exactly (NaN, ±Infinity, bigint,
 * functions, undefined in an array or at the top) is refused with a TypeError rather than silently
 * changed, since the hash must mean the same thing to whoever recomputes it.
 */
export function canonicalJson(value: unknown): string {
  return write(value, '$')
}

function write(value: unknown, at: string): string {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value)
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${at}: ${value} has no JSON form`)
      return JSON.stringify(value)
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((item, i) => write(item, `${at}[${i}]`)).join(',')}]`
      const entries = Object.keys(value)
        .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
        .sort()
        .map((key) => `${JSON.stringify(key)}:${write((value as Record<string, unknown>)[key], `${at}.${key}`)}`)
      return `{${entries.join(',')}}`
    }
    default:
      throw new TypeError(`${at}: a ${typeof value} has no JSON form`)
  }
}
