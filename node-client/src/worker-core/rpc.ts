import type { SupabaseClient } from '@supabase/supabase-js'

/** An RPC refused by the database or not reached; `code` is the SQLSTATE (OB0xx) when there is one. */
export class RpcError extends Error {
  constructor(
    readonly fn: string,
    message: string,
    readonly code: string | undefined,
    readonly hint: string | undefined,
  ) {
    super(`${fn}: ${message}${hint ? ` (${hint})` : ''}`)
    this.name = 'RpcError'
  }
}

/** Calls a database function through PostgREST and returns its rows (set-returning) or value. */
export async function callRpc<T>(supabase: SupabaseClient, fn: string, args: Record<string, unknown>): Promise<T> {
  const { data, error } = await supabase.rpc(fn, args)
  if (error) throw new RpcError(fn, error.message, error.code || undefined, error.hint || undefined)
  return data as T
}
