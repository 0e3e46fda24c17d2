import { randomUUID } from 'node:crypto'
import { copyFile, rm } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Queryable } from '../../db/database.ts'
import { header, sendJson } from '../http.ts'
import { signJwt } from '../jwt.ts'
import type { CallerIdentity } from '../identity.ts'
import { assertMimeAllowed } from './bucket-rules.ts'
import { assertBucketName, assertObjectKey, bucketAndKey } from './object-names.ts'
import { ownerOf, storageCaller } from './storage-caller.ts'
import { asCaller, dryRunAsCaller, findBucketRules, readJsonObject, type StorageContext } from './storage-context.ts'
import { verifyUrlToken } from './signed-urls.ts'
import { storageErrors } from './storage-errors.ts'
import { precheckUpload, receiveUpload, uploadLimit } from './upload-receiver.ts'

/** How a write meets an existing object: refuse (409), replace it (upsert), or require it (PUT). */
export type WriteMode = 'create' | 'upsert' | 'update'

/** storage.objects.metadata as storage-api records it. */
export interface ObjectMetadata {
  eTag: string
  size: number
  mimetype: string
  cacheControl: string
  lastModified: string
  contentLength: number
  httpStatusCode: number
}

interface ObjectRow {
  bucket: string
  key: string
  caller: CallerIdentity
  version: string
  metadata: Partial<ObjectMetadata>
  userMetadata: Record<string, unknown> | null
}

// Advisory lock class for "one writer per object name" (two-key form, away from bigint locks).
const NAME_LOCK_CLASS = 20261122

const COLUMNS = `id, bucket_id, name, owner, owner_id, version, metadata, user_metadata`
const VALUES = `$8::uuid, $1::text, $2::text, $3::uuid, $4::text, $5::text, $6::jsonb, $7::jsonb`

/**
 * Inserts or updates the object's row as the caller and returns its id and the version it
 * replaced. The replaced version is read `for update` first in the same transaction, so
 * concurrent upserts each learn exactly which bytes they superseded. No RETURNING: with RLS it
 * would also demand a SELECT policy, and on hosted Supabase an upload needs only INSERT.
 */
async function writeObjectRow(tx: Queryable, mode: WriteMode, row: ObjectRow): Promise<{ id: string; oldVersion: string | null }> {
  const { owner, ownerId } = ownerOf(row.caller)
  let existing: { id: string; version: string | null } | undefined
  if (mode !== 'create') {
    // Writers of one name take turns: without this, two upserts of a name that does not exist
    // yet both find no row to lock, and the second silently replaces the first one's bytes
    // without learning their version (measured: 6 concurrent upserts left 2 orphaned files).
    await tx.query(`select pg_advisory_xact_lock(${NAME_LOCK_CLASS}, hashtext($1::text || '/' || $2::text))`, [row.bucket, row.key])
    const { rows } = await tx.query<{ id: string; version: string | null }>(
      `select o.id, o.version from storage.objects o where o.bucket_id = $1::text and o.name = $2::text for update`,
      [row.bucket, row.key],
    )
    existing = rows[0]
    // Not visible to the caller's SELECT/UPDATE policies, or absent: PUT has nothing to update.
    if (!existing && mode === 'update') throw storageErrors.noSuchKey()
  }
  const id = existing?.id ?? randomUUID()
  const params = [row.bucket, row.key, owner, ownerId, row.version, JSON.stringify(row.metadata), JSON.stringify(row.userMetadata), id]
  const sql =
    mode === 'update'
      ? `update storage.objects o
           set owner = $3::uuid, owner_id = $4::text, version = $5::text, metadata = $6::jsonb,
               user_metadata = $7::jsonb, updated_at = now(), last_accessed_at = now()
         where o.id = $8::uuid and o.bucket_id = $1::text and o.name = $2::text`
      : `insert into storage.objects as o (${COLUMNS}) values (${VALUES})
         ${
           mode === 'upsert'
             ? `on conflict (bucket_id, name) do update
                  set owner = excluded.owner, owner_id = excluded.owner_id, version = excluded.version,
                      metadata = excluded.metadata, user_metadata = excluded.user_metadata,
                      updated_at = now(), last_accessed_at = now()`
             : ''
         }`
  const { rowCount } = await tx.query(sql, params)
  if (rowCount === 0) throw storageErrors.noSuchKey()
  return { id, oldVersion: existing?.version ?? null }
}

