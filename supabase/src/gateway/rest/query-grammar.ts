import { parseError } from './rest-error.ts'

/**
 * PostgREST's query-string grammar (docs.postgrest.org, "Tables and Views"), parsed into plain
 * data. Names are only syntax here; the planner checks every one against the schema cache.
 */

/** `->` keeps JSON, `->>` gives text. */
export interface JsonStep {
  arrow: '->' | '->>'
  key: string
}

/** A column, optionally followed by JSON arrows: `spec->training->>rounds`. */
export interface FieldRef {
  column: string
  path: JsonStep[]
}

export type SelectItem =
  | { kind: 'star' }
  | { kind: 'field'; alias?: string; field: FieldRef; cast?: string }
  | { kind: 'embed'; alias?: string; name: string; hint?: string; inner: boolean; items: SelectItem[] }

export const OPERATORS = [
  'eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'match', 'imatch', 'is', 'isdistinct', 'in',
  'cs', 'cd', 'ov', 'sl', 'sr', 'nxr', 'nxl', 'adj', 'fts', 'plfts', 'phfts', 'wfts',
] as const
export type Operator = (typeof OPERATORS)[number]

export type Condition =
  | { kind: 'test'; field: FieldRef; negate: boolean; op: Operator; value: string; list?: Array<string | null>; language?: string }
  | { kind: 'group'; op: 'and' | 'or'; negate: boolean; items: Condition[] }

export interface OrderTerm {
  field: FieldRef
  direction: 'asc' | 'desc' | undefined
  nulls: 'first' | 'last' | undefined
}

/**
 * Splits on `separator` outside parentheses and double quotes (a backslash escapes inside
 * quotes), as PostgREST does for select lists, logic trees and `in` lists.
 */
export function splitTopLevel(text: string, separator = ','): string[] {
  const parts: string[] = []
  let depth = 0
  let quoted = false
  let start = 0
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quoted) {
      if (c === '\\') i++
      else if (c === '"') quoted = false
    } else if (c === '"') quoted = true
    else if (c === '(') depth++
    else if (c === ')') depth--
    else if (c === separator && depth === 0) {
      parts.push(text.slice(start, i))
      start = i + 1
    }
  }
  if (depth !== 0 || quoted) throw parseError('the list', text)
  parts.push(text.slice(start))
  return parts
}

/** `"a,b"` → `a,b` (with `\"` and `\\` unescaped); anything else unchanged. */
export function unquote(text: string): string {
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) return text.slice(1, -1).replace(/\\(.)/g, '$1')
  return text
}

// Unquoted names stop at the grammar's punctuation (a `-` starts an arrow): quote anything else.
const NAME = String.raw`(?:"[^"]*"|[^\s,.:()!"'<>-]+)`
const FIELD_RE = new RegExp(String.raw`^(${NAME})((?:->>?(?:${NAME}|-?\d+))*)$`)
const STEP_RE = new RegExp(String.raw`(->>?)(${NAME}|-?\d+)`, 'g')
const ALIAS_RE = new RegExp(String.raw`^(${NAME}):(?!:)`)
// One type name; the only spaces allowed are those of Postgres's multi-word type names, so a
// cast can never carry other SQL words (`::text or true` is refused, not spliced).
const CAST_RE = /^[a-z_][a-z0-9_]*( precision| varying| with(out)? time zone)?(\[\])?$/i

/** `col`, `"my col"`, `spec->training->>rounds`. */
export function parseField(text: string): FieldRef {
  const match = FIELD_RE.exec(text)
  if (!match) throw parseError('the field name', text)
  const path: JsonStep[] = []
  for (const step of match[2]!.matchAll(STEP_RE)) path.push({ arrow: step[1] as JsonStep['arrow'], key: unquote(step[2]!) })
  return { column: unquote(match[1]!), path }
}

/** `select=id,title:name,owner:profiles!todos_owner_fkey(name),tags!inner(*),spec->>x::int` */
export function parseSelect(text: string): SelectItem[] {
  if (text.trim() === '') return [{ kind: 'star' }]
  return splitTopLevel(text).map((raw) => parseSelectItem(raw.trim()))
}

