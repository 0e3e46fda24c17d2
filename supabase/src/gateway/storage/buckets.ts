import type { IncomingMessage, ServerResponse } from 'node:http'
import { sendJson } from '../http.ts'
import { parseAllowedMimeTypes, parseFileSizeLimit } from './bucket-rules.ts'
import { assertBucketName, decodeSegments } from './object-names.ts'
import { ownerOf, storageCaller } from './storage-caller.ts'
import { asCaller, readJsonObject, type StorageContext } from './storage-context.ts'
import { storageErrors } from './storage-errors.ts'

// Every bucket operation runs as the caller: RLS on storage.buckets decides (service_role
// bypasses it; a user needs a policy, as on hosted Supabase).

const BUCKET_COLUMNS = `b.id, b.name, b.owner, b.public, 'STANDARD' as type, b.file_size_limit, b.allowed_mime_types,
                        b.created_at, b.updated_at`
const SORT_COLUMNS = new Set(['id', 'name', 'created_at', 'updated_at'])

function bucketIdOf(segment: string): string {
  return assertBucketName(decodeSegments([segment])[0])
}

/** GET `/bucket?limit&offset&search&sortColumn&sortOrder`: the buckets the caller may see. */
export async function listBuckets(ctx: StorageContext, req: IncomingMessage, res: ServerResponse, url: URL, path: string) {
  const caller = storageCaller(req, ctx.gateway.keys)
  const q = url.searchParams
  const limit = Math.min(Number(q.get('limit') ?? ctx.gateway.limits.maxRows) || ctx.gateway.limits.maxRows, ctx.gateway.limits.maxRows)
  const offset = Math.max(0, Number(q.get('offset') ?? 0) || 0)
  const column = SORT_COLUMNS.has(q.get('sortColumn') ?? '') ? q.get('sortColumn')! : 'name'
  const order = q.get('sortOrder')?.toLowerCase() === 'desc' ? 'desc' : 'asc'
  const search = q.get('search') ?? ''
  const rows = await asCaller(
    ctx,
    caller,
    async (tx) =>
      (
        await tx.query(
          `select ${BUCKET_COLUMNS} from storage.buckets b
           where b.name ilike '%' || $1::text || '%'
           order by b.${column} ${order} limit $2::int offset $3::int`,
          [search.replace(/[\\%_]/g, (c) => `\\${c}`), Math.max(1, limit), offset],
        )
      ).rows,
    { method: 'GET', path, readOnly: true },
  )
  sendJson(res, 200, rows)
}

/** GET `/bucket/{id}`. */
export async function getBucket(ctx: StorageContext, req: IncomingMessage, res: ServerResponse, segment: string, path: string) {
  const caller = storageCaller(req, ctx.gateway.keys)
  const id = bucketIdOf(segment)
  const row = await asCaller(
    ctx,
    caller,
    async (tx) => (await tx.query(`select ${BUCKET_COLUMNS} from storage.buckets b where b.id = $1::text`, [id])).rows[0],
    { method: 'GET', path, readOnly: true },
  )
  if (!row) throw storageErrors.noSuchBucket()
  sendJson(res, 200, row)
}

/** POST `/bucket` {id, name, public, file_size_limit, allowed_mime_types} → {name}. */
export async function createBucket(ctx: StorageContext, req: IncomingMessage, res: ServerResponse, path: string) {
  const caller = storageCaller(req, ctx.gateway.keys)
  const body = await readJsonObject(ctx, req)
  const name = assertBucketName(body.name ?? body.id)
  const id = body.id === undefined ? name : assertBucketName(body.id)
  const fileSizeLimit = parseFileSizeLimit(body.file_size_limit, ctx.gateway.limits.uploadBytes) ?? null
  const allowedMimeTypes = parseAllowedMimeTypes(body.allowed_mime_types) ?? null
  const { owner, ownerId } = ownerOf(caller)
  try {
    await asCaller(
      ctx,
      caller,
      (tx) =>
        tx.query(
          `insert into storage.buckets (id, name, owner, owner_id, public, file_size_limit, allowed_mime_types)
           values ($1::text, $2::text, $3::uuid, $4::text, $5::boolean, $6::bigint, $7::text[])`,
          [id, name, owner, ownerId, body.public === true, fileSizeLimit, allowedMimeTypes],
        ),
      { method: 'POST', path },
    )
  } catch (error) {
    if ((error as { code?: string }).code === 'KeyAlreadyExists') throw storageErrors.bucketAlreadyExists()
    throw error
  }
  sendJson(res, 200, { name })
}

