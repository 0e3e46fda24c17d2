import 'server-only'
import { connection } from 'next/server'
import { parsePublicConfig, PUBLIC_CONFIG_ENV, type PublicConfig } from '@oblivion/visualizer/config'

/**
 * The network this server shows, from OBLIVION_PUBLIC_CONFIG (set by `npm start`), read at
 * request time: one build serves any network. Throws with the reason when it is missing.
 */
export async function getPublicConfig(): Promise<PublicConfig> {
  await connection()
  return parsePublicConfig(process.env[PUBLIC_CONFIG_ENV])
}
