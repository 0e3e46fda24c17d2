import type { ServerResponse } from 'node:http'
import { sendEmpty, sendJson } from '../http.ts'

/**
 * GoTrue's API version. supabase-js sends it on every request; when a response echoes it (or a
 * later date), auth-js reads errors as `{code, message}` and raises AuthApiError with `code` set
 * (`session_not_found` becomes AuthSessionMissingError). Without it the code would be dropped.
 */
export const API_VERSION_HEADERS = { 'X-Supabase-Api-Version': '2024-01-01' }

/** An expected refusal, answered with GoTrue's status and error code. */
export class AuthApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'AuthApiError'
  }
}

export const badRequest = (code: string, message: string) => new AuthApiError(400, code, message)

export function sendAuthJson(res: ServerResponse, status: number, body: unknown): void {
  sendJson(res, status, body, API_VERSION_HEADERS)
}

export function sendAuthEmpty(res: ServerResponse, status: number): void {
  sendEmpty(res, status, API_VERSION_HEADERS)
}

/** GoTrue's error body for API version 2024-01-01. */
export function sendAuthError(res: ServerResponse, error: AuthApiError): void {
  sendAuthJson(res, error.status, { code: error.code, message: error.message })
}
