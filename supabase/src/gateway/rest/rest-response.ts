import type { ServerResponse } from 'node:http'
import type { RestError } from './rest-error.ts'

/** A response decided inside the transaction, sent after COMMIT (or ROLLBACK for tx=rollback). */
export interface RestResponse {
  status: number
  /** JSON text built by Postgres; undefined = no body. */
  body?: string
  headers: Record<string, string>
}

export const JSON_TYPE = 'application/json; charset=utf-8'
export const OBJECT_TYPE = 'application/vnd.pgrst.object+json; charset=utf-8'

export function sendRest(res: ServerResponse, response: RestResponse, head: boolean): void {
  const headers: Record<string, string | number> = { ...response.headers }
  if (response.body !== undefined) {
    headers['Content-Type'] ??= JSON_TYPE
    headers['Content-Length'] = Buffer.byteLength(response.body)
  } else if (response.status !== 204) headers['Content-Length'] = 0
  res.writeHead(response.status, headers)
  res.end(head ? undefined : response.body)
}

export function sendRestError(res: ServerResponse, error: RestError, head: boolean): void {
  sendRest(res, { status: error.status, body: JSON.stringify(error.body), headers: error.headers }, head)
}

/** Thrown out of the transaction to roll it back while still answering `response`. */
export class RollbackWith extends Error {
  constructor(readonly response: RestResponse) {
    super('rolled back on request (Prefer: tx=rollback)')
  }
}
