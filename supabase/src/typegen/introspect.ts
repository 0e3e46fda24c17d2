import type { Queryable } from '../db/database.ts'

/**
 * What the API exposes of one schema, read from the catalog: the facts `supabase gen types`
 * turns into TypeScript. Types arrive resolved (domains to their base type, arrays to their
 * element), so rendering needs no further catalog lookups.
 */
export interface SchemaModel {
  schema: string
  /** Tables, partitioned tables and foreign tables. */
  tables: Relation[]
  /** Views and materialized views. */
  views: Relation[]
  functions: FunctionModel[]
  enums: EnumModel[]
  compositeTypes: CompositeTypeModel[]
}

export type PgType =
  | { kind: 'base'; name: string }
  | { kind: 'array'; element: PgType }
  | { kind: 'enum'; schema: string; name: string; labels: string[] }
  | { kind: 'composite'; schema: string; name: string }
  /** The row type of a table or view (`returns public.tasks`, a `public.tasks` argument). */
  | { kind: 'row'; schema: string; relation: string; isView: boolean }

export interface Column {
  name: string
  type: PgType
  nullable: boolean
  /** A default, a serial or an identity: the column may be left out of an insert. */
  hasDefault: boolean
  /** `generated always as identity` or `generated always as (…) stored`: writing it is an error. */
  generatedAlways: boolean
  /** false for the computed columns of an updatable view. */
  updatable: boolean
}

export interface Relationship {
  foreignKeyName: string
  columns: string[]
  /** The foreign key's columns are also a primary key or unique constraint of the table. */
  isOneToOne: boolean
  referencedRelation: string
  referencedColumns: string[]
}

export interface Relation {
  name: string
  columns: Column[]
  /** Foreign keys to relations of the same schema (PostgREST embeds only within the schema). */
  relationships: Relationship[]
  /** Views: auto-updatable, as information_schema.views.is_updatable defines it. */
  updatable: boolean
}

export interface FunctionArg {
  name: string
  type: PgType
  hasDefault: boolean
}

export interface FunctionModel {
  name: string
  /** Input arguments in declaration order. */
  args: FunctionArg[]
  returnType: PgType
  /** `returns table (…)` columns, or the OUT parameters of a `returns record` function. */
  returnColumns: { name: string; type: PgType }[] | null
  returnsSet: boolean
}

export interface EnumModel {
  name: string
  labels: string[]
}

export interface CompositeTypeModel {
  name: string
  attributes: { name: string; type: PgType }[]
}

interface TypeRow {
  oid: number
  schema: string
  name: string
  type_type: string
  category: string
  element_oid: number
  base_oid: number
  relkind: string | null
  labels: string[]
}

// Every type of the database (a few hundred rows): domains, arrays and row types point at
// other types, possibly in other schemas, so resolving them needs the whole table.
const TYPES_SQL = `
  select t.oid, n.nspname as schema, t.typname as name, t.typtype::text as type_type,
         t.typcategory::text as category, t.typelem as element_oid, t.typbasetype as base_oid,
         c.relkind::text as relkind,
         array(select e.enumlabel::text from pg_catalog.pg_enum e
               where e.enumtypid = t.oid order by e.enumsortorder) as labels
  from pg_catalog.pg_type t
  join pg_catalog.pg_namespace n on n.oid = t.typnamespace
  left join pg_catalog.pg_class c on c.oid = t.typrelid`

// relkind c is a composite type's attribute list; r/p/f tables, v/m views. Updatable means the
// UPDATE and DELETE bits (4 + 16), as information_schema.views.is_updatable tests it.
const RELATIONS_SQL = `
  select c.oid, c.relname as name, c.relkind::text as relkind,
         pg_catalog.pg_relation_is_updatable(c.oid, false) & 20 = 20 as updatable
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  where n.nspname = $1::text and c.relkind in ('r', 'p', 'f', 'v', 'm', 'c')`

const COLUMNS_SQL = `
  select a.attrelid as relation_oid, a.attname::text as name, a.atttypid as type_oid,
         not (a.attnotnull or (t.typtype = 'd' and t.typnotnull)) as nullable,
         a.atthasdef or a.attidentity <> '' as has_default,
         a.attidentity = 'a' or a.attgenerated <> '' as generated_always,
         pg_catalog.pg_column_is_updatable(a.attrelid, a.attnum, false) as updatable
  from pg_catalog.pg_attribute a
  join pg_catalog.pg_class c on c.oid = a.attrelid
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  join pg_catalog.pg_type t on t.oid = a.atttypid
  where n.nspname = $1::text and c.relkind in ('r', 'p', 'f', 'v', 'm', 'c')
    and a.attnum > 0 and not a.attisdropped
  order by a.attrelid, a.attnum`

