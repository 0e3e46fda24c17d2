import type { IncomingMessage } from 'node:http'
import type { Queryable } from '../../db/database.ts'
import { withRequestContext } from '../../db/request-context.ts'
import type { GatewayContext } from '../gateway.ts'
import { PayloadTooLargeError, readJson } from '../http.ts'
import type { CallerIdentity } from '../identity.ts'
import { bucketRulesOf, type BucketRules } from './bucket-rules.ts'
import type { ObjectFiles } from './object-files.ts'
import { storageErrorFromDatabase, storageErrors } from './storage-errors.ts'

/** What every storage handler gets. */
export interface StorageContext {
  gateway: GatewayContext
  files: ObjectFiles
}

/**
 * Runs `fn` as the caller (one transaction with the JWT's role and claims), so the RLS policies
 * on storage.objects/buckets decide exactly as on hosted Supabase; database refusals become
 * storage-api's errors (42501 → 403 "new row violates row-level security policy", 23505 → 409).
 */
export async function asCaller<T>(
  ctx: StorageContext,
  caller: CallerIdentity,
  fn: (tx: Queryable) => Promise<T>,
  options: { method: string; path: string; readOnly?: boolean },
): Promise<T> {
  try {
    return await withRequestContext(ctx.gateway.db, caller, fn, options)
  } catch (error) {
    throw storageErrorFromDatabase(error) ?? error
  }
}

class DryRunRollback extends Error {}

/**
 * Runs a write as the caller and rolls it back: storage-api's "can this caller upload here?"
 * test, done before a byte of the body is read so a refused upload costs nothing.
 */
export async function dryRunAsCaller(
  ctx: StorageContext,
  caller: CallerIdentity,
  fn: (tx: Queryable) => Promise<void>,
  options: { method: string; path: string },
): Promise<void> {
  try {
    await asCaller(
      ctx,
      caller,
      async (tx) => {
        await fn(tx)
        throw new DryRunRollback()
      },
      options,
    )
  } catch (error) {
    if (!(error instanceof DryRunRollback)) throw error
  }
}

/**
 * A bucket's id, visibility and upload rules, read by the gateway itself (storage-api reads them
 * as its superuser too): whether the caller may write is then up to the policies on objects.
 */
export async function findBucketRules(ctx: StorageContext, bucketId: string): Promise<BucketRules> {
  const { rows } = await ctx.gateway.db.query<{
    id: string
    public: boolean
    file_size_limit: number | string | null
    allowed_mime_types: string[] | null
  }>(`select b.id, b.public, b.file_size_limit, b.allowed_mime_types from storage.buckets b where b.id = $1::text`, [bucketId])
  const row = rows[0]
  if (!row) throw storageErrors.noSuchBucket()
  return bucketRulesOf(row)
}

/** A JSON object body within the install's JSON limit (413 beyond, 400 when not a JSON object). */
export async function readJsonObject(ctx: StorageContext, req: IncomingMessage): Promise<Record<string, unknown>> {
  let body: unknown
  try {
    body = await readJson(req, ctx.gateway.limits.jsonBodyBytes)
  } catch (error) {
    if (error instanceof PayloadTooLargeError) throw storageErrors.payloadTooLarge(error.limitBytes)
    if (error instanceof SyntaxError) throw storageErrors.invalidRequest(`Body is not valid JSON: ${error.message}`)
    throw error
  }
  if (body === undefined) return {}
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw storageErrors.invalidRequest('The body must be a JSON object')
  }
  return body as Record<string, unknown>
}
