import { storageErrors } from './storage-errors.ts'

// storage-api's own rules (src/storage/limits.ts): bucket names and object keys are limited to
// these characters. Object names are also refused when a segment is empty, "." or "..": bytes are
// stored under the object's version id, never under its name, but a name that looks like a path
// escape is a client bug worth surfacing.
const BUCKET_NAME = /^(\w|!|-|\.|\*|'|\(|\)| |&|\$|@|=|;|:|\+|,|\?)*$/
const OBJECT_KEY = /^(\w|\/|!|-|\.|\*|'|\(|\)| |&|\$|@|=|;|:|\+|,|\?)*$/
const MAX_BUCKET_NAME = 100
const MAX_KEY = 1024

export function assertBucketName(name: unknown): string {
  if (typeof name !== 'string' || name === '' || name.length > MAX_BUCKET_NAME || !BUCKET_NAME.test(name)) {
    throw storageErrors.invalidBucketName(String(name))
  }
  return name
}

export function assertObjectKey(key: unknown): string {
  if (typeof key !== 'string' || key === '' || key.length > MAX_KEY || !OBJECT_KEY.test(key)) {
    throw storageErrors.invalidKey(String(key))
  }
  if (key.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw storageErrors.invalidKey(key)
  }
  return key
}

/** A body field listing 1 to `max` object names (`prefixes` of remove, `paths` of batch signing). */
export function assertObjectKeys(value: unknown, field: string, max: number): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > max) {
    throw storageErrors.invalidRequest(`${field} must be a list of 1 to ${max} object names`)
  }
  return value.map((key) => assertObjectKey(key))
}

/** Percent-decodes URL path segments (fetch encodes spaces and the like; supabase-js does not). */
export function decodeSegments(segments: string[]): string[] {
  try {
    return segments.map((segment) => decodeURIComponent(segment))
  } catch {
    throw storageErrors.invalidKey(segments.join('/'))
  }
}

/** `["bucket", "a", "b.txt"]` → `{ bucket: "bucket", key: "a/b.txt" }`, both validated. */
export function bucketAndKey(segments: string[]): { bucket: string; key: string } {
  const [bucket, ...rest] = decodeSegments(segments)
  return { bucket: assertBucketName(bucket), key: assertObjectKey(rest.join('/')) }
}
