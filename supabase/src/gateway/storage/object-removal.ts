import type { IncomingMessage, ServerResponse } from 'node:http'
import { sendJson } from '../http.ts'
import { assertBucketName, assertObjectKey, assertObjectKeys, bucketAndKey, decodeSegments } from './object-names.ts'
import { storageCaller } from './storage-caller.ts'
import { asCaller, findBucketRules, readJsonObject, type StorageContext } from './storage-context.ts'
import { storageErrors } from './storage-errors.ts'

const DELETED_COLUMNS = `o.bucket_id, o.name, o.id, o.version, o.metadata, o.user_metadata,
                         o.created_at, o.updated_at, o.last_accessed_at`

/**
 * DELETE `/object/{bucket}` {prefixes: [names]}: deletes, as the caller, the named objects their
 * DELETE (and SELECT) policies allow, answers the deleted rows (objects the caller may not delete
 * are silently left, as on hosted), then removes their bytes after COMMIT.
 */
export async function removeObjects(
  ctx: StorageContext,
  req: IncomingMessage,
  res: ServerResponse,
  bucketSegment: string,
  path: string,
): Promise<void> {
  const caller = storageCaller(req, ctx.gateway.keys)
  const bucket = assertBucketName(decodeSegments([bucketSegment])[0])
  const names = assertObjectKeys((await readJsonObject(ctx, req)).prefixes, 'prefixes', ctx.gateway.limits.maxRows)
  const deleted = await asCaller(
    ctx,
    caller,
    async (tx) =>
      (
        await tx.query<{ version: string | null }>(
          `delete from storage.objects o where o.bucket_id = $1::text and o.name = any($2::text[]) returning ${DELETED_COLUMNS}`,
          [bucket, names],
        )
      ).rows,
    { method: 'DELETE', path },
  )
  await ctx.files.remove(deleted.map((row) => row.version))
  sendJson(res, 200, deleted)
}

/** DELETE `/object/{bucket}/{key}`: one object; 404 when the caller may not see or delete it. */
export async function deleteObject(
  ctx: StorageContext,
  req: IncomingMessage,
  res: ServerResponse,
  segments: string[],
  path: string,
): Promise<void> {
  const caller = storageCaller(req, ctx.gateway.keys)
  const { bucket, key } = bucketAndKey(segments)
  const deleted = await asCaller(
    ctx,
    caller,
    async (tx) =>
      (
        await tx.query<{ version: string | null }>(
          `delete from storage.objects o where o.bucket_id = $1::text and o.name = $2::text returning o.version`,
          [bucket, key],
        )
      ).rows,
    { method: 'DELETE', path },
  )
  if (deleted.length === 0) throw storageErrors.noSuchKey()
  await ctx.files.remove(deleted.map((row) => row.version))
  sendJson(res, 200, { message: 'Successfully deleted' })
}

/**
 * POST `/object/move` {bucketId, sourceKey, destinationKey, destinationBucket?}: renames the row
 * as the caller (UPDATE policies check the old row, WITH CHECK the new name); bytes stay where
 * they are, since they are stored under the version id, not the name.
 */
export async function moveObject(ctx: StorageContext, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const caller = storageCaller(req, ctx.gateway.keys)
  const body = await readJsonObject(ctx, req)
  const sourceBucket = assertBucketName(body.bucketId)
  const sourceKey = assertObjectKey(body.sourceKey)
  const destinationBucket = body.destinationBucket == null ? sourceBucket : assertBucketName(body.destinationBucket)
  const destinationKey = assertObjectKey(body.destinationKey)
  if (destinationBucket !== sourceBucket) await findBucketRules(ctx, destinationBucket)
  const moved = await asCaller(
    ctx,
    caller,
    async (tx) =>
      (
        await tx.query(
          `update storage.objects o set bucket_id = $3::text, name = $4::text, updated_at = now()
           where o.bucket_id = $1::text and o.name = $2::text returning o.id`,
          [sourceBucket, sourceKey, destinationBucket, destinationKey],
        )
      ).rowCount,
    { method: 'POST', path },
  )
  if (moved === 0) throw storageErrors.noSuchKey()
  sendJson(res, 200, { message: 'Successfully moved' })
}
