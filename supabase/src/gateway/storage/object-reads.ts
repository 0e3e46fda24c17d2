import { open, type FileHandle } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { pipeline } from 'node:stream/promises'
import { header, sendEmpty, sendJson } from '../http.ts'
import type { CallerIdentity } from '../identity.ts'
import { bucketAndKey } from './object-names.ts'
import type { ObjectMetadata } from './object-writes.ts'
import { storageCaller } from './storage-caller.ts'
import { asCaller, findBucketRules, type StorageContext } from './storage-context.ts'
import { verifyUrlToken } from './signed-urls.ts'
import { storageErrors } from './storage-errors.ts'

interface StoredObject {
  id: string
  name: string
  bucket_id: string
  version: string | null
  metadata: Partial<ObjectMetadata> | null
  user_metadata: Record<string, unknown> | null
  created_at: string
  updated_at: string
  last_accessed_at: string
}

const SELECT_OBJECT = `select o.id, o.name, o.bucket_id, o.version, o.metadata, o.user_metadata,
                              o.created_at, o.updated_at, o.last_accessed_at
                       from storage.objects o where o.bucket_id = $1::text and o.name = $2::text`

/** The object row if the caller's SELECT policies let them see it. */
function findAsCaller(ctx: StorageContext, caller: CallerIdentity, bucket: string, key: string, path: string) {
  return asCaller(
    ctx,
    caller,
    async (tx) => (await tx.query<StoredObject>(SELECT_OBJECT, [bucket, key])).rows[0],
    { method: 'GET', path, readOnly: true },
  )
}

/** The object row read by the gateway itself: for public buckets and signed URLs, already authorized. */
async function findAsGateway(ctx: StorageContext, bucket: string, key: string) {
  return (await ctx.gateway.db.query<StoredObject>(SELECT_OBJECT, [bucket, key])).rows[0]
}

/**
 * Opens the object's bytes. An upsert that commits between our row read and this open removes
 * the superseded file, so on ENOENT the row is read again once; an opened file keeps streaming
 * even if it is unlinked meanwhile.
 */
async function openObject(
  ctx: StorageContext,
  lookup: () => Promise<StoredObject | undefined>,
): Promise<{ object: StoredObject; file: FileHandle }> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const object = await lookup()
    const file = ctx.files.pathOf(object?.version)
    if (!object || !file) break
    try {
      return { object, file: await open(file, 'r') }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
  }
  throw storageErrors.noSuchKey()
}

function contentDisposition(download: string | null, key: string): Record<string, string> {
  if (download === null) return {}
  const name = download === '' ? (key.split('/').pop() ?? key) : download
  return { 'Content-Disposition': `attachment; filename*=UTF-8''${encodeURIComponent(name)}` }
}

/** Streams an object from disk with the headers storage-api sends (type, length, ETag, cache). */
async function serveObject(
  ctx: StorageContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  lookup: () => Promise<StoredObject | undefined>,
): Promise<void> {
  const { object, file } = await openObject(ctx, lookup)
  try {
    const { size } = await file.stat()
    const metadata = object.metadata ?? {}
    const headers: Record<string, string> = {
      'Content-Type': metadata.mimetype || 'application/octet-stream',
      'Content-Length': String(size),
      'Cache-Control': metadata.cacheControl || 'no-cache',
      ...(metadata.eTag ? { ETag: metadata.eTag } : {}),
      ...(metadata.lastModified ? { 'Last-Modified': new Date(metadata.lastModified).toUTCString() } : {}),
      ...contentDisposition(url.searchParams.get('download'), object.name),
    }
    if (metadata.eTag && header(req, 'if-none-match') === metadata.eTag) {
      const { 'Content-Length': _length, ...rest } = headers
      return sendEmpty(res, 304, rest)
    }
    if (req.method === 'HEAD') return sendEmpty(res, 200, headers)
    res.writeHead(200, headers)
    try {
      await pipeline(file.createReadStream({ autoClose: false }), res)
    } catch (error) {
      // The client went away mid-download: nothing to answer, and not a gateway bug.
      if ((error as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw error
    }
  } finally {
    await file.close()
  }
}

/** GET/HEAD `/object/{bucket}/{key}` and `/object/authenticated/{bucket}/{key}`: decided by RLS. */
export async function downloadObject(
  ctx: StorageContext,
  req: IncomingMessage,
  res: ServerResponse,
  segments: string[],
  url: URL,
  path: string,
): Promise<void> {
  const caller = storageCaller(req, ctx.gateway.keys)
  const { bucket, key } = bucketAndKey(segments)
  await serveObject(ctx, req, res, url, () => findAsCaller(ctx, caller, bucket, key, path))
}

/** GET/HEAD `/object/public/{bucket}/{key}`: no auth, public buckets only. */
export async function downloadPublicObject(
  ctx: StorageContext,
  req: IncomingMessage,
  res: ServerResponse,
  segments: string[],
  url: URL,
): Promise<void> {
  const { bucket, key } = bucketAndKey(segments)
  const rules = await findBucketRules(ctx, bucket)
  if (!rules.public) throw storageErrors.noSuchBucket() // what storage-api answers for a private bucket
  await serveObject(ctx, req, res, url, () => findAsGateway(ctx, bucket, key))
}

/** GET/HEAD `/object/sign/{bucket}/{key}?token=`: the token alone authorizes this one path. */
export async function downloadSignedObject(
  ctx: StorageContext,
  req: IncomingMessage,
  res: ServerResponse,
  segments: string[],
  url: URL,
): Promise<void> {
  const { bucket, key } = bucketAndKey(segments)
  verifyUrlToken(ctx, url, bucket, key, 'download')
  await serveObject(ctx, req, res, url, () => findAsGateway(ctx, bucket, key))
}

/** GET `/object/info/{bucket}/{key}` (also `/object/info/authenticated/…`): the object's details. */
export async function objectInfo(
  ctx: StorageContext,
  req: IncomingMessage,
  res: ServerResponse,
  segments: string[],
  path: string,
): Promise<void> {
  const caller = storageCaller(req, ctx.gateway.keys)
  const { bucket, key } = bucketAndKey(segments)
  const object = await findAsCaller(ctx, caller, bucket, key, path)
  if (!object) throw storageErrors.noSuchKey()
  const metadata = object.metadata ?? {}
  sendJson(res, 200, {
    id: object.id,
    name: object.name,
    version: object.version,
    bucket_id: object.bucket_id,
    size: metadata.size ?? null,
    content_type: metadata.mimetype ?? null,
    cache_control: metadata.cacheControl ?? null,
    etag: metadata.eTag ?? null,
    metadata: object.user_metadata,
    last_modified: metadata.lastModified ?? object.updated_at,
    created_at: object.created_at,
  })
}
