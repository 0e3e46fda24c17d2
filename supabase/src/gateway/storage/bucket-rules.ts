import { storageErrors } from './storage-errors.ts'

/** What a bucket imposes on uploads (storage.buckets.file_size_limit / allowed_mime_types). */
export interface BucketRules {
  id: string
  public: boolean
  fileSizeLimit: number | null
  allowedMimeTypes: string[] | null
}

export function bucketRulesOf(row: {
  id: string
  public: boolean
  file_size_limit: number | string | null
  allowed_mime_types: string[] | null
}): BucketRules {
  return {
    id: row.id,
    public: row.public,
    fileSizeLimit: row.file_size_limit === null ? null : Number(row.file_size_limit),
    allowedMimeTypes: row.allowed_mime_types && row.allowed_mime_types.length > 0 ? row.allowed_mime_types : null,
  }
}

/** The media type without parameters, lower-cased: `Text/Plain;charset=UTF-8` → `text/plain`. */
function essence(mimeType: string): string {
  return (mimeType.split(';')[0] ?? '').trim().toLowerCase()
}

/** Refuses a content type the bucket does not allow; `image/*` allows every image type. */
export function assertMimeAllowed(rules: BucketRules, mimeType: string): void {
  if (!rules.allowedMimeTypes) return
  const [type, subtype] = essence(mimeType).split('/')
  if (!type || !subtype) throw storageErrors.invalidMimeType(mimeType)
  for (const allowed of rules.allowedMimeTypes) {
    const [allowedType, allowedSubtype] = essence(allowed).split('/')
    if (allowed.trim() === '*' || (allowedType === type && (allowedSubtype === '*' || allowedSubtype === subtype))) return
  }
  throw storageErrors.invalidMimeType(mimeType)
}

const MIME_PATTERN = /^([a-zA-Z0-9\-+.]+)\/([a-zA-Z0-9\-+.*]+)(;\s*charset=[a-zA-Z0-9\-]+)?$|^\*$/
const SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb)?$/i
// storage-api's file size strings ("20MB") use decimal units.
const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12 }

/** `allowed_mime_types` as sent to create/update a bucket: null, or valid media types. */
export function parseAllowedMimeTypes(value: unknown): string[] | null | undefined {
  if (value === undefined) return undefined
  if (value === null) return null
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && MIME_PATTERN.test(v))) {
    throw storageErrors.invalidRequest('allowed_mime_types must be a list of media types such as "image/png" or "image/*"')
  }
  return value as string[]
}

/** `file_size_limit`: null, a byte count, or a string like "20MB"; at most the install's upload limit. */
export function parseFileSizeLimit(value: unknown, uploadBytes: number): number | null | undefined {
  if (value === undefined) return undefined
  if (value === null || value === 0 || value === '') return null
  let bytes: number
  if (typeof value === 'number') bytes = value
  else if (typeof value === 'string' && SIZE_PATTERN.test(value.trim())) {
    const [, amount, unit] = SIZE_PATTERN.exec(value.trim())!
    bytes = Number(amount) * SIZE_UNITS[(unit ?? 'b').toLowerCase()]!
  } else {
    throw storageErrors.invalidRequest('Invalid file size format, hint: use 20GB / 20MB / 30KB / 3B')
  }
  if (!Number.isFinite(bytes) || bytes < 0) throw storageErrors.invalidRequest('file_size_limit must be a positive size')
  bytes = Math.floor(bytes)
  if (bytes > uploadBytes) {
    throw storageErrors.invalidRequest(`file_size_limit ${bytes} is above this install's upload limit of ${uploadBytes} bytes`)
  }
  return bytes
}
