import type { Queryable } from '../../db/database.ts'
import { RestError, SchemaCacheMiss } from './rest-error.ts'
import { loadSchema, type DbFunction, type ForeignKey, type Relation, type SchemaSnapshot } from './schema-catalog.ts'

/** How an embedded resource joins its parent. */
export interface Relationship {
  target: Relation
  foreignKey: ForeignKey
  /** Object (many-to-one, one-to-one) or array (one-to-many). */
  cardinality: 'one' | 'many'
  /** Pairs [parent column, target column] of the join condition. */
  join: Array<[string, string]>
}

/**
 * PostgREST's schema cache: loaded once, reloaded when a request names something it does not
 * know (a table created after the gateway started) or after Postgres said a cached object is
 * gone. Concurrent reloads share one catalog read.
 */
export class SchemaCache {
  private snapshot: SchemaSnapshot | undefined
  private loading: Promise<SchemaSnapshot> | undefined
  private stale = false
  private generation = 0

  constructor(private readonly db: Queryable) {}

  async current(): Promise<SchemaSnapshot> {
    if (this.snapshot && !this.stale) return this.snapshot
    return this.reload()
  }

  /** Reloads unless the cache is already newer than generation `since` (or a reload is running). */
  async reload(since = 0): Promise<SchemaSnapshot> {
    if (this.snapshot && !this.stale && this.snapshot.loadedAt > since) return this.snapshot
    this.loading ??= loadSchema(this.db)
      .then((snapshot) => {
        // A generation number, not a clock: two reloads within one millisecond stay ordered.
        snapshot.loadedAt = ++this.generation
        this.snapshot = snapshot
        this.stale = false
        return snapshot
      })
      .finally(() => (this.loading = undefined))
    return this.loading
  }

  /** Postgres reported a missing relation/column/function: the next request reloads first. */
  markStale(): void {
    this.stale = true
  }
}

export function findRelation(schema: SchemaSnapshot, name: string): Relation {
  const relation = schema.relations.get(name)
  if (!relation || relation.kind === 'composite') {
    throw new SchemaCacheMiss(404, 'PGRST205', `Could not find the table 'public.${name}' in the schema cache`, null,
      suggest(name, [...schema.relations.values()].filter((r) => r.kind !== 'composite').map((r) => r.name), (s) => `Perhaps you meant the table 'public.${s}'`))
  }
  return relation
}

export function findFunctions(schema: SchemaSnapshot, name: string, argNames: string[]): DbFunction[] {
  const overloads = schema.functions.get(name)
  if (!overloads) {
    throw new SchemaCacheMiss(404, 'PGRST202', `Could not find the function public.${name}(${argNames.join(', ')}) in the schema cache`,
      `Searched for the function public.${name} with parameters ${argNames.join(', ') || 'none'}, but no matches were found in the schema cache.`,
      suggest(name, [...schema.functions.keys()], (s) => `Perhaps you meant to call the function public.${s}`))
  }
  return overloads
}

/**
 * Resolves `name[!hint]` embedded under `parent` as PostgREST does: a foreign key from the parent
 * to the target (to-one), from the target to the parent (to-many, or to-one when the key is
 * unique), or a foreign-key column of the parent named directly. The hint is a constraint name
 * or a foreign-key column; several matches without one is PGRST201.
 */
export function findRelationship(schema: SchemaSnapshot, parent: Relation, name: string, hint: string | undefined): Relationship {
  const candidates: Relationship[] = []
  const byColumn = !schema.relations.has(name)
  for (const fk of schema.foreignKeys) {
    const matchesHint = hint === undefined || fk.name === hint || (fk.columns.length === 1 && fk.columns[0] === hint) ||
      (fk.refColumns.length === 1 && fk.refColumns[0] === hint)
    if (!matchesHint) continue
    if (fk.table === parent.name && (fk.refTable === name || (byColumn && fk.columns.length === 1 && fk.columns[0] === name))) {
      const target = schema.relations.get(fk.refTable)
      if (target) candidates.push({ target, foreignKey: fk, cardinality: 'one', join: zip(fk.columns, fk.refColumns) })
    }
    if (fk.refTable === parent.name && fk.table === name) {
      const target = schema.relations.get(fk.table)!
      const unique = target.uniqueKeys.some((key) => sameSet(key, fk.columns))
      candidates.push({ target, foreignKey: fk, cardinality: unique ? 'one' : 'many', join: zip(fk.refColumns, fk.columns) })
    }
  }
  if (candidates.length === 1) return candidates[0]!
  if (candidates.length === 0) {
    const using = hint ? ` using the hint '${hint}'` : ''
    throw new SchemaCacheMiss(400, 'PGRST200', `Could not find a relationship between '${parent.name}' and '${name}' in the schema cache`,
      `Searched for a foreign key relationship between '${parent.name}' and '${name}'${using} in the schema 'public', but no matches were found.`,
      null)
  }
  throw new RestError(300, 'PGRST201', `Could not embed because more than one relationship was found for '${parent.name}' and '${name}'`,
    candidates.map((c) => ({
      cardinality: c.cardinality === 'many' ? 'one-to-many' : 'many-to-one',
      embedding: `${parent.name} with ${c.target.name}`,
      relationship: `${c.foreignKey.name} using ${c.foreignKey.table}(${c.foreignKey.columns.join(', ')}) and ${c.foreignKey.refTable}(${c.foreignKey.refColumns.join(', ')})`,
    })),
    `Try changing '${name}' to one of the following: ${candidates.map((c) => `'${name}!${c.foreignKey.name}'`).join(', ')}. Find the desired relationship in the 'details' key.`)
}

const zip = (a: string[], b: string[]): Array<[string, string]> => a.map((x, i) => [x, b[i]!])
const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x))

/** The closest known name (edit distance ≤ 3), as a PostgREST-style hint. */
function suggest(name: string, known: string[], phrase: (s: string) => string): string | null {
  let best: string | undefined
  let bestDistance = 4
  for (const candidate of known) {
    const d = distance(name, candidate)
    if (d < bestDistance) [best, bestDistance] = [candidate, d]
  }
  return best ? phrase(best) : null
}

function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    prev = row
  }
  return prev[b.length]!
}