/**
 * Writes the row as the caller and moves the bytes from `tempPath` into place before COMMIT;
 * if the transaction fails the placed file is removed, so a row never lacks its bytes and no
 * bytes outlive a refused row. The superseded version's bytes are removed after COMMIT.
 */
async function commitObject(ctx: StorageContext, mode: WriteMode, row: ObjectRow, tempPath: string, path: string) {
  let placed: string | undefined
  try {
    const written = await asCaller(
      ctx,
      row.caller,
      async (tx) => {
        const result = await writeObjectRow(tx, mode, row)
        placed = await ctx.files.place(tempPath, row.version)
        return result
      },
      { method: 'POST', path },
    )
    if (written.oldVersion && written.oldVersion !== row.version) await ctx.files.remove([written.oldVersion])
    return written
  } catch (error) {
    await rm(placed ?? tempPath, { force: true })
    throw error
  }
}

/** POST (upload, `x-upsert`) and PUT (update) `/object/{bucket}/{key}`: raw body or multipart. */
export async function uploadObject(
  ctx: StorageContext,
  req: IncomingMessage,
  res: ServerResponse,
  segments: string[],
  method: 'POST' | 'PUT',
  path: string,
): Promise<void> {
  const caller = storageCaller(req, ctx.gateway.keys)
  const { bucket, key } = bucketAndKey(segments)
  const mode: WriteMode = method === 'PUT' ? 'update' : header(req, 'x-upsert') === 'true' ? 'upsert' : 'create'
  await receiveAndCommit(ctx, req, res, { caller, bucket, key, mode, method, path })
}

/**
 * The upload itself: cheap refusals first (bucket, declared size, type), then the caller's
 * permission as a rolled-back write (before a byte of the body is read), then the body to a temp
 * file, then the row and the bytes together.
 */
async function receiveAndCommit(
  ctx: StorageContext,
  req: IncomingMessage,
  res: ServerResponse,
  target: { caller: CallerIdentity; bucket: string; key: string; mode: WriteMode; method: string; path: string },
): Promise<void> {
  const { caller, bucket, key, mode, method, path } = target
  const rules = await findBucketRules(ctx, bucket)
  const installLimit = ctx.gateway.limits.uploadBytes
  precheckUpload(req, rules, installLimit)

  const declared = Number(header(req, 'content-length'))
  await dryRunAsCaller(
    ctx,
    caller,
    async (tx) => {
      await writeObjectRow(tx, mode, {
        bucket,
        key,
        caller,
        version: ctx.files.newVersion(),
        metadata: { size: Number.isFinite(declared) ? declared : 0, mimetype: header(req, 'content-type') ?? '' },
        userMetadata: null,
      })
    },
    { method, path },
  )

  const received = await receiveUpload(req, { tempPath: ctx.files.tempPath(), rules, installLimit })
  const metadata: ObjectMetadata = {
    eTag: received.eTag,
    size: received.size,
    mimetype: received.mimetype,
    cacheControl: received.cacheControl,
    lastModified: new Date().toISOString(),
    contentLength: received.size,
    httpStatusCode: 200,
  }
  const row: ObjectRow = { bucket, key, caller, version: ctx.files.newVersion(), metadata, userMetadata: received.userMetadata }
  const written = await commitObject(ctx, mode, row, received.tempPath, path)
  sendJson(res, 200, { Id: written.id, Key: `${bucket}/${key}` })
}

// storage-api's signed upload URLs last two hours.
const SIGNED_UPLOAD_SECONDS = 2 * 3600

/**
 * POST `/object/upload/sign/{bucket}/{key}` (`x-upsert`): checks now, as the caller, that they may
 * write there, and hands out a token that lets anyone holding it upload that one object later,
 * owned by the caller. The token says `purpose: "upload"` so a download link cannot upload.
 */
