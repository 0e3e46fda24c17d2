import { createHash } from 'node:crypto'
import { createWriteStream, type WriteStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import type { IncomingMessage } from 'node:http'
import { once } from 'node:events'
import { finished } from 'node:stream/promises'
import { header } from '../http.ts'
import { assertMimeAllowed, type BucketRules } from './bucket-rules.ts'
import { MultipartError, multipartBoundary, readMultipart } from './multipart-reader.ts'
import { storageErrors, type StorageError } from './storage-errors.ts'

/** An upload received into a temp file, with what storage-api records in `metadata`. */
export interface ReceivedUpload {
  tempPath: string
  size: number
  /** `"<md5 hex>"`, quoted like S3's ETag. */
  eTag: string
  mimetype: string
  cacheControl: string
  userMetadata: Record<string, unknown> | null
}

/** The byte limit of one upload into a bucket and the error answered beyond it. */
export function uploadLimit(rules: BucketRules, installLimit: number): { bytes: number; error: () => StorageError } {
  if (rules.fileSizeLimit !== null && rules.fileSizeLimit < installLimit) {
    const bytes = rules.fileSizeLimit
    return { bytes, error: () => storageErrors.objectTooLarge(bytes) }
  }
  return { bytes: installLimit, error: () => storageErrors.payloadTooLarge(installLimit) }
}

/** Checks what can be checked before reading a byte: a raw body's declared size and content type. */
export function precheckUpload(req: IncomingMessage, rules: BucketRules, installLimit: number): void {
  if (multipartBoundary(header(req, 'content-type'))) return // the file part's type and size come later
  const limit = uploadLimit(rules, installLimit)
  const declared = Number(header(req, 'content-length'))
  if (Number.isFinite(declared) && declared > limit.bytes) throw limit.error()
  assertMimeAllowed(rules, rawContentType(req))
}

function rawContentType(req: IncomingMessage): string {
  return header(req, 'content-type') || 'application/octet-stream'
}

class FileSink {
  private readonly stream: WriteStream
  private readonly hash = createHash('md5')
  private failure: Error | undefined
  size = 0

  constructor(
    readonly path: string,
    private readonly limit: { bytes: number; error: () => StorageError },
  ) {
    this.stream = createWriteStream(path, { flags: 'wx' })
    // Remembered, not thrown: a write error surfaces at the next write or at finish().
    this.stream.on('error', (error) => {
      this.failure ??= error
    })
  }

  async write(chunk: Buffer): Promise<void> {
    this.size += chunk.length
    if (this.size > this.limit.bytes) throw this.limit.error()
    if (this.failure) throw this.failure
    this.hash.update(chunk)
    if (!this.stream.write(chunk)) await once(this.stream, 'drain')
  }

  async finish(): Promise<string> {
    this.stream.end()
    await finished(this.stream)
    return `"${this.hash.digest('hex')}"`
  }

  async abort(): Promise<void> {
    this.stream.destroy()
    await finished(this.stream).catch(() => {})
    await rm(this.path, { force: true })
  }
}

function parseUserMetadata(json: string | undefined): Record<string, unknown> | null {
  if (json === undefined || json === '') return null
  try {
    const value: unknown = JSON.parse(json)
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>
  } catch {
    // answered below
  }
  throw storageErrors.invalidRequest('metadata must be a JSON object')
}

// Stored values are sent back as response headers on every download: only printable ASCII, so
// one upload cannot make its object fail to download forever.
const HEADER_SAFE = /^[\x20-\x7e]*$/

/** `cacheControl: "3600"` (FormData) → `max-age=3600`, as storage-api stores it. */
function cacheControlOf(value: string | undefined, fallback: string): string {
  if (!value) return fallback
  if (!HEADER_SAFE.test(value) || value.length > 256) throw storageErrors.invalidRequest('cacheControl must be printable ASCII of at most 256 characters')
  return /^\d+$/.test(value) ? `max-age=${value}` : value
}

function mimetypeOf(value: string): string {
  if (!HEADER_SAFE.test(value) || value.length > 256) throw storageErrors.invalidRequest('The content type must be printable ASCII of at most 256 characters')
  return value
}

/**
 * Everything of a multipart body but the file (fields, other parts, boundaries) is capped: only
 * the file part counts against the upload limit, and an endless stream of small fields must not
 * be read forever.
 */
const MAX_MULTIPART_OVERHEAD_BYTES = 1024 * 1024

async function* countingOverhead(body: AsyncIterable<Buffer>, sink: { size: number }): AsyncIterable<Buffer> {
  let total = 0
  for await (const chunk of body) {
    total += chunk.length
    if (total - sink.size > MAX_MULTIPART_OVERHEAD_BYTES + 64 * 1024) {
      throw storageErrors.invalidRequest(`The multipart body carries more than ${MAX_MULTIPART_OVERHEAD_BYTES} bytes besides the file`)
    }
    yield chunk
  }
}

/**
 * Streams the request body (raw, or the file part of multipart/form-data) into `tempPath`,
 * refusing it once it passes the limit; nothing but one chunk is ever held in memory.
 */
export async function receiveUpload(
  req: IncomingMessage,
  options: { tempPath: string; rules: BucketRules; installLimit: number },
): Promise<ReceivedUpload> {
  const limit = uploadLimit(options.rules, options.installLimit)
  const sink = new FileSink(options.tempPath, limit)
  // An early exit must not destroy the request: the error still has to be answered on its socket.
  const body = req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>
  try {
    const boundary = multipartBoundary(header(req, 'content-type'))
    if (!boundary) {
      for await (const chunk of body) await sink.write(chunk)
      const xMetadata = header(req, 'x-metadata')
      return {
        tempPath: sink.path,
        size: sink.size,
        eTag: await sink.finish(),
        mimetype: mimetypeOf(rawContentType(req)),
        cacheControl: cacheControlOf(header(req, 'cache-control'), 'no-cache'),
        userMetadata: parseUserMetadata(xMetadata ? Buffer.from(xMetadata, 'base64').toString('utf8') : undefined),
      }
    }
    const fields = new Map<string, string>()
    let mimetype: string | undefined
    let ended = false
    await readMultipart(countingOverhead(body, sink), boundary, {
      // The client sends these two; any other field is read past, not kept.
      field: (name, value) => (name === 'cacheControl' || name === 'metadata') && fields.set(name, value),
      fileStart: (file) => {
        assertMimeAllowed(options.rules, file.contentType)
        mimetype = mimetypeOf(file.contentType)
      },
      fileData: (chunk) => sink.write(chunk),
      fileEnd: async () => {
        ended = true
      },
    })
    if (mimetype === undefined || !ended) throw storageErrors.invalidRequest('The multipart body has no file part')
    return {
      tempPath: sink.path,
      size: sink.size,
      eTag: await sink.finish(),
      mimetype,
      cacheControl: cacheControlOf(fields.get('cacheControl'), 'max-age=3600'),
      userMetadata: parseUserMetadata(fields.get('metadata')),
    }
  } catch (error) {
    await sink.abort()
    if (error instanceof MultipartError) throw storageErrors.invalidRequest(error.message)
    throw error
  }
}
