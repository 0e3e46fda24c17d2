import { RestError, SchemaCacheMiss } from './rest-error.ts'
import type { DbFunction, FunctionArg } from './schema-catalog.ts'
import { arrayLiteral, ident, type SqlParams } from './sql-params.ts'

/**
 * Picks the overload whose named arguments cover `argNames` and whose arguments without a
 * default are all given, as PostgREST does. A function with one unnamed json/jsonb argument
 * takes the whole body.
 */
export function chooseFunction(name: string, overloads: DbFunction[], argNames: string[]): DbFunction {
  const matches = overloads.filter((fn) => {
    if (fn.args.length === 1 && fn.args[0]!.name === '' && fn.args[0]!.category === 'json') return true
    const names = new Set(fn.args.map((a) => a.name))
    return argNames.every((n) => names.has(n)) && fn.args.every((a) => a.hasDefault || argNames.includes(a.name))
  })
  if (matches.length === 1) return matches[0]!
  if (matches.length === 0) {
    const known = overloads.map((fn) => `public.${name}(${fn.args.map((a) => a.name).join(', ')})`).join(', ')
    throw new SchemaCacheMiss(404, 'PGRST202', `Could not find the function public.${name}(${argNames.join(', ')}) in the schema cache`,
      `Searched for the function public.${name} with parameters ${argNames.join(', ') || 'none'} or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.`,
      `Perhaps you meant to call the function ${known}`)
  }
  throw new RestError(300, 'PGRST203', `Could not choose the best candidate function between: ${matches.map((fn) => `public.${name}(${fn.args.map((a) => `${a.name} => ${a.typeSql}`).join(', ')})`).join(', ')}`,
    null, 'Try renaming the parameters or the function itself in the database so function overloading can be resolved')
}

/** A JSON value (POST body) or query-string text (GET) as the text form of the argument's type. */
function encodeArgument(arg: FunctionArg, value: unknown, fromQueryString: boolean): unknown {
  if (value === null || value === undefined) return null
  if (fromQueryString) return value
  if (arg.category === 'json') return JSON.stringify(value)
  if (arg.category === 'array' && Array.isArray(value)) return arrayLiteral(value)
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

/**
 * `public."fn"("a" := $1::type, …)`: named notation with each value cast to the declared type,
 * so overloads resolve exactly and values never reach the SQL text.
 */
export function functionCall(fn: DbFunction, args: Record<string, unknown>, fromQueryString: boolean, params: SqlParams, wholeBody: unknown): string {
  const only = fn.args[0]
  if (fn.args.length === 1 && only && only.name === '' && only.category === 'json') {
    const body = fromQueryString ? JSON.stringify(args) : JSON.stringify(wholeBody ?? {})
    return `public.${ident(fn.name)}(${params.add(body)}::${only.typeSql})`
  }
  const list = fn.args
    .filter((arg) => arg.name in args)
    .map((arg) => `${ident(arg.name)} := ${params.add(encodeArgument(arg, args[arg.name], fromQueryString))}::${arg.typeSql}`)
  return `public.${ident(fn.name)}(${list.join(', ')})`
}
