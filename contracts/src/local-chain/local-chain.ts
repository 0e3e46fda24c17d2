import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { Wallet } from 'ethers'
import { MARKET_ARTIFACT, artifactIdentity, loadArtifact, type ContractArtifact } from '../deploy/artifact.ts'
import { deployMarket } from '../deploy/deploy-market.ts'
import { deploySettlement } from '../deploy/deploy-settlement.ts'
import { connectRpc } from '../deploy/rpc.ts'
import { startAnvil, type AnvilChain } from './anvil.ts'
import { readChainConfig, writeChainConfig, type ChainConfig } from './chain-config.ts'

export const ANVIL_STATE_FILE = 'anvil-state.json'

export interface LocalChainOptions {
  /** The local network's folder (`.oblivion`): anvil-state.json and chain.json live there. */
  home: string
  /** Default 8545, the usual Ethereum RPC port; 0 picks a free one. */
  port?: number
  /** Default: the committed contracts/artifacts/OblivionSettlement.json. */
  artifact?: ContractArtifact
  /** Default: the committed contracts/artifacts/InferenceMarket.json. */
  marketArtifact?: ContractArtifact
  /** Seconds a model owner has to answer an inference request; default 120 (a local session). */
  requestTimeout?: number
  /** Seconds; both default to 60 so the whole settle → claim cycle fits in a local session. */
  unbondingDelay?: number
  challengeWindow?: number
  /**
   * Seconds between state snapshots besides the one on a clean stop (default 10), so a killed
   * `npm start` loses at most that much chain. The snapshot is ~90 kB right after the deployment
   * and grows with the blocks mined.
   */
  stateInterval?: number
}

export interface LocalChain {
  config: ChainConfig
  configFile: string
  stateFile: string
  /** 'reused': the contract recorded in chain.json still has its code on the restored chain. */
  deployment: 'deployed' | 'reused'
  /** Why it was deployed rather than reused (first start, state lost, contract changed). */
  deployReason?: string
  anvil: AnvilChain
  /** Milliseconds the deployment took (0 when reused). */
  deployMs: number
  stop(): Promise<void>
}

/**
 * Why the recorded contracts cannot be reused, or undefined when both can: the settlement and the
 * market are deployed and reused together, so chain.json never mixes generations.
 */
async function reusable(previous: ChainConfig | null, anvil: AnvilChain, identity: string, marketIdentity: string): Promise<string | undefined> {
  if (!previous) return 'first start'
  if (previous.chainId !== anvil.chainId) return `chain id changed from ${previous.chainId}`
  if (previous.artifactSourceHash !== identity) return 'the contract changed since the last deployment'
  if (!previous.market) return 'no InferenceMarket recorded yet'
  if (previous.market.artifactSourceHash !== marketIdentity) return 'the InferenceMarket contract changed since the last deployment'
  for (const [name, address] of [['OblivionSettlement', previous.settlement], ['InferenceMarket', previous.market.address]] as const) {
    const code = (await fetchCode(anvil.url, address)) ?? '0x'
    if (code === '0x') return `no code at ${address} (${name}; the chain state was lost)`
  }
  return undefined
}

async function fetchCode(url: string, address: string): Promise<string | undefined> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getCode', params: [address, 'latest'] }),
  })
  return ((await response.json()) as { result?: string }).result
}

/**
 * The local chain `npm start` runs: anvil with its state in `<home>/anvil-state.json`, the
 * settlement contract (deployer = anvil account 0, validator = anvil account 1) and the inference
 * market (request timeout 120 s) deployed on the first start and reused on later ones, and
 * `<home>/chain.json` describing it all.
 */
export async function startLocalChain(options: LocalChainOptions): Promise<LocalChain> {
  const artifact = options.artifact ?? (await loadArtifact())
  const identity = artifactIdentity(artifact)
  const marketArtifact = options.marketArtifact ?? (await loadArtifact(MARKET_ARTIFACT))
  const marketIdentity = artifactIdentity(marketArtifact)
  await mkdir(options.home, { recursive: true })
  const stateFile = path.join(options.home, ANVIL_STATE_FILE)
  const previous = await readChainConfig(options.home).catch(() => null)
  const anvil = await startAnvil({ port: options.port ?? 8545, stateFile, stateInterval: options.stateInterval ?? 10 })
  try {
    const [deployer, validator] = anvil.accounts
    if (!deployer || !validator) throw new Error('anvil started without dev accounts')
    const reason = await reusable(previous, anvil, identity, marketIdentity)
    let config: ChainConfig
    let deployMs = 0
    if (reason === undefined && previous) {
      config = { ...previous, rpcUrl: anvil.url, accounts: anvil.accounts }
    } else {
      const unbondingDelay = options.unbondingDelay ?? 60
      const challengeWindow = options.challengeWindow ?? 60
      const started = performance.now()
      const { provider } = await connectRpc(anvil.url)
      const requestTimeout = options.requestTimeout ?? 120
      const { deployed, market } = await (async () => {
        const deployed = await deploySettlement({
          provider,
          deployer: new Wallet(deployer.privateKey),
          validator: validator.address,
          unbondingDelay,
          challengeWindow,
          artifact,
        })
        const market = await deployMarket({ provider, deployer: new Wallet(deployer.privateKey), requestTimeout, artifact: marketArtifact })
        return { deployed, market }
      })().finally(() => provider.destroy())
      deployMs = performance.now() - started
      config = {
        network: 'local',
        rpcUrl: anvil.url,
        chainId: anvil.chainId,
        settlement: deployed.address,
        settlementBlock: deployed.blockNumber,
        settlementTx: deployed.txHash,
        deployer: deployer.address,
        // Anvil's well-known dev key (account 1): fine for a local chain, worthless anywhere else.
        validator,
        accounts: anvil.accounts,
        unbondingDelay,
        challengeWindow,
        artifactSourceHash: identity,
        deployedAt: new Date().toISOString(),
        market: {
          address: market.address,
          block: market.blockNumber,
          tx: market.txHash,
          requestTimeout,
          artifactSourceHash: marketIdentity,
        },
      }
    }
    const configFile = await writeChainConfig(options.home, config)
    return {
      config,
      configFile,
      stateFile,
      deployment: reason === undefined ? 'reused' : 'deployed',
      ...(reason === undefined ? {} : { deployReason: reason }),
      anvil,
      deployMs,
      stop: () => anvil.stop(),
    }
  } catch (error) {
    await anvil.stop()
    throw error
  }
}
