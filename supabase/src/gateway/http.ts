import type { IncomingMessage, ServerResponse } from 'node:http'

/** A request body larger than the surface's limit: answered 413 by the surface in its own error shape. */
export class PayloadTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`Request body is larger than the ${limitBytes} byte limit`)
    this.name = 'PayloadTooLargeError'
  }
}

/**
 * Reads the whole body, refusing (without buffering further) once it passes `limitBytes`.
 * A declared Content-Length above the limit is refused before a byte is read.
 */
export async function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limitBytes) {
    req.resume() // drain so the socket can answer
    throw new PayloadTooLargeError(limitBytes)
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limitBytes) {
      req.resume()
      throw new PayloadTooLargeError(limitBytes)
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

/** Parses a JSON body; `undefined` for an empty one. Throws SyntaxError on bad JSON. */
export async function readJson(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  const body = await readBody(req, limitBytes)
  if (body.length === 0) return undefined
  return JSON.parse(body.toString('utf8'))
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body)
  res.writeHead(status, {
    ...(text ? { 'Content-Type': 'application/json; charset=utf-8' } : {}),
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  })
  res.end(text)
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, headers)
  res.end()
}

/** The first value of a header (Node joins repeated headers with ", " or gives an array). */
export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()]
  return Array.isArray(value) ? value[0] : value
}

/**
 * CORS as hosted Supabase answers it: any origin (pages are served from another port than the
 * API), every header the client sends, and Content-Range readable for counts.
 */
export const CORS_HEADERS: Record<string, string> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS',
  'Access-Control-Allow-Headers':
    'authorization, apikey, x-client-info, content-type, content-profile, accept-profile, prefer, range, range-unit, x-upsert, x-supabase-api-version, cache-control',
  'Access-Control-Expose-Headers': 'Content-Range, Content-Location, Preference-Applied, X-Supabase-Api-Version, ETag',
  'Access-Control-Max-Age': '86400',
}
