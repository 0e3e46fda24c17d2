import type { Condition, FieldRef, OrderTerm, SelectItem } from './query-grammar.ts'
import type { Directives } from './query-params.ts'
import { RestError, SchemaCacheMiss } from './rest-error.ts'
import { findRelationship } from './schema-cache.ts'
import type { Relation, SchemaSnapshot } from './schema-catalog.ts'
import { arrayLiteral, ident, type SqlParams } from './sql-params.ts'

/** One `select … from … where … order by … limit … offset …`, kept in parts so callers can reuse the filter. */
export interface SelectParts {
  fields: string
  from: string
  where: string[]
  orderBy: string
  limit: string
}

const COMPARISON: Record<string, string> = {
  eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=', like: 'like', ilike: 'ilike', match: '~', imatch: '~*',
  cs: '@>', cd: '<@', ov: '&&', sl: '<<', sr: '>>', nxr: '&<', nxl: '&>', adj: '-|-', isdistinct: 'is distinct from',
}
const FTS: Record<string, string> = { fts: 'to_tsquery', plfts: 'plainto_tsquery', phfts: 'phraseto_tsquery', wfts: 'websearch_to_tsquery' }
const IS: Record<string, string> = { null: 'is null', not_null: 'is not null', true: 'is true', false: 'is false', unknown: 'is unknown' }

/**
 * Turns a parsed select list and its filters into SQL the way PostgREST does: columns checked
 * against the schema cache and quoted, values bound as parameters (typed by the column they are
 * compared with), embedded resources as correlated subqueries built with json_agg/row_to_json
 * so every type serializes exactly as PostgREST's output does.
 */
export class SelectBuilder {
  private aliases = 0
  /** Directive paths some resource consumed; the rest name embeddings that do not exist. */
  readonly usedPaths = new Set<string>([''])

  constructor(
    private readonly schema: SchemaSnapshot,
    private readonly params: SqlParams,
    private readonly directives: Map<string, Directives>,
  ) {}

  /**
   * `from` is a table, a function call or a CTE, aliased `t0` at the root. `conditions` false
   * leaves the filters out (a mutation already applied them).
   */
  parts(relation: Relation, from: string, items: SelectItem[], path: string, alias: string, conditions = true): SelectParts {
    const d = this.directives.get(path)
    const fields: string[] = []
    const where: string[] = []
    for (const item of items) {
      if (item.kind === 'star') fields.push(`${ident(alias)}.*`)
      else if (item.kind === 'field') {
        let sql = this.field(relation, alias, item.field)
        if (item.cast) sql = `(${sql})::${item.cast}`
        const name = item.alias ?? (item.field.path.length > 0 ? item.field.path[item.field.path.length - 1]!.key : item.field.column)
        fields.push(`${sql} as ${ident(name)}`)
      } else {
        const embedded = this.embed(relation, alias, item, path)
        fields.push(`${embedded.sql} as ${ident(item.alias ?? item.name)}`)
        if (embedded.innerCondition) where.push(embedded.innerCondition)
      }
    }
    if (d && conditions) for (const condition of d.conditions) where.push(this.condition(relation, alias, condition))
    const orderBy = d && d.order.length > 0 ? ` order by ${d.order.map((t) => this.orderTerm(relation, alias, t)).join(', ')}` : ''
    let limit = ''
    if (d?.limit !== undefined) limit += ` limit ${this.params.add(d.limit)}::bigint`
    if (d?.offset !== undefined) limit += ` offset ${this.params.add(d.offset)}::bigint`
    return { fields: fields.length > 0 ? fields.join(', ') : 'null as "_"', from: `${from} as ${ident(alias)}`, where, orderBy, limit }
  }

  /** Paths in the query string that no embedded resource consumed: PGRST108 like PostgREST. */
  assertAllPathsUsed(): void {
    for (const path of this.directives.keys()) {
      if (!this.usedPaths.has(path)) {
        throw new RestError(400, 'PGRST108', `'${path}' is not an embedded resource in this request`, null,
          `Verify that '${path}' is included in the 'select' query parameter.`)
      }
    }
  }

