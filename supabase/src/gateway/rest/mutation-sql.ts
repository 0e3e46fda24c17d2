import type { Condition } from './query-grammar.ts'
import { RestError, SchemaCacheMiss } from './rest-error.ts'
import type { Column, Relation } from './schema-catalog.ts'
import type { SelectBuilder } from './select-sql.ts'
import { ident, type SqlParams } from './sql-params.ts'

export type JsonObject = Record<string, unknown>

/** The columns a body writes, each checked against the schema cache (PGRST204 otherwise). */
export function writtenColumns(relation: Relation, names: string[]): Column[] {
  return names.map((name) => {
    const column = relation.columns.get(name)
    if (!column) {
      throw new SchemaCacheMiss(400, 'PGRST204', `Could not find the '${name}' column of '${relation.name}' in the schema cache`, null,
        `The columns of ${relation.name} are: ${relation.columnList.map((c) => c.name).join(', ')}`)
    }
    return column
  })
}

const recordDefinition = (columns: Column[]) => columns.map((c) => `${ident(c.name)} ${c.typeSql}`).join(', ')

export interface InsertOptions {
  onConflict?: string[]
  resolution?: 'merge-duplicates' | 'ignore-duplicates'
  missingDefault: boolean
}

/**
 * `insert … select … from json_to_recordset($1)`: the whole body is one bound JSON parameter,
 * read with the columns' own types, so one statement inserts any number of rows. Keys missing
 * from an object are NULL, or the column default under `Prefer: missing=default`.
 */
export function insertStatement(relation: Relation, rows: JsonObject[], columns: Column[], options: InsertOptions, params: SqlParams): string {
  const target = `public.${ident(relation.name)} as "t0"`
  const body = params.add(JSON.stringify(rows))
  let sql: string
  if (columns.length === 0) {
    // Every column takes its default, one row per object.
    sql = `insert into ${target} select from json_array_elements(${body}::json)`
  } else if (options.missingDefault) {
    const values = columns.map((c) =>
      c.defaultSql ? `case when "pgrst_e"."el"::jsonb ? ${params.add(c.name)}::text then "pgrst_rec".${ident(c.name)} else ${c.defaultSql} end` : `"pgrst_rec".${ident(c.name)}`)
    sql = `insert into ${target} (${columns.map((c) => ident(c.name)).join(', ')}) select ${values.join(', ')}
      from json_array_elements(${body}::json) as "pgrst_e"("el")
      cross join lateral json_to_record("pgrst_e"."el") as "pgrst_rec"(${recordDefinition(columns)})`
  } else {
    const names = columns.map((c) => ident(c.name)).join(', ')
    sql = `insert into ${target} (${names}) select ${names} from json_to_recordset(${body}::json) as "pgrst_body"(${recordDefinition(columns)})`
  }
  if (options.resolution) {
    const conflict = options.onConflict ?? relation.primaryKey
    for (const name of conflict) {
      if (!relation.columns.has(name)) {
        throw new SchemaCacheMiss(400, '42703', `column ${relation.name}.${name} does not exist`, null, 'on_conflict names the unique columns of the conflict target')
      }
    }
    const targetList = conflict.length > 0 ? ` (${conflict.map(ident).join(', ')})` : ''
    const updates = columns.filter((c) => !conflict.includes(c.name))
    sql += options.resolution === 'ignore-duplicates' || updates.length === 0
      ? ` on conflict${targetList} do nothing`
      : ` on conflict${targetList} do update set ${updates.map((c) => `${ident(c.name)} = excluded.${ident(c.name)}`).join(', ')}`
  }
  return sql
}

/** The filters of a PATCH/DELETE; hosted Supabase (pg-safeupdate) refuses them without any. */
function requiredWhere(verb: 'UPDATE' | 'DELETE', relation: Relation, conditions: Condition[], builder: SelectBuilder): string {
  if (conditions.length === 0) {
    throw new RestError(400, '21000', `${verb} requires a WHERE clause`, null,
      `Add a filter (e.g. .eq('id', …)); to really ${verb.toLowerCase()} every row, filter on a condition every row meets`)
  }
  return conditions.map((c) => builder.condition(relation, 't0', c)).join(' and ')
}

export function updateStatement(relation: Relation, values: JsonObject, columns: Column[], conditions: Condition[], builder: SelectBuilder, params: SqlParams): string {
  const body = params.add(JSON.stringify(values))
  const sets = columns.map((c) => `${ident(c.name)} = "pgrst_body".${ident(c.name)}`).join(', ')
  const where = requiredWhere('UPDATE', relation, conditions, builder)
  return `update public.${ident(relation.name)} as "t0" set ${sets}
    from (select * from json_to_record(${body}::json) as "pgrst_b"(${recordDefinition(columns)})) as "pgrst_body" where ${where}`
}

export function deleteStatement(relation: Relation, conditions: Condition[], builder: SelectBuilder): string {
  return `delete from public.${ident(relation.name)} as "t0" where ${requiredWhere('DELETE', relation, conditions, builder)}`
}
