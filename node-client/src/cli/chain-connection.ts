import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { JsonRpcProvider, Network, Wallet, getAddress, isAddress } from 'ethers'
import {
  LegacyWallet,
  chainConfigFile,
  connectOblivionSettlement,
  fetchChainId,
  readChainConfig,
  readDeployment,
  type ChainConfig,
  type OblivionSettlement,
} from '@oblivion/contracts'
import { CliError, usageError } from './cli-error.ts'

/** contracts/deployments: where `npm run deploy:contracts` records what it deployed, per chain id. */
export const DEPLOYMENTS_DIR = fileURLToPath(new URL('../../../contracts/deployments', import.meta.url))

/** The settlement contract a command talks to, and how it was found. */
export interface ChainTarget {
  rpcUrl: string
  chainId: number
  /** OblivionSettlement's address (checksummed). */
  settlement: string
  /** The contract's deployment block: event scans start there. */
  fromBlock: number
  /** The chain `npm start` runs (anvil): its chain.json, with the dev accounts. Null on a real network. */
  local: ChainConfig | null
  /** Where this came from, for messages: the chain.json path or "OBLIVION_RPC_URL". */
  source: string
}

/**
 * Which chain and contract to use:
 *   1. OBLIVION_RPC_URL (a real network, e.g. Shardeum testnet): the contract from
 *      OBLIVION_SETTLEMENT_ADDRESS, else from contracts/deployments/<chain id>.json;
 *   2. else `<home>/chain.json`, written by `npm start` for its local anvil;
 *   3. else null: no chain (jobs are then funded by `coordinator --fund-without-escrow`).
 */
export async function resolveChainTarget(home: string, env: NodeJS.ProcessEnv = process.env): Promise<ChainTarget | null> {
  const rpcUrl = env.OBLIVION_RPC_URL?.trim()
  if (rpcUrl) {
    const chainId = await fetchChainId(rpcUrl)
    const explicit = env.OBLIVION_SETTLEMENT_ADDRESS?.trim()
    if (explicit) {
      if (!isAddress(explicit)) throw usageError(`OBLIVION_SETTLEMENT_ADDRESS is not an address: ${JSON.stringify(explicit)}`)
      const fromBlock = Number(env.OBLIVION_SETTLEMENT_BLOCK ?? 0)
      return { rpcUrl, chainId, settlement: getAddress(explicit), fromBlock: Number.isSafeInteger(fromBlock) ? fromBlock : 0, local: null, source: 'OBLIVION_SETTLEMENT_ADDRESS' }
    }
    const record = await readDeployment(DEPLOYMENTS_DIR, chainId)
    const entry = record?.contracts.OblivionSettlement
    if (!entry) {
      throw new CliError('CLI_NO_CONTRACT', `no OblivionSettlement deployment is recorded for chain ${chainId} (the chain at OBLIVION_RPC_URL)`, {
        hint: `deploy it with \`npm run deploy:contracts\` (it writes ${path.join(DEPLOYMENTS_DIR, `${chainId}.json`)}), or set OBLIVION_SETTLEMENT_ADDRESS`,
      })
    }
    return { rpcUrl, chainId, settlement: getAddress(entry.address), fromBlock: entry.blockNumber, local: null, source: path.join(DEPLOYMENTS_DIR, `${chainId}.json`) }
  }
  const config = await readChainConfig(home)
  if (!config) return null
  return {
    rpcUrl: config.rpcUrl,
    chainId: config.chainId,
    settlement: getAddress(config.settlement),
    fromBlock: config.settlementBlock,
    local: config,
    source: chainConfigFile(home),
  }
}

/** resolveChainTarget, or an error that says how to get a chain. */
export async function requireChainTarget(home: string, env: NodeJS.ProcessEnv = process.env): Promise<ChainTarget> {
  const target = await resolveChainTarget(home, env)
  if (target) return target
  throw new CliError('CLI_NO_CHAIN', `no chain is configured (no ${chainConfigFile(home)} and no OBLIVION_RPC_URL)`, {
    hint: 'start the local network with `npm start` (it runs anvil and writes chain.json), or set OBLIVION_RPC_URL to a Shardeum RPC',
  })
}

/**
 * An ethers provider for the target. staticNetwork: no chain-id probing loop when the node is
 * down; cacheTimeout -1: no stale nonces or balances between our own transactions.
 */
