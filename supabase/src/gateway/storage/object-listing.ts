import type { IncomingMessage, ServerResponse } from 'node:http'
import { sendJson } from '../http.ts'
import { assertBucketName, decodeSegments } from './object-names.ts'
import { storageCaller } from './storage-caller.ts'
import { asCaller, readJsonObject, type StorageContext } from './storage-context.ts'
import { storageErrors } from './storage-errors.ts'

const SORT_COLUMNS = new Set(['name', 'updated_at', 'created_at', 'last_accessed_at'])

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`)
}

/**
 * POST `/object/list/{bucket}` {prefix, limit, offset, sortBy, search}: one level under the
 * prefix, as storage.search answers it on hosted Supabase: folders first (name only, other fields
 * null, ordered by name in the requested order), then the objects at that level ordered by the
 * sort column; limit/offset apply to the whole list. It runs as the caller, so RLS hides objects
 * (and folders holding only such objects) the caller may not SELECT.
 */
export async function listObjects(
  ctx: StorageContext,
  req: IncomingMessage,
  res: ServerResponse,
  bucketSegment: string,
  path: string,
): Promise<void> {
  const caller = storageCaller(req, ctx.gateway.keys)
  const bucket = assertBucketName(decodeSegments([bucketSegment])[0])
  const body = await readJsonObject(ctx, req)
  let prefix = typeof body.prefix === 'string' ? body.prefix : ''
  if (prefix.length > 0 && !prefix.endsWith('/')) prefix = `${prefix}/` // a prefix is a folder
  const level = prefix.split('/').length
  const limit = body.limit === undefined ? 100 : Number(body.limit)
  const offset = body.offset === undefined ? 0 : Number(body.offset)
  if (!Number.isInteger(limit) || limit < 1 || !Number.isInteger(offset) || offset < 0) {
    throw storageErrors.invalidRequest('limit must be a whole number ≥ 1 and offset a whole number ≥ 0')
  }
  const sortBy = (body.sortBy ?? {}) as { column?: unknown; order?: unknown }
  const column = typeof sortBy.column === 'string' && SORT_COLUMNS.has(sortBy.column) ? sortBy.column : 'name'
  const order = typeof sortBy.order === 'string' && sortBy.order.toLowerCase() === 'desc' ? 'desc' : 'asc'
  const search = typeof body.search === 'string' ? body.search : ''
  // Identifiers come from the whitelists above; every value is a parameter. Names sort in the
  // "C" collation so both backends (and every server locale) list in the same order.
  const fileOrder = column === 'name' ? `o.name collate "C" ${order}` : `o.${column} ${order}, o.name collate "C" asc`
  const rows = await asCaller(
    ctx,
    caller,
    async (tx) =>
      (
        await tx.query(
          `with matching as (
             select o.* from storage.objects o
             where o.bucket_id = $1::text and o.name ilike $2::text escape '\\'
           ),
           entries as (
             select 0 as kind, row_number() over (order by f.folder collate "C" ${order}) as position,
                    f.folder as name, null::uuid as id, null::timestamptz as updated_at,
                    null::timestamptz as created_at, null::timestamptz as last_accessed_at, null::jsonb as metadata
             from (select distinct m.path_tokens[$3::int] as folder from matching m
                   where array_length(m.path_tokens, 1) > $3::int) f
             union all
             select 1, row_number() over (order by ${fileOrder}),
                    o.path_tokens[$3::int], o.id, o.updated_at, o.created_at, o.last_accessed_at, o.metadata
             from matching o
             where array_length(o.path_tokens, 1) = $3::int
           )
           select e.name, e.id, e.updated_at, e.created_at, e.last_accessed_at, e.metadata
           from entries e order by e.kind, e.position
           limit $4::int offset $5::int`,
          [bucket, `${escapeLike(prefix)}${escapeLike(search)}%`, level, Math.min(limit, ctx.gateway.limits.maxRows), offset],
        )
      ).rows,
    { method: 'POST', path, readOnly: true },
  )
  sendJson(res, 200, rows)
}
