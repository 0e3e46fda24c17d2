import type { IncomingMessage, ServerResponse } from 'node:http'
import type { GatewayContext, Surface } from '../gateway.ts'
import { createBucket, deleteBucket, emptyBucket, getBucket, listBuckets, updateBucket } from './buckets.ts'
import { ObjectFiles } from './object-files.ts'
import { listObjects } from './object-listing.ts'
import { downloadObject, downloadPublicObject, downloadSignedObject, objectInfo } from './object-reads.ts'
import { deleteObject, moveObject, removeObjects } from './object-removal.ts'
import { copyObject, createSignedUploadUrl, uploadObject, uploadToSignedUrl } from './object-writes.ts'
import { createSignedUrl, createSignedUrls } from './signed-urls.ts'
import type { StorageContext } from './storage-context.ts'
import { sendStorageError, StorageError, storageErrors } from './storage-errors.ts'

/**
 * Storage at `/storage/v1`, answering what supabase-js's storage client sends. Object and bucket
 * rows live in storage.objects/buckets and every read or write of them runs as the caller, so
 * the RLS policies decide as on hosted Supabase; bytes live under `storageDir` (object-files.ts).
 */
export function createStorageSurface(context: GatewayContext): Surface {
  const ctx: StorageContext = { gateway: context, files: new ObjectFiles(context.storageDir) }

  async function route(req: IncomingMessage, res: ServerResponse, path: string, url: URL): Promise<void> {
    const method = req.method ?? 'GET'
    const read = method === 'GET' || method === 'HEAD'
    const [area, ...rest] = path.split('/').filter((segment, i) => i > 0 || segment !== '')

    if (area === 'bucket') {
      const [id, action, extra] = rest
      if (id === undefined || id === '') {
        if (method === 'GET') return listBuckets(ctx, req, res, url, path)
        if (method === 'POST') return createBucket(ctx, req, res, path)
      } else if (action === undefined) {
        if (method === 'GET') return getBucket(ctx, req, res, id, path)
        if (method === 'PUT') return updateBucket(ctx, req, res, id, path)
        if (method === 'DELETE') return deleteBucket(ctx, req, res, id, path)
      } else if (action === 'empty' && extra === undefined && method === 'POST') {
        return emptyBucket(ctx, req, res, id, path)
      }
    } else if (area === 'object') {
      const [first, ...after] = rest
      if (first === undefined) throw storageErrors.notFound(method, path)
      if (first === 'list' && after.length === 1 && method === 'POST') return listObjects(ctx, req, res, after[0]!, path)
      if (first === 'move' && after.length === 0 && method === 'POST') return moveObject(ctx, req, res, path)
      if (first === 'copy' && after.length === 0 && method === 'POST') return copyObject(ctx, req, res, path)
      if (first === 'sign') {
        if (after.length === 1 && method === 'POST') return createSignedUrls(ctx, req, res, after[0]!, path)
        if (after.length >= 2 && method === 'POST') return createSignedUrl(ctx, req, res, after, path)
        if (after.length >= 2 && read) return downloadSignedObject(ctx, req, res, after, url)
      }
      if (first === 'upload' && after[0] === 'sign' && after.length >= 3) {
        if (method === 'POST') return createSignedUploadUrl(ctx, req, res, after.slice(1), path)
        if (method === 'PUT') return uploadToSignedUrl(ctx, req, res, after.slice(1), url, path)
      }
      if (first === 'public' && after.length >= 2 && read) return downloadPublicObject(ctx, req, res, after, url)
      if (first === 'authenticated' && after.length >= 2 && read) return downloadObject(ctx, req, res, after, url, path)
      if (first === 'info' && after.length >= 2 && method === 'GET') {
        const segments = after[0] === 'authenticated' && after.length >= 3 ? after.slice(1) : after
        return objectInfo(ctx, req, res, segments, path)
      }
      const segments = rest
      if (segments.length === 1 && method === 'DELETE') return removeObjects(ctx, req, res, segments[0]!, path)
      if (segments.length >= 2) {
        if (read) return downloadObject(ctx, req, res, segments, url, path)
        if (method === 'POST' || method === 'PUT') return uploadObject(ctx, req, res, segments, method, path)
        if (method === 'DELETE') return deleteObject(ctx, req, res, segments, path)
      }
    }
    throw storageErrors.notFound(method, path)
  }

  return {
    async start() {
      await ctx.files.prepare()
      try {
        await ctx.files.sweep(context.db)
      } catch (error) {
        context.onError(error, 'storage: sweeping unreferenced object files at start')
      }
    },

    async handle(req, res, path, url) {
      try {
        await route(req, res, path, url)
      } catch (error) {
        let answer: StorageError
        if (error instanceof StorageError) answer = error
        else {
          context.onError(error, `storage ${req.method} ${path}`)
          answer = storageErrors.internal()
        }
        // A refusal before (or while) reading an upload: discard the rest of the body so the
        // client, still sending, can read the answer on the same connection.
        if (!req.complete) req.resume()
        if (!res.headersSent) sendStorageError(res, answer)
        else res.destroy()
      }
    },
  }
}