export function chainProvider(target: ChainTarget): JsonRpcProvider {
  return new JsonRpcProvider(target.rpcUrl, undefined, { staticNetwork: Network.from(target.chainId), cacheTimeout: -1 })
}

/** How a command gets its signing key: never from a flag holding the key itself (shell history, `ps`). */
export interface WalletChoice {
  /** Index of one of the local chain's dev accounts (chain.json), 0–9. Local chain only. */
  devAccount?: number | undefined
  /** An encrypted JSON keystore, decrypted with KEYSTORE_PASSWORD. */
  keystore?: string | undefined
}

/** Where the private key comes from when neither --dev-account nor --keystore is given. */
export const PRIVATE_KEY_ENV = 'OBLIVION_PRIVATE_KEY'

const WALLET_HINT = `pass --dev-account <0-9> on the local chain, --keystore <file> (with KEYSTORE_PASSWORD), or set ${PRIVATE_KEY_ENV}`

/** Whether a wallet was asked for at all (so a command can make it optional). */
export function walletChosen(choice: WalletChoice, env: NodeJS.ProcessEnv = process.env): boolean {
  return choice.devAccount !== undefined || choice.keystore !== undefined || Boolean(env[PRIVATE_KEY_ENV]?.trim())
}

/**
 * The signing wallet, connected to `provider`: --dev-account (local chain only), --keystore, or
 * OBLIVION_PRIVATE_KEY, exactly one of them. No message here repeats a key or a password.
 */
export async function loadWallet(
  target: ChainTarget,
  provider: JsonRpcProvider,
  choice: WalletChoice,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LegacyWallet> {
  const privateKey = env[PRIVATE_KEY_ENV]?.trim()
  const given = [choice.devAccount !== undefined && '--dev-account', choice.keystore !== undefined && '--keystore', privateKey && PRIVATE_KEY_ENV].filter(Boolean)
  if (given.length > 1) throw usageError(`${given.join(' and ')} both name a wallet: use one`)
  if (given.length === 0) throw new CliError('CLI_NO_WALLET', 'this command signs a transaction and no wallet was given', { hint: WALLET_HINT, exitCode: 2 })

  if (choice.devAccount !== undefined) {
    if (!target.local) {
      throw usageError(`--dev-account only works on the local chain npm start runs (this is chain ${target.chainId} from ${target.source})`, WALLET_HINT)
    }
    const account = target.local.accounts[choice.devAccount]
    if (!account) throw usageError(`--dev-account ${choice.devAccount}: chain.json has ${target.local.accounts.length} accounts (0–${target.local.accounts.length - 1})`)
    return new LegacyWallet(account.privateKey, provider)
  }
  if (choice.keystore !== undefined) {
    const password = env.KEYSTORE_PASSWORD
    if (password === undefined) throw new CliError('CLI_NO_WALLET', `set KEYSTORE_PASSWORD to decrypt ${choice.keystore}`, { exitCode: 2 })
    let json: string
    try {
      json = await readFile(choice.keystore, 'utf8')
    } catch (error) {
      throw new CliError('CLI_BAD_KEYSTORE', `could not read the keystore ${choice.keystore} (${(error as NodeJS.ErrnoException).code ?? 'error'})`)
    }
    let wallet: Wallet
    try {
      wallet = (await Wallet.fromEncryptedJson(json, password)) as Wallet
    } catch {
      throw new CliError('CLI_BAD_KEYSTORE', `could not decrypt ${choice.keystore}: wrong KEYSTORE_PASSWORD, or not a JSON keystore`)
    }
    return new LegacyWallet(wallet.privateKey, provider)
  }
  try {
    return new LegacyWallet(privateKey!.startsWith('0x') ? privateKey! : `0x${privateKey}`, provider)
  } catch {
    throw new CliError('CLI_NO_WALLET', `${PRIVATE_KEY_ENV} is not a private key (64 hex digits, with or without 0x)`, { exitCode: 2 })
  }
}

/** The settlement contract, connected with `wallet` (or read-only with the provider). */
export function settlementContract(target: ChainTarget, runner: LegacyWallet | JsonRpcProvider): OblivionSettlement {
  return connectOblivionSettlement(target.settlement, runner)
}