// One-to-one as PostgREST decides it: the foreign key's columns are exactly the columns of a
// primary key or unique constraint of the referencing table.
const RELATIONSHIPS_SQL = `
  select fk.conrelid as relation_oid, fk.conname::text as name,
         array(select a.attname::text from unnest(fk.conkey) with ordinality k(attnum, i)
               join pg_catalog.pg_attribute a on a.attrelid = fk.conrelid and a.attnum = k.attnum
               order by k.i) as columns,
         ref.relname::text as referenced_relation,
         array(select a.attname::text from unnest(fk.confkey) with ordinality k(attnum, i)
               join pg_catalog.pg_attribute a on a.attrelid = fk.confrelid and a.attnum = k.attnum
               order by k.i) as referenced_columns,
         exists (select 1 from pg_catalog.pg_constraint u
                 where u.conrelid = fk.conrelid and u.contype in ('p', 'u')
                   and u.conkey @> fk.conkey and u.conkey <@ fk.conkey) as one_to_one
  from pg_catalog.pg_constraint fk
  join pg_catalog.pg_class src on src.oid = fk.conrelid
  join pg_catalog.pg_namespace src_ns on src_ns.oid = src.relnamespace
  join pg_catalog.pg_class ref on ref.oid = fk.confrelid
  join pg_catalog.pg_namespace ref_ns on ref_ns.oid = ref.relnamespace
  where fk.contype = 'f' and fk.conparentid = 0
    and src_ns.nspname = $1::text and ref_ns.nspname = $1::text`

// Plain functions only (PostgREST cannot call procedures, aggregates or window functions),
// without trigger functions and without those whose name starts with `_` (private by name).
// Arguments travel as JSON so both drivers hand back the same objects (an oid would become a
// JSON string; int8 stays a number).
const FUNCTIONS_SQL = `
  select p.proname::text as name, p.proretset as returns_set, p.prorettype as return_type_oid,
         p.pronargdefaults as default_count,
         coalesce((select json_agg(json_build_object('name', coalesce(arg.name, ''),
                                                     'mode', coalesce(arg.mode, 'i'),
                                                     'type_oid', arg.type_oid::int8) order by arg.position)
                   from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[]),
                               p.proargmodes::text[], p.proargnames)
                        with ordinality as arg(type_oid, mode, name, position)), '[]') as args
  from pg_catalog.pg_proc p
  join pg_catalog.pg_namespace n on n.oid = p.pronamespace
  where n.nspname = $1::text and p.prokind = 'f' and left(p.proname, 1) <> '_'
    and p.prorettype not in ('pg_catalog.trigger'::regtype, 'pg_catalog.event_trigger'::regtype)`

interface ColumnRow {
  relation_oid: number
  name: string
  type_oid: number
  nullable: boolean
  has_default: boolean
  generated_always: boolean
  updatable: boolean
}

interface RelationshipRow {
  relation_oid: number
  name: string
  columns: string[]
  referenced_relation: string
  referenced_columns: string[]
  one_to_one: boolean
}

interface FunctionRow {
  name: string
  returns_set: boolean
  return_type_oid: number
  default_count: number
  /** mode: i in, o out, b inout, v variadic, t a `returns table` column. */
  args: { name: string; mode: string; type_oid: number }[]
}

type Resolve = (oid: number) => PgType

const INPUT_MODES = new Set(['i', 'b', 'v'])
const OUTPUT_MODES = new Set(['o', 'b', 't'])

