/** How the response body is shaped in SQL. */
export interface ResultShape {
  /** `Accept: application/vnd.pgrst.object+json` (or a function returning one row): the first row as an object. */
  single: boolean
  /** `;nulls=stripped`: object keys with null values left out. */
  stripNulls: boolean
  /** `Prefer: count=exact`: a scalar subquery counting every matching row, ignoring limit/offset. */
  countSql?: string
}

/**
 * Wraps a row-producing query into the one row the gateway reads: the total (when counted), the
 * rows in this page, and the body as JSON text built by Postgres (json_agg), so int8, numeric,
 * timestamptz and jsonb come out exactly as PostgREST writes them and Node never re-serializes.
 */
export function resultStatement(inner: string, shape: ResultShape, rowExpression = '"pgrst_r"'): string {
  let body = shape.single ? `(json_agg(${rowExpression})->0)` : `coalesce(json_agg(${rowExpression}), '[]'::json)`
  if (shape.stripNulls) body = `json_strip_nulls(${body})`
  return `select ${shape.countSql ?? 'null'}::bigint as total, count(*)::integer as n, ${body}::text as body from (${inner}) as "pgrst_r"`
}

export interface ResultRow {
  total: number | string | null
  n: number
  body: string | null
}
