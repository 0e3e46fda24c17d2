import type { IncomingMessage, ServerResponse } from 'node:http'
import { sendJson } from '../http.ts'
import { JwtError, signJwt, verifyJwt } from '../jwt.ts'
import { assertBucketName, assertObjectKeys, bucketAndKey, decodeSegments } from './object-names.ts'
import { storageCaller } from './storage-caller.ts'
import { asCaller, readJsonObject, type StorageContext } from './storage-context.ts'
import { storageErrors } from './storage-errors.ts'

// A signed URL is valid for at most a year (hosted lets a project choose; longer links are
// better made public).
const MAX_EXPIRES_IN = 365 * 24 * 3600

function expiresInOf(value: unknown): number {
  const seconds = Number(value)
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_EXPIRES_IN) {
    throw storageErrors.invalidRequest(`expiresIn must be a whole number of seconds from 1 to ${MAX_EXPIRES_IN}`)
  }
  return seconds
}

/**
 * The claims of a signed URL's `?token=`, refused unless it was signed here, has not expired, names
 * exactly `bucket/key` and was made for this purpose (a download link cannot upload, nor the
 * reverse: upload tokens carry `purpose: "upload"`, download tokens no purpose).
 */
export function verifyUrlToken(ctx: StorageContext, url: URL, bucket: string, key: string, purpose: 'download' | 'upload'): Record<string, unknown> {
  const token = url.searchParams.get('token')
  if (!token) throw storageErrors.invalidRequest(`Missing the token query parameter of a signed ${purpose === 'upload' ? 'upload ' : ''}URL`)
  let claims: Record<string, unknown>
  try {
    claims = verifyJwt(token, ctx.gateway.keys.jwtSecret)
  } catch (error) {
    if (error instanceof JwtError) throw storageErrors.invalidSignedToken(error.reason === 'expired' ? 'jwt expired' : error.message)
    throw error
  }
  const expected = purpose === 'upload' ? 'upload' : undefined
  if (claims.purpose !== expected || claims.url !== `${bucket}/${key}`) throw storageErrors.invalidSignature()
  return claims
}

/** storage-api's signed URL: a JWT `{url: "bucket/key", iat, exp}` signed with the project's secret. */
function signedUrlPath(ctx: StorageContext, bucket: string, key: string, expiresIn: number): string {
  const iat = Math.floor(Date.now() / 1000)
  const token = signJwt({ url: `${bucket}/${key}`, iat, exp: iat + expiresIn }, ctx.gateway.keys.jwtSecret)
  // Unencoded on purpose: supabase-js runs encodeURI over the whole URL.
  return `/object/sign/${bucket}/${key}?token=${token}`
}

/** POST `/object/sign/{bucket}/{key}` {expiresIn}: only for an object the caller may SELECT. */
export async function createSignedUrl(
  ctx: StorageContext,
  req: IncomingMessage,
  res: ServerResponse,
  segments: string[],
  path: string,
): Promise<void> {
  const caller = storageCaller(req, ctx.gateway.keys)
  const { bucket, key } = bucketAndKey(segments)
  const expiresIn = expiresInOf((await readJsonObject(ctx, req)).expiresIn)
  const visible = await asCaller(
    ctx,
    caller,
    async (tx) =>
      (await tx.query(`select 1 from storage.objects o where o.bucket_id = $1::text and o.name = $2::text`, [bucket, key])).rows
        .length > 0,
    { method: 'POST', path, readOnly: true },
  )
  if (!visible) throw storageErrors.noSuchKey()
  sendJson(res, 200, { signedURL: signedUrlPath(ctx, bucket, key, expiresIn) })
}

/** POST `/object/sign/{bucket}` {expiresIn, paths}: one entry per path, an error for those not visible. */
export async function createSignedUrls(
  ctx: StorageContext,
  req: IncomingMessage,
  res: ServerResponse,
  bucketSegment: string,
  path: string,
): Promise<void> {
  const caller = storageCaller(req, ctx.gateway.keys)
  const [decoded] = decodeSegments([bucketSegment])
  const bucket = assertBucketName(decoded)
  const body = await readJsonObject(ctx, req)
  const expiresIn = expiresInOf(body.expiresIn)
  const keys = assertObjectKeys(body.paths, 'paths', ctx.gateway.limits.maxRows)
  const visible = await asCaller(
    ctx,
    caller,
    async (tx) =>
      new Set(
        (
          await tx.query<{ name: string }>(
            `select o.name from storage.objects o where o.bucket_id = $1::text and o.name = any($2::text[])`,
            [bucket, keys],
          )
        ).rows.map((row) => row.name),
      ),
    { method: 'POST', path, readOnly: true },
  )
  sendJson(
    res,
    200,
    keys.map((key) =>
      visible.has(key)
        ? { error: null, path: key, signedURL: signedUrlPath(ctx, bucket, key, expiresIn) }
        : { error: 'Either the object does not exist or you do not have access to it', path: key, signedURL: null },
    ),
  )
}
