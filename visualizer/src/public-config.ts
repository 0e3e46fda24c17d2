/**
 * What the browser apps (web/ and visualizer/) need to know about the network they show: the
 * gateway and its public anon key, the chain and the settlement contract. `npm start` passes it
 * to both as the JSON environment variable OBLIVION_PUBLIC_CONFIG: web/ reads it on the server
 * at request time, the visualizer's server answers it at /config.json. Only public values: the
 * service_role key and private keys never go in here.
 */
export interface PublicConfig {
  /** The Supabase API (our gateway locally, hosted Supabase in production). */
  supabaseUrl: string
  /** The public anon key: pages and browser workers use it with the user's session. */
  anonKey: string
  /** The chain holding escrows and bonds; null on a network started without one. */
  chain: PublicChainConfig | null
  /** Where the web app and the visualizer are served, for links between them; null when not running. */
  webUrl: string | null
  visualizerUrl: string | null
}

export interface PublicChainConfig {
  chainId: number
  /** Shown when a wallet must add the network ("Oblivion local (anvil)", "Shardeum testnet"). */
  name: string
  rpcUrl: string
  /** OblivionSettlement's address. */
  settlement: string
  /** Seconds after a settlement before payouts can be claimed. */
  challengeWindow: number
  /**
   * InferenceMarket's address (chain.json's `market.address`): the marketplace pages buy
   * verified inferences from it. Null (or absent, in configs written before the market) on a
   * chain without one.
   */
  market?: string | null
}

export const PUBLIC_CONFIG_ENV = 'OBLIVION_PUBLIC_CONFIG'

/** Parses OBLIVION_PUBLIC_CONFIG (or any JSON text), naming what is wrong. */
export function parsePublicConfig(text: string | undefined): PublicConfig {
  if (!text) throw new Error(`${PUBLIC_CONFIG_ENV} is not set: start the app with \`npm start\`, which sets it`)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new Error(`${PUBLIC_CONFIG_ENV} is not JSON`)
  }
  const config = value as Partial<PublicConfig> | null
  if (!config || typeof config.supabaseUrl !== 'string' || typeof config.anonKey !== 'string') {
    throw new Error(`${PUBLIC_CONFIG_ENV} needs supabaseUrl and anonKey`)
  }
  const chain = config.chain ?? null
  if (chain !== null && (typeof chain.chainId !== 'number' || typeof chain.rpcUrl !== 'string' || typeof chain.settlement !== 'string')) {
    throw new Error(`${PUBLIC_CONFIG_ENV}.chain needs chainId, rpcUrl and settlement`)
  }
  if (chain !== null && chain.market !== undefined && chain.market !== null && typeof chain.market !== 'string') {
    throw new Error(`${PUBLIC_CONFIG_ENV}.chain.market must be the InferenceMarket's address or null`)
  }
  return {
    supabaseUrl: config.supabaseUrl,
    anonKey: config.anonKey,
    chain: chain && { chainId: chain.chainId, name: chain.name ?? `chain ${chain.chainId}`, rpcUrl: chain.rpcUrl, settlement: chain.settlement, challengeWindow: chain.challengeWindow ?? 0, market: chain.market ?? null },
    webUrl: config.webUrl ?? null,
    visualizerUrl: config.visualizerUrl ?? null,
  }
}