export async function createSignedUploadUrl(
  ctx: StorageContext,
  req: IncomingMessage,
  res: ServerResponse,
  segments: string[],
  path: string,
): Promise<void> {
  const caller = storageCaller(req, ctx.gateway.keys)
  const { bucket, key } = bucketAndKey(segments)
  await findBucketRules(ctx, bucket)
  const mode: WriteMode = header(req, 'x-upsert') === 'true' ? 'upsert' : 'create'
  await dryRunAsCaller(
    ctx,
    caller,
    async (tx) => {
      await writeObjectRow(tx, mode, { bucket, key, caller, version: ctx.files.newVersion(), metadata: {}, userMetadata: null })
    },
    { method: 'POST', path },
  )
  const iat = Math.floor(Date.now() / 1000)
  const token = signJwt(
    { url: `${bucket}/${key}`, purpose: 'upload', owner: ownerOf(caller).ownerId, upsert: mode === 'upsert', iat, exp: iat + SIGNED_UPLOAD_SECONDS },
    ctx.gateway.keys.jwtSecret,
  )
  sendJson(res, 200, { url: `/object/upload/sign/${bucket}/${key}?token=${token}`, token })
}

/**
 * PUT `/object/upload/sign/{bucket}/{key}?token=`: the token alone authorizes the upload (as
 * storage-api, which then writes as its superuser); the object is owned by whoever signed it.
 */
export async function uploadToSignedUrl(
  ctx: StorageContext,
  req: IncomingMessage,
  res: ServerResponse,
  segments: string[],
  url: URL,
  path: string,
): Promise<void> {
  const { bucket, key } = bucketAndKey(segments)
  const claims = verifyUrlToken(ctx, url, bucket, key, 'upload')
  const owner = typeof claims.owner === 'string' ? { sub: claims.owner } : {}
  const caller: CallerIdentity = { role: 'service_role', claims: owner, token: '' }
  const mode: WriteMode = claims.upsert === true ? 'upsert' : 'create'
  await receiveAndCommit(ctx, req, res, { caller, bucket, key, mode, method: 'PUT', path })
}

/** POST `/object/copy` {bucketId, sourceKey, destinationKey, destinationBucket?, copyMetadata?, metadata?}. */
export async function copyObject(ctx: StorageContext, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const caller = storageCaller(req, ctx.gateway.keys)
  const body = await readJsonObject(ctx, req)
  const sourceBucket = assertBucketName(body.bucketId)
  const sourceKey = assertObjectKey(body.sourceKey)
  const destinationBucket = body.destinationBucket == null ? sourceBucket : assertBucketName(body.destinationBucket)
  const destinationKey = assertObjectKey(body.destinationKey)
  const rules = await findBucketRules(ctx, destinationBucket)

  const source = await asCaller(
    ctx,
    caller,
    async (tx) =>
      (
        await tx.query<{ version: string | null; metadata: Partial<ObjectMetadata> | null; user_metadata: Record<string, unknown> | null }>(
          `select o.version, o.metadata, o.user_metadata from storage.objects o where o.bucket_id = $1::text and o.name = $2::text`,
          [sourceBucket, sourceKey],
        )
      ).rows[0],
    { method: 'POST', path, readOnly: true },
  )
  const sourceFile = ctx.files.pathOf(source?.version)
  if (!source || !sourceFile) throw storageErrors.noSuchKey()
  const size = Number(source.metadata?.size ?? 0)
  const limit = uploadLimit(rules, ctx.gateway.limits.uploadBytes)
  if (size > limit.bytes) throw limit.error()
  assertMimeAllowed(rules, source.metadata?.mimetype ?? 'application/octet-stream')

  const tempPath = ctx.files.tempPath()
  try {
    await copyFile(sourceFile, tempPath)
  } catch (error) {
    await rm(tempPath, { force: true })
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw storageErrors.noSuchKey() // replaced meanwhile
    throw error
  }
  const userMetadata =
    body.copyMetadata === false
      ? body.metadata && typeof body.metadata === 'object' ? (body.metadata as Record<string, unknown>) : null
      : source.user_metadata
  const row: ObjectRow = {
    bucket: destinationBucket,
    key: destinationKey,
    caller,
    version: ctx.files.newVersion(),
    metadata: { ...source.metadata, lastModified: new Date().toISOString() },
    userMetadata,
  }
  const mode: WriteMode = header(req, 'x-upsert') === 'true' ? 'upsert' : 'create'
  const written = await commitObject(ctx, mode, row, tempPath, path)
  sendJson(res, 200, { Id: written.id, Key: `${destinationBucket}/${destinationKey}`, name: destinationKey, bucket_id: destinationBucket })
}
