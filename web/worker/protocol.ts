import type { WorkerEvent } from '@oblivion/node-client/worker-core'

/**
 * The messages between the worker page and its Web Worker (browser-worker.worker.ts).
 *
 * The page owns the session: its supabase-js client refreshes the user's tokens and posts each
 * new access token to the worker. The worker never sees the refresh token, so it cannot refresh
 * on its own: the gateway accepts a refresh token once and revokes the whole session on reuse,
 * so two clients refreshing the same session would sign the person out.
 */
export type ToWorker =
  | {
      type: 'start'
      supabaseUrl: string
      anonKey: string
      accessToken: string
      /** The worker's name (unique per user): one per browser profile. */
      name: string
      /** The signed-in wallet (lower case): where the worker is paid, whose bond stakes its leases. */
      payoutAddress: string | null
      leaseSeconds: number
      pollIntervalMs: number
    }
  /** The page's client refreshed the session: use this token from now on. */
  | { type: 'tokens'; accessToken: string }
  /** drain: finish the running task, deliver it, stop. release: abort it, give it back, stop. */
  | { type: 'stop'; mode: 'drain' | 'release'; reason: string }

export type FromWorker =
  /** The TF.js backend training runs on; `fallback` says why it is not wasm. */
  | { type: 'backend'; backend: 'wasm' | 'cpu'; fallback: string | null }
  /** Every event of the worker core, as the CLI renders them. */
  | { type: 'event'; event: WorkerEvent }
  /** The worker could not start (bad session, gateway unreachable…); it has stopped. */
  | { type: 'fatal'; message: string }
  /** Stopped (after drain, release or fatal): the page may terminate the Worker. */
  | { type: 'exited' }
