import type { ServerResponse } from 'node:http'
import { sendJson } from '../http.ts'

/**
 * An error answered in storage-api's shape: `{statusCode, code, error, message}`, where
 * `statusCode` (a string) is the specific status and `code` is storage-api's stable ErrorCode
 * (supabase-js's `exists()` reads `code === 'NoSuchKey'`).
 *
 * The HTTP status is what storage-api sends: its error handler answers `userStatusCode`, which
 * is 400 for every client error and 500 otherwise (a PR to send 404 for missing objects,
 * supabase/storage#324, was closed unmerged). Only the install-wide upload limit is answered 413,
 * as hosted Supabase's proxy does before the request reaches storage-api.
 */
export class StorageError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    readonly error: string,
    message: string,
    readonly httpStatus: number = statusCode >= 500 ? 500 : 400,
  ) {
    super(message)
    this.name = 'StorageError'
  }
}

export const storageErrors = {
  noSuchBucket: () => new StorageError(404, 'NoSuchBucket', 'Bucket not found', 'Bucket not found'),
  noSuchKey: () => new StorageError(404, 'NoSuchKey', 'not_found', 'Object not found'),
  keyAlreadyExists: () => new StorageError(409, 'KeyAlreadyExists', 'Duplicate', 'The resource already exists'),
  bucketAlreadyExists: () => new StorageError(409, 'BucketAlreadyExists', 'Duplicate', 'The resource already exists'),
  bucketNotEmpty: () =>
    new StorageError(409, 'ResourceNotEmpty', 'ResourceNotEmpty', 'The bucket you tried to delete is not empty: empty it first'),
  rowLevelSecurity: () =>
    new StorageError(403, 'AccessDenied', 'Unauthorized', 'new row violates row-level security policy'),
  invalidJwt: (message: string) => new StorageError(403, 'InvalidJWT', 'Unauthorized', message),
  invalidSignedToken: (message: string) => new StorageError(400, 'InvalidJWT', 'InvalidJWT', message),
  invalidSignature: () =>
    new StorageError(400, 'InvalidSignature', 'InvalidSignature', 'The url do not match the signature: sign this exact path'),
  invalidKey: (key: string) => new StorageError(400, 'InvalidKey', 'InvalidKey', `Invalid key: ${key}`),
  invalidBucketName: (name: string) =>
    new StorageError(400, 'InvalidBucketName', 'Invalid Input', `Bucket name invalid: ${JSON.stringify(name)}`),
  invalidMimeType: (mimeType: string) =>
    new StorageError(415, 'InvalidMimeType', 'invalid_mime_type', `mime type ${mimeType} is not supported`),
  /** A bucket's `file_size_limit` (storage-api: HTTP 400, statusCode 413). */
  objectTooLarge: (limitBytes: number) =>
    new StorageError(413, 'EntityTooLarge', 'Payload too large', `The object exceeded the maximum allowed size (${limitBytes} bytes)`),
  /** The install-wide limit (`limits.uploadBytes`, JSON bodies): HTTP 413 like hosted's proxy. */
  payloadTooLarge: (limitBytes: number) =>
    new StorageError(413, 'EntityTooLarge', 'Payload too large', `The object exceeded the maximum allowed size (${limitBytes} bytes)`, 413),
  invalidRequest: (message: string) => new StorageError(400, 'InvalidRequest', 'InvalidRequest', message),
  notFound: (method: string, path: string) =>
    new StorageError(404, 'InvalidRequest', 'Not Found', `Route ${method}:${path} not found in the storage API`),
  internal: () => new StorageError(500, 'InternalError', 'Internal', 'Internal server error; see the gateway log'),
}

/** Maps a database error raised while running as the caller to storage-api's answer, or undefined. */
export function storageErrorFromDatabase(error: unknown): StorageError | undefined {
  const code = (error as { code?: unknown } | null)?.code
  if (code === '42501') return storageErrors.rowLevelSecurity()
  if (code === '23505') return storageErrors.keyAlreadyExists()
  if (code === '23503') return storageErrors.noSuchBucket()
  return undefined
}

export function sendStorageError(res: ServerResponse, error: StorageError): void {
  sendJson(res, error.httpStatus, {
    statusCode: String(error.statusCode),
    code: error.code,
    error: error.error,
    message: error.message,
  })
}
