import path from 'node:path'
import type { NetworkAddress } from './connection.ts'

/** The Supabase CLI's port, where `npm start` runs the local gateway. */
export const DEFAULT_URL = 'http://127.0.0.1:54321'
export const REPO_ROOT = path.resolve(import.meta.dirname, '../../..')
/** The folder `npm start` uses by default: its gateway.json holds the local network's keys. */
export const DEFAULT_HOME = path.join(REPO_ROOT, '.oblivion')

/** The options every command takes (declared on the root command in main.ts). */
export interface GlobalOptions extends NetworkAddress {
  /** JSON lines instead of bars and prose: `--json`, or stdout is not a terminal. */
  json: boolean
}

export function wantsJson(flag: boolean | undefined, stdout: { isTTY?: boolean } = process.stdout): boolean {
  return flag === true || stdout.isTTY !== true
}