function parseSelectItem(item: string): SelectItem {
  if (item === '*') return { kind: 'star' }
  if (item.startsWith('...')) throw parseError('the select parameter: spread embedding is not supported by this gateway', item)
  let alias: string | undefined
  let rest = item
  const aliasMatch = ALIAS_RE.exec(item)
  if (aliasMatch) {
    alias = unquote(aliasMatch[1]!)
    rest = item.slice(aliasMatch[0].length)
  }
  const open = rest.indexOf('(')
  if (open >= 0) {
    if (!rest.endsWith(')')) throw parseError('the select parameter', item)
    const head = rest.slice(0, open)
    const inner = rest.slice(open + 1, -1)
    const [name, ...modifiers] = head.split('!')
    if (!name || /[.>]/.test(name) || (name === 'count' && inner === '')) {
      throw parseError('the select parameter: aggregate functions are not enabled', item)
    }
    let hint: string | undefined
    let inner_ = false
    for (const modifier of modifiers) {
      if (modifier === 'inner') inner_ = true
      else if (modifier === 'left') inner_ = false
      else if (hint === undefined && modifier) hint = unquote(modifier)
      else throw parseError('the select parameter', item)
    }
    return { kind: 'embed', alias, name: unquote(name), hint, inner: inner_, items: inner === '' ? [] : parseSelect(inner) }
  }
  const castAt = rest.lastIndexOf('::')
  let cast: string | undefined
  if (castAt > 0) {
    cast = rest.slice(castAt + 2)
    rest = rest.slice(0, castAt)
    if (!CAST_RE.test(cast)) throw parseError('the cast', item)
  }
  return { kind: 'field', alias, field: parseField(rest), cast }
}

/** `[not.]op[(language)].value`, the right-hand side of `col=…` or of a logic-tree condition. */
export function parseOperation(field: FieldRef, text: string): Condition {
  let rest = text
  let negate = false
  if (rest.startsWith('not.')) {
    negate = true
    rest = rest.slice(4)
  }
  const dot = rest.indexOf('.')
  if (dot < 0) throw parseError('filter', text)
  let opText = rest.slice(0, dot)
  const value = rest.slice(dot + 1)
  let language: string | undefined
  const withLanguage = /^(fts|plfts|phfts|wfts)\(([a-z_]+)\)$/.exec(opText)
  if (withLanguage) [opText, language] = [withLanguage[1]!, withLanguage[2]!]
  if (!(OPERATORS as readonly string[]).includes(opText)) throw parseError('filter', text)
  const op = opText as Operator
  if (op === 'in') {
    if (!value.startsWith('(') || !value.endsWith(')')) throw parseError('the in list (expected in.(a,b))', text)
    const body = value.slice(1, -1)
    const list = body === '' ? [] : splitTopLevel(body).map((v) => (v === 'null' ? null : unquote(v)))
    return { kind: 'test', field, negate, op, value, list }
  }
  if (op === 'is' && !['null', 'not_null', 'true', 'false', 'unknown'].includes(value.toLowerCase())) {
    throw parseError('filter: is. takes null, not_null, true, false or unknown', text)
  }
  return { kind: 'test', field, negate, op, value: unquote(value), language }
}

/** `(a.eq.1,and(b.gt.2,c.is.null),not.or(d.eq.x,e.eq.y))` under `or=`/`and=`/`not.or=`. */
export function parseLogicTree(op: 'and' | 'or', negate: boolean, text: string): Condition {
  if (!text.startsWith('(') || !text.endsWith(')')) throw parseError('logic tree', text)
  const items = splitTopLevel(text.slice(1, -1)).map((raw): Condition => {
    const part = raw.trim()
    const nested = /^(not\.)?(and|or)(\(.*\))$/s.exec(part)
    if (nested) return parseLogicTree(nested[2] as 'and' | 'or', Boolean(nested[1]), nested[3]!)
    const dot = part.indexOf('.')
    if (dot <= 0) throw parseError('logic tree', part)
    return parseOperation(parseField(part.slice(0, dot)), part.slice(dot + 1))
  })
  return { kind: 'group', op, negate, items }
}

/** `order=id.desc.nullslast,title` */
export function parseOrder(text: string): OrderTerm[] {
  return splitTopLevel(text).map((raw) => {
    const parts = raw.trim().split('.')
    const term: OrderTerm = { field: parseField(parts[0] ?? ''), direction: undefined, nulls: undefined }
    for (const modifier of parts.slice(1)) {
      if (modifier === 'asc' || modifier === 'desc') term.direction = modifier
      else if (modifier === 'nullsfirst') term.nulls = 'first'
      else if (modifier === 'nullslast') term.nulls = 'last'
      else throw parseError('the order parameter', raw)
    }
    return term
  })
}

export function parseNonNegativeInteger(name: string, text: string): number {
  if (!/^\d{1,15}$/.test(text)) throw parseError(`the ${name} parameter (expected a non-negative integer)`, text)
  return Number(text)
}
