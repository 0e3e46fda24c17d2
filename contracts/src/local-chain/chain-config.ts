import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { isAddress } from 'ethers'
import { ChainError } from '../chain-error.ts'
import type { DevAccount } from './dev-accounts.ts'

/**
 * `<home>/chain.json`: what `npm start` tells the coordinator, the CLI and local wallets about the
 * local chain. Mode 0600: it holds private keys, though only anvil's public dev keys.
 */
export interface ChainConfig {
  network: 'local'
  /** JSON-RPC endpoint of the running chain (the port can change between starts). */
  rpcUrl: string
  chainId: number
  /** OblivionSettlement's address. */
  settlement: string
  /** The block and transaction that created it (event scans start at that block). */
  settlementBlock: number
  settlementTx: string
  /** Owner of the contract: anvil account 0. */
  deployer: string
  /**
   * The coordinator's signing key, the contract's validator: anvil account 1. Local only: this is
   * anvil's well-known dev key (mnemonic "test … junk"), never to be used on a real network.
   */
  validator: DevAccount
  /** The first 10 anvil accounts (10,000 coins each), for local wallets and workers. */
  accounts: DevAccount[]
  /** Seconds, as passed to the constructor. */
  unbondingDelay: number
  challengeWindow: number
  /** Identity of the artifact deployed: a changed contract is redeployed on the next start. */
  artifactSourceHash: string | null
  /** ISO time of the deployment. */
  deployedAt: string
  /**
   * InferenceMarket, deployed next to the settlement by `npm start` (absent in chain files written
   * before the market existed, and on chains that have none).
   */
  market?: MarketConfig
}

export interface MarketConfig {
  address: string
  /** The block and transaction that created it. */
  block: number
  tx: string
  /** Seconds, as passed to the constructor: how long an owner has to answer a request. */
  requestTimeout: number
  /** Identity of the artifact deployed: a changed market is redeployed on the next start. */
  artifactSourceHash: string | null
}

export const CHAIN_CONFIG_FILE = 'chain.json'

export function chainConfigFile(home: string): string {
  return path.join(home, CHAIN_CONFIG_FILE)
}

function isChainConfig(value: unknown): value is ChainConfig {
  const config = value as Partial<ChainConfig> | null
  return (
    typeof config === 'object' &&
    config !== null &&
    typeof config.rpcUrl === 'string' &&
    Number.isInteger(config.chainId) &&
    typeof config.settlement === 'string' &&
    isAddress(config.settlement) &&
    typeof config.validator?.privateKey === 'string' &&
    Array.isArray(config.accounts) &&
    (config.market === undefined || (typeof config.market?.address === 'string' && isAddress(config.market.address)))
  )
}

/**
 * Reads `<home>/chain.json` as `npm start` wrote it; null when there is none (no chain started
 * there yet, or it ran with --no-chain).
 */
export async function readChainConfig(home: string): Promise<ChainConfig | null> {
  const file = chainConfigFile(home)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = undefined
  }
  if (!isChainConfig(parsed)) {
    throw new ChainError('CHAIN_CONFIG_INVALID', `${file} is not the chain file npm start writes: delete it and restart npm start`)
  }
  return parsed
}

/** Writes `<home>/chain.json` with mode 0600, atomically (a reader never sees half a file). */
export async function writeChainConfig(home: string, config: ChainConfig): Promise<string> {
  await mkdir(home, { recursive: true })
  const file = chainConfigFile(home)
  const temporary = `${file}.${randomBytes(4).toString('hex')}.tmp`
  await writeFile(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 })
  await rename(temporary, file)
  return file
}
