import { JsonRpcProvider, Network } from 'ethers'
import { ChainError } from '../chain-error.ts'

/** Asks the endpoint its chain id with one plain JSON-RPC call (no retries, 10 s at most). */
export async function fetchChainId(rpcUrl: string, timeoutMs = 10_000): Promise<number> {
  let body: { result?: string; error?: { message?: string } }
  try {
    const response = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(timeoutMs),
    })
    body = (await response.json()) as typeof body
  } catch (error) {
    throw new ChainError('DEPLOY_RPC_UNREACHABLE', `could not reach the RPC at ${rpcUrl} (${(error as Error).message}): check --rpc-url and your connection`, {
      cause: error,
    })
  }
  if (typeof body.result !== 'string') {
    throw new ChainError('DEPLOY_RPC_UNREACHABLE', `the RPC at ${rpcUrl} did not answer eth_chainId (${body.error?.message ?? 'no result'})`)
  }
  return Number(body.result)
}

/**
 * An ethers provider for `rpcUrl` whose chain id was checked once against `expectedChainId`.
 * staticNetwork: ethers never re-detects (and never loops retrying an unreachable endpoint);
 * cacheTimeout -1: its default 250 ms call cache would return stale nonces and balances.
 */
export async function connectRpc(rpcUrl: string, expected?: { chainId: number; network: string }) {
  const chainId = await fetchChainId(rpcUrl)
  if (expected && chainId !== expected.chainId) {
    throw new ChainError(
      'DEPLOY_WRONG_CHAIN',
      `the RPC at ${rpcUrl} is chain ${chainId}, but ${expected.network} is chain ${expected.chainId}: nothing was sent; check --rpc-url and --network`,
    )
  }
  const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: Network.from(chainId), cacheTimeout: -1 })
  return { provider, chainId }
}
