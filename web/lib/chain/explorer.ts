import type { PublicChainConfig } from '@oblivion/visualizer/config'

/**
 * A block explorer link for a transaction or an address, when the chain has a public explorer.
 * The local anvil chain uses Shardeum testnet's chain id (8119), so a loopback RPC means local:
 * no explorer, the hash is shown as text.
 */
const EXPLORERS: Record<number, string> = {
  8118: 'https://explorer.shardeum.org',
  8119: 'https://explorer-mezame.shardeum.org',
}

function explorer(chain: PublicChainConfig | null): string | null {
  if (!chain) return null
  const host = new URL(chain.rpcUrl).hostname
  if (host === 'localhost' || host === '127.0.0.1' || host === '[::1]' || host.endsWith('.local')) return null
  return EXPLORERS[chain.chainId] ?? null
}

export function txUrl(chain: PublicChainConfig | null, hash: string): string | null {
  const base = explorer(chain)
  return base ? `${base}/tx/${hash}` : null
}

export function addressUrl(chain: PublicChainConfig | null, address: string): string | null {
  const base = explorer(chain)
  return base ? `${base}/address/${address}` : null
}
