import { readFileSync } from 'node:fs'
import path from 'node:path'
import {
  HDNodeWallet,
  Interface,
  JsonRpcProvider,
  Network,
  hexlify,
  randomBytes,
  type TransactionReceipt,
  type TransactionResponse,
} from 'ethers'
import { expect } from 'vitest'
import { oblivionSettlementAbi, type OblivionSettlement } from '../../bindings/OblivionSettlement.ts'
import { compileSolidity, type CompiledContract } from '../../src/build/compile.ts'
import { LegacyWallet } from '../../src/deploy/legacy-wallet.ts'
import { startTestAnvil, type TestAnvil } from './anvil.ts'

/** Anvil's default dev mnemonic: its accounts hold 10,000 ETH each. */
const MNEMONIC = 'test test test test test test test test test test test junk'

export { LegacyWallet }

export interface TestChain {
  anvil: TestAnvil
  provider: JsonRpcProvider
  /** The 10 dev accounts as signers: 0 deploys (owner), 1 is the validator, the rest play creators and workers. */
  wallets: LegacyWallet[]
  /** Moves the chain's clock forward and mines a block. */
  increaseTime(seconds: number | bigint): Promise<void>
  /**
   * The next block's timestamp, exactly: also what eth_estimateGas and eth_call see until it is mined,
   * so a boundary ("not a second earlier") does not depend on the wall clock.
   */
  setNextTimestamp(timestamp: bigint): Promise<void>
  /** The latest block's timestamp. */
  now(): Promise<bigint>
  stop(): Promise<void>
}

export async function startTestChain(): Promise<TestChain> {
  const anvil = await startTestAnvil()
  // staticNetwork: no chain-id probe per call; cacheTimeout -1: the default 250 ms call cache
  // would return stale balances between transactions.
  const provider = new JsonRpcProvider(anvil.url, undefined, { staticNetwork: Network.from(8119), cacheTimeout: -1 })
  const wallets = Array.from({ length: 10 }, (_, i) => {
    const key = HDNodeWallet.fromPhrase(MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`).privateKey
    return new LegacyWallet(key, provider)
  })
  return {
    anvil,
    provider,
    wallets,
    async increaseTime(seconds) {
      await provider.send('evm_increaseTime', [Number(seconds)])
      await provider.send('evm_mine', [])
    },
    async setNextTimestamp(timestamp) {
      await provider.send('evm_setNextBlockTimestamp', [Number(timestamp)])
    },
    async now() {
      const block = await provider.getBlock('latest')
      return BigInt(block!.timestamp)
    },
    async stop() {
      provider.destroy()
      await anvil.stop()
    },
  }
}

export function randomBytes32(): string {
  return hexlify(randomBytes(32))
}

/** A job id as the coordinator makes them: a random uuid right-aligned in 32 bytes. */
export function randomJobId(): string {
  return `0x${'0'.repeat(32)}${hexlify(randomBytes(16)).slice(2)}`
}

export async function mined(tx: Promise<TransactionResponse>): Promise<TransactionReceipt> {
  const receipt = await (await tx).wait()
  if (!receipt || receipt.status !== 1) throw new Error(`transaction failed: ${JSON.stringify(receipt)}`)
  return receipt
}

const errorsInterface = Interface.from(oblivionSettlementAbi)

/** The revert data an ethers error carries, wherever this error kind keeps it. */
function revertData(error: unknown): string | undefined {
  const e = error as { data?: unknown; info?: { error?: { data?: unknown } }; error?: { data?: unknown } }
  for (const candidate of [e.data, e.info?.error?.data, e.error?.data]) {
    if (typeof candidate === 'string' && candidate.startsWith('0x')) return candidate
  }
  return undefined
}

/** The custom error a call reverted with, decoded with the settlement ABI (plus extra fragments). */
export async function revertOf(call: Promise<unknown>, extra?: Interface): Promise<{ name: string; args: unknown[] }> {
  try {
    await call
  } catch (error) {
    const data = revertData(error)
    if (data === undefined) throw error
    const parsed = errorsInterface.parseError(data) ?? extra?.parseError(data)
    if (!parsed) return { name: `unknown revert ${data}`, args: [] }
    return { name: parsed.name, args: [...parsed.args] }
  }
  throw new Error('expected the call to revert, it succeeded')
}

export async function expectRevert(call: Promise<unknown>, name: string, args?: unknown[]): Promise<void> {
  const revert = await revertOf(call)
  expect(revert.name).toBe(name)
  if (args) expect(revert.args).toEqual(args)
}

/** The on-chain invariant every test ends with: the contract holds exactly what it owes. */
export async function expectBalanceAccounted(chain: TestChain, contract: OblivionSettlement): Promise<void> {
  const [balance, accounted] = await Promise.all([
    chain.provider.getBalance(await contract.getAddress()),
    contract.accountedBalance(),
  ])
  expect(balance).toBe(accounted)
}

/** Compiles a Solidity fixture under tests/fixtures/ (imports resolved like the contract's). */
export function compileFixture(file: string, contractName: string): CompiledContract {
  const unit = `tests/fixtures/${file}`
  const source = readFileSync(path.resolve(import.meta.dirname, '..', 'fixtures', file), 'utf8')
  const contract = compileSolidity({ [unit]: source }).contracts.get(unit)?.get(contractName)
  if (!contract) throw new Error(`${unit} has no contract ${contractName}`)
  return contract
}
