import { startAnvil } from '../../src/local-chain/anvil.ts'

/** Anvil as a Shardeum-like chain (chain id 8119, Istanbul rules) on a free loopback port. */
export interface TestAnvil {
  url: string
  stop(): Promise<void>
}

export async function startTestAnvil(): Promise<TestAnvil> {
  const anvil = await startAnvil({ port: 0 })
  return { url: anvil.url, stop: () => anvil.stop() }
}
