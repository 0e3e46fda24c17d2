import type { Queryable } from './database.ts'

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/

/**
 * Calls `public.<name>` with named arguments, the way PostgREST runs `POST /rest/v1/rpc/<name>`:
 * names are checked identifiers, values are always bound parameters. Objects and arrays travel
 * as JSON text (the function's jsonb parameter parses them); Postgres resolves the rest from the
 * function's declared argument types.
 */
export async function callFunction<R = Record<string, unknown>>(
  tx: Queryable,
  name: string,
  args: Record<string, unknown> = {},
): Promise<R[]> {
  if (!IDENTIFIER.test(name)) throw new Error(`Invalid function name ${JSON.stringify(name)}`)
  const keys = Object.keys(args)
  for (const key of keys) {
    if (!IDENTIFIER.test(key)) throw new Error(`Invalid argument name ${JSON.stringify(key)} for ${name}`)
  }
  const values = keys.map((key) => {
    const value = args[key]
    return value !== null && typeof value === 'object' ? JSON.stringify(value) : value
  })
  const list = keys.map((key, i) => `${key} := $${i + 1}`).join(', ')
  const { rows } = await tx.query<R>(`select * from public.${name}(${list})`, values)
  return rows
}