  private embed(parent: Relation, parentAlias: string, item: Extract<SelectItem, { kind: 'embed' }>, parentPath: string) {
    const rel = findRelationship(this.schema, parent, item.name, item.hint)
    const path = parentPath ? `${parentPath}.${item.alias ?? item.name}` : (item.alias ?? item.name)
    this.usedPaths.add(path)
    const alias = `t${++this.aliases}`
    const child = this.parts(rel.target, `public.${ident(rel.target.name)}`, item.items, path, alias)
    for (const [parentColumn, childColumn] of rel.join) {
      child.where.unshift(`${ident(alias)}.${ident(childColumn)} = ${ident(parentAlias)}.${ident(parentColumn)}`)
    }
    const inner = `select ${child.fields} from ${child.from} where ${child.where.join(' and ')}${child.orderBy}${child.limit}`
    const row = ident(`${alias}_row`)
    const sql = rel.cardinality === 'one'
      ? `(select row_to_json(${row}) from (${inner}) as ${row})`
      : `coalesce((select json_agg(${row}) from (${inner}) as ${row}), '[]'::json)`
    const innerCondition = item.inner ? `exists (select 1 from (${inner}) as ${ident(`${alias}_inner`)})` : undefined
    return { sql, innerCondition }
  }

  field(relation: Relation, alias: string, field: FieldRef): string {
    if (!relation.columns.has(field.column)) {
      throw new SchemaCacheMiss(400, '42703', `column ${relation.name}.${field.column} does not exist`, null,
        `The columns of ${relation.name} are: ${relation.columnList.map((c) => c.name).join(', ')}`)
    }
    let sql = `${ident(alias)}.${ident(field.column)}`
    for (const step of field.path) {
      const key = /^-?\d+$/.test(step.key) ? `${this.params.add(Number(step.key))}::integer` : `${this.params.add(step.key)}::text`
      sql += `${step.arrow}${key}`
    }
    return sql
  }

  condition(relation: Relation, alias: string, condition: Condition): string {
    if (condition.kind === 'group') {
      if (condition.items.length === 0) return condition.negate ? 'false' : 'true'
      const sql = `(${condition.items.map((c) => this.condition(relation, alias, c)).join(` ${condition.op} `)})`
      return condition.negate ? `not ${sql}` : sql
    }
    const lhs = this.field(relation, alias, condition.field)
    let sql: string
    if (condition.op === 'is') sql = `${lhs} ${IS[condition.value.toLowerCase()]}`
    else if (condition.op === 'in') sql = `${lhs} = any(${this.params.add(arrayLiteral(condition.list ?? []))})`
    else if (condition.op in FTS) {
      const language = condition.language ? `${this.params.add(condition.language)}::regconfig, ` : ''
      sql = `${lhs} @@ ${FTS[condition.op]}(${language}${this.params.add(condition.value)})`
    } else {
      // PostgREST's `*` wildcard for like/ilike (`%` needs URL-escaping in a query string).
      const value = condition.op === 'like' || condition.op === 'ilike' ? condition.value.replace(/\*/g, '%') : condition.value
      // An untyped parameter takes the type of the column it is compared with (enum, uuid, …).
      sql = `${lhs} ${COMPARISON[condition.op]} ${this.params.add(value)}`
    }
    return condition.negate ? `not (${sql})` : sql
  }

  private orderTerm(relation: Relation, alias: string, term: OrderTerm): string {
    let sql = this.field(relation, alias, term.field)
    if (term.direction) sql += ` ${term.direction}`
    if (term.nulls) sql += ` nulls ${term.nulls}`
    return sql
  }
}

/** The parts as one statement. */
export function selectStatement(parts: SelectParts): string {
  const where = parts.where.length > 0 ? ` where ${parts.where.join(' and ')}` : ''
  return `select ${parts.fields} from ${parts.from}${where}${parts.orderBy}${parts.limit}`
}
