/**
 * A streaming multipart/form-data reader (RFC 7578): text fields are collected (bounded), file
 * parts are handed over chunk by chunk, so an upload is never held in memory. supabase-js sends a
 * Blob upload as FormData with `cacheControl` (and `metadata`) fields first, then the file part.
 * Node has no streaming parser built in (`Response.formData()` buffers the whole body).
 */
export interface MultipartFile {
  field: string
  filename: string
  contentType: string
}

export interface MultipartHandler {
  field(name: string, value: string): void
  /** Called when a file part's headers are read; may throw to refuse it (e.g. its mime type). */
  fileStart(file: MultipartFile): Promise<void> | void
  fileData(chunk: Buffer): Promise<void>
  fileEnd(): Promise<void>
}

export class MultipartError extends Error {
  constructor(message: string) {
    super(`Malformed multipart body: ${message}`)
    this.name = 'MultipartError'
  }
}

const HEADER_END = Buffer.from('\r\n\r\n')
const MAX_HEADER_BYTES = 16 * 1024
const MAX_FIELD_BYTES = 64 * 1024

/** The boundary of a `multipart/form-data; boundary=…` content type, or undefined. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^multipart\/form-data\b/i.test(contentType)) return undefined
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType)
  return match?.[1] ?? match?.[2]
}

function parsePartHeaders(block: string): { name: string; filename?: string; contentType?: string } {
  let disposition = ''
  let contentType: string | undefined
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon < 0) continue
    const key = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    if (key === 'content-disposition') disposition = value
    else if (key === 'content-type') contentType = value
  }
  if (!/^form-data\b/i.test(disposition)) throw new MultipartError('a part lacks Content-Disposition: form-data')
  const name = /;\s*name="([^"]*)"/i.exec(disposition)?.[1] ?? ''
  const filename = /;\s*filename="([^"]*)"/i.exec(disposition)?.[1]
  return { name, filename, contentType }
}

/** Reads the whole body from `source`, calling `handler` as parts arrive. Only the first file part is delivered. */
export async function readMultipart(source: AsyncIterable<Buffer>, boundary: string, handler: MultipartHandler): Promise<void> {
  const delimiter = Buffer.from(`\r\n--${boundary}`)
  const keep = delimiter.length - 1
  // Starting with CRLF makes the first boundary look like every later delimiter.
  let buffer: Buffer = Buffer.from('\r\n')
  type State = 'preamble' | 'afterDelimiter' | 'headers' | 'body' | 'epilogue'
  let state = 'preamble' as State // changed inside advance(): keep TypeScript from narrowing it here
  let part: { kind: 'field'; name: string; chunks: Buffer[]; size: number } | { kind: 'file' } | { kind: 'skip' } = { kind: 'skip' }
  let fileSeen = false

  const emit = async (chunk: Buffer) => {
    if (chunk.length === 0) return
    if (part.kind === 'file') await handler.fileData(chunk)
    else if (part.kind === 'field') {
      part.size += chunk.length
      if (part.size > MAX_FIELD_BYTES) throw new MultipartError(`field ${part.name} is larger than ${MAX_FIELD_BYTES} bytes`)
      part.chunks.push(chunk)
    }
  }
  const endPart = async () => {
    if (part.kind === 'file') await handler.fileEnd()
    else if (part.kind === 'field') handler.field(part.name, Buffer.concat(part.chunks).toString('utf8'))
    part = { kind: 'skip' }
  }

  const advance = async () => {
    for (;;) {
      if (state === 'preamble') {
        const at = buffer.indexOf(delimiter)
        if (at < 0) {
          buffer = buffer.subarray(Math.max(0, buffer.length - keep))
          return
        }
        buffer = buffer.subarray(at + delimiter.length)
        state = 'afterDelimiter'
      } else if (state === 'afterDelimiter') {
        if (buffer.length < 2) return
        if (buffer[0] === 0x2d && buffer[1] === 0x2d) {
          state = 'epilogue'
          return
        }
        if (buffer[0] !== 0x0d || buffer[1] !== 0x0a) throw new MultipartError('a boundary is not followed by CRLF')
        buffer = buffer.subarray(2)
        state = 'headers'
      } else if (state === 'headers') {
        let block: string
        if (buffer.length >= 2 && buffer[0] === 0x0d && buffer[1] === 0x0a) {
          block = ''
          buffer = buffer.subarray(2)
        } else {
          const end = buffer.indexOf(HEADER_END)
          if (end < 0) {
            if (buffer.length > MAX_HEADER_BYTES) throw new MultipartError(`part headers exceed ${MAX_HEADER_BYTES} bytes`)
            return
          }
          block = buffer.subarray(0, end).toString('utf8')
          buffer = buffer.subarray(end + HEADER_END.length)
        }
        const headers = parsePartHeaders(block)
        if (headers.filename !== undefined) {
          if (fileSeen) part = { kind: 'skip' }
          else {
            fileSeen = true
            await handler.fileStart({
              field: headers.name,
              filename: headers.filename,
              contentType: headers.contentType ?? 'application/octet-stream',
            })
            part = { kind: 'file' }
          }
        } else {
          part = { kind: 'field', name: headers.name, chunks: [], size: 0 }
        }
        state = 'body'
      } else if (state === 'body') {
        const at = buffer.indexOf(delimiter)
        if (at >= 0) {
          await emit(buffer.subarray(0, at))
          await endPart()
          buffer = buffer.subarray(at + delimiter.length)
          state = 'afterDelimiter'
        } else {
          if (buffer.length > keep) {
            await emit(buffer.subarray(0, buffer.length - keep))
            buffer = buffer.subarray(buffer.length - keep)
          }
          return
        }
      } else {
        buffer = Buffer.alloc(0) // epilogue: ignored
        return
      }
    }
  }

  for await (const chunk of source) {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk])
    await advance()
  }
  if (state !== 'epilogue') throw new MultipartError('the body ended before the closing boundary')
}
