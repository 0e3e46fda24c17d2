import { parseError } from './rest-error.ts'
import {
  parseField, parseLogicTree, parseNonNegativeInteger, parseOperation, parseOrder, parseSelect, splitTopLevel, unquote,
  type Condition, type OrderTerm, type SelectItem,
} from './query-grammar.ts'

/** Filters, order and paging for one resource: the root (path '') or an embedded one ('tags'). */
export interface Directives {
  conditions: Condition[]
  order: OrderTerm[]
  limit?: number
  offset?: number
}

export interface QueryParams {
  select: SelectItem[]
  /** Directives by embedding path ('' = the requested table itself). */
  directives: Map<string, Directives>
  /** `columns="a","b"`: the columns an insert takes from each object. */
  columns?: string[]
  /** `on_conflict=a,b`: the upsert's conflict target. */
  onConflict?: string[]
}

const SUFFIXES = new Set(['order', 'limit', 'offset', 'or', 'and'])

/**
 * Reads a PostgREST query string. `skip` names parameters that are not filters (the arguments
 * of a function called by GET).
 */
export function parseQueryParams(params: URLSearchParams, skip: ReadonlySet<string> = new Set()): QueryParams {
  const query: QueryParams = { select: [{ kind: 'star' }], directives: new Map([['', emptyDirectives()]]) }
  const at = (path: string) => {
    let d = query.directives.get(path)
    if (!d) query.directives.set(path, (d = emptyDirectives()))
    return d
  }
  for (const [key, value] of params) {
    if (skip.has(key)) continue
    if (key === 'select') query.select = parseSelect(value)
    else if (key === 'columns') query.columns = splitTopLevel(value).map((c) => unquote(c.trim()))
    else if (key === 'on_conflict') query.onConflict = splitTopLevel(value).map((c) => unquote(c.trim()))
    else {
      const segments = key.split('.')
      let negate = false
      let last = segments.pop()!
      if ((last === 'or' || last === 'and') && segments[segments.length - 1] === 'not') {
        negate = true
        segments.pop()
      }
      if (SUFFIXES.has(last) || negate) {
        const d = at(segments.join('.'))
        if (last === 'order') d.order = parseOrder(value)
        else if (last === 'limit') d.limit = parseNonNegativeInteger('limit', value)
        else if (last === 'offset') d.offset = parseNonNegativeInteger('offset', value)
        else d.conditions.push(parseLogicTree(last as 'and' | 'or', negate, value))
      } else {
        if (last === '') throw parseError('filter', key)
        // `tags.name=eq.x` filters the embedded `tags`; a plain key filters the table.
        at(segments.join('.')).conditions.push(parseOperation(parseField(last), value))
      }
    }
  }
  return query
}

function emptyDirectives(): Directives {
  return { conditions: [], order: [] }
}