/** PUT `/bucket/{id}` {public, file_size_limit, allowed_mime_types}. */
export async function updateBucket(ctx: StorageContext, req: IncomingMessage, res: ServerResponse, segment: string, path: string) {
  const caller = storageCaller(req, ctx.gateway.keys)
  const id = bucketIdOf(segment)
  const body = await readJsonObject(ctx, req)
  const fileSizeLimit = parseFileSizeLimit(body.file_size_limit, ctx.gateway.limits.uploadBytes)
  const allowedMimeTypes = parseAllowedMimeTypes(body.allowed_mime_types)
  // An absent field keeps its value; null clears a limit.
  const updated = await asCaller(
    ctx,
    caller,
    async (tx) =>
      (
        await tx.query(
          `update storage.buckets b set
             public = coalesce($2::boolean, b.public),
             file_size_limit = case when $3::boolean then $4::bigint else b.file_size_limit end,
             allowed_mime_types = case when $5::boolean then $6::text[] else b.allowed_mime_types end,
             updated_at = now()
           where b.id = $1::text returning b.id`,
          [
            id,
            typeof body.public === 'boolean' ? body.public : null,
            fileSizeLimit !== undefined,
            fileSizeLimit ?? null,
            allowedMimeTypes !== undefined,
            allowedMimeTypes ?? null,
          ],
        )
      ).rowCount,
    { method: 'PUT', path },
  )
  if (updated === 0) throw storageErrors.noSuchBucket()
  sendJson(res, 200, { message: 'Successfully updated' })
}

/** POST `/bucket/{id}/empty`: deletes, as the caller, every object of the bucket they may delete. */
export async function emptyBucket(ctx: StorageContext, req: IncomingMessage, res: ServerResponse, segment: string, path: string) {
  const caller = storageCaller(req, ctx.gateway.keys)
  const id = bucketIdOf(segment)
  const versions = await asCaller(
    ctx,
    caller,
    async (tx) => {
      const { rows } = await tx.query(`select 1 from storage.buckets b where b.id = $1::text`, [id])
      if (rows.length === 0) throw storageErrors.noSuchBucket()
      return (
        await tx.query<{ version: string | null }>(
          `delete from storage.objects o where o.bucket_id = $1::text returning o.version`,
          [id],
        )
      ).rows.map((row) => row.version)
    },
    { method: 'POST', path },
  )
  await ctx.files.remove(versions)
  sendJson(res, 200, { message: 'Successfully emptied' })
}

/**
 * DELETE `/bucket/{id}`: only an empty bucket. Emptiness is the objects' foreign key speaking
 * (409), and only once RLS let the caller delete the bucket: a caller who may not gets 404 and
 * learns nothing about what it holds.
 */
export async function deleteBucket(ctx: StorageContext, req: IncomingMessage, res: ServerResponse, segment: string, path: string) {
  const caller = storageCaller(req, ctx.gateway.keys)
  const id = bucketIdOf(segment)
  const deleted = await asCaller(
    ctx,
    caller,
    async (tx) => {
      try {
        return (await tx.query(`delete from storage.buckets b where b.id = $1::text`, [id])).rowCount
      } catch (error) {
        if ((error as { code?: string }).code === '23503') throw storageErrors.bucketNotEmpty()
        throw error
      }
    },
    { method: 'DELETE', path },
  )
  if (deleted === 0) throw storageErrors.noSuchBucket()
  sendJson(res, 200, { message: 'Successfully deleted' })
}
