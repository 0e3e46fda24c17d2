/** Where the settlement contract can be deployed. */
export interface NetworkProfile {
  name: 'testnet' | 'mainnet' | 'local'
  label: string
  chainId: number
  /** Default JSON-RPC endpoint; mainnet has none on purpose: real money, name the endpoint. */
  rpcUrl?: string
  /** Constructor defaults, in seconds. */
  unbondingDelay: number
  challengeWindow: number
}

export const NETWORKS: Record<NetworkProfile['name'], NetworkProfile> = {
  // Shardeum's testnet "Mezame". Test SHM comes from Shardeum's faucet.
  testnet: { name: 'testnet', label: 'Shardeum testnet (Mezame)', chainId: 8119, rpcUrl: 'https://api-mezame.shardeum.org', unbondingDelay: 86_400, challengeWindow: 3_600 },
  // Shardeum mainnet. Its public endpoint is https://api.shardeum.org (check Shardeum's docs), but
  // the deploy command wants it given explicitly (--rpc-url or SHARDEUM_RPC_URL).
  mainnet: { name: 'mainnet', label: 'Shardeum mainnet', chainId: 8118, unbondingDelay: 7 * 86_400, challengeWindow: 86_400 },
  // The anvil chain `npm start` runs (chain id 8119 like the testnet, default port 8545).
  local: { name: 'local', label: 'local anvil chain', chainId: 8119, rpcUrl: 'http://127.0.0.1:8545', unbondingDelay: 60, challengeWindow: 60 },
}

export function isNetworkName(name: string): name is NetworkProfile['name'] {
  return Object.hasOwn(NETWORKS, name)
}