/** Reads what `supabase gen types` needs about `schema` from the catalog. */
export async function introspectSchema(db: Queryable, schema = 'public'): Promise<SchemaModel> {
  const { rows: typeRows } = await db.query<TypeRow>(TYPES_SQL)
  const types = new Map(typeRows.map((t) => [t.oid, t]))
  const resolve: Resolve = (oid) => resolveType(types, oid)

  const [{ rows: relationRows }, { rows: columnRows }, { rows: relationshipRows }, { rows: functionRows }] =
    await Promise.all([
      db.query<{ oid: number; name: string; relkind: string; updatable: boolean }>(RELATIONS_SQL, [schema]),
      db.query<ColumnRow>(COLUMNS_SQL, [schema]),
      db.query<RelationshipRow>(RELATIONSHIPS_SQL, [schema]),
      db.query<FunctionRow>(FUNCTIONS_SQL, [schema]),
    ])

  const relations = relationRows.map((r) => ({
    relkind: r.relkind,
    relation: {
      name: r.name,
      updatable: r.updatable,
      columns: columnRows.filter((c) => c.relation_oid === r.oid).map((c) => toColumn(c, resolve)),
      relationships: relationshipRows
        .filter((fk) => fk.relation_oid === r.oid)
        .map(toRelationship),
    },
  }))
  const ofKinds = (kinds: string) => relations.filter((r) => kinds.includes(r.relkind)).map((r) => r.relation)

  return {
    schema,
    tables: ofKinds('rpf'),
    views: ofKinds('vm'),
    functions: functionRows.filter(callableByName).map((fn) => toFunctionModel(fn, resolve)),
    enums: typeRows
      .filter((t) => t.schema === schema && t.type_type === 'e')
      .map((t) => ({ name: t.name, labels: t.labels })),
    compositeTypes: ofKinds('c').map((c) => ({
      name: c.name,
      attributes: c.columns.map(({ name, type }) => ({ name, type })),
    })),
  }
}

function toColumn(c: ColumnRow, resolve: Resolve): Column {
  return {
    name: c.name,
    type: resolve(c.type_oid),
    nullable: c.nullable,
    hasDefault: c.has_default,
    generatedAlways: c.generated_always,
    updatable: c.updatable,
  }
}

function toRelationship(fk: RelationshipRow): Relationship {
  return {
    foreignKeyName: fk.name,
    columns: fk.columns,
    isOneToOne: fk.one_to_one,
    referencedRelation: fk.referenced_relation,
    referencedColumns: fk.referenced_columns,
  }
}

/**
 * PostgREST passes arguments by name, so it can call a function only when every input has a
 * name, or when there is a single unnamed one (which takes the whole request body).
 */
function callableByName(fn: FunctionRow): boolean {
  const inputs = fn.args.filter((a) => INPUT_MODES.has(a.mode))
  return inputs.length === 1 || inputs.every((a) => a.name !== '')
}

function toFunctionModel(fn: FunctionRow, resolve: Resolve): FunctionModel {
  const inputs = fn.args.filter((a) => INPUT_MODES.has(a.mode))
  // Defaults belong to the last `pronargdefaults` inputs.
  const firstDefault = inputs.length - fn.default_count
  const outputs = fn.args.filter((a) => OUTPUT_MODES.has(a.mode))
  const returnType = resolve(fn.return_type_oid)
  // With OUT parameters the result is a record of them; a single OUT parameter is returned as
  // its own type instead, which `returnType` already says.
  const isRecord = returnType.kind === 'base' && returnType.name === 'record'
  return {
    name: fn.name,
    args: inputs.map((a, i) => ({ name: a.name, type: resolve(a.type_oid), hasDefault: i >= firstDefault })),
    returnType,
    returnColumns: isRecord && outputs.length > 0 ? outputs.map((a) => ({ name: a.name, type: resolve(a.type_oid) })) : null,
    returnsSet: fn.returns_set,
  }
}

function resolveType(types: Map<number, TypeRow>, oid: number): PgType {
  const t = types.get(oid)
  if (!t) return { kind: 'base', name: 'unknown' }
  // A domain (e.g. public.wei_amount over text) travels as its base type.
  if (t.type_type === 'd') return resolveType(types, t.base_oid)
  if (t.category === 'A' && t.element_oid !== 0) {
    return { kind: 'array', element: resolveType(types, t.element_oid) }
  }
  if (t.type_type === 'e') return { kind: 'enum', schema: t.schema, name: t.name, labels: t.labels }
  if (t.type_type === 'c' && t.relkind !== null) {
    if (t.relkind === 'c') return { kind: 'composite', schema: t.schema, name: t.name }
    return { kind: 'row', schema: t.schema, relation: t.name, isView: t.relkind === 'v' || t.relkind === 'm' }
  }
  return { kind: 'base', name: t.name }
}
