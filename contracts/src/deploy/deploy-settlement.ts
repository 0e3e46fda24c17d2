import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { ContractFactory, getAddress, type BaseWallet, type JsonRpcProvider, type TransactionReceipt } from 'ethers'
import { ChainError } from '../chain-error.ts'
import type { ContractArtifact } from './artifact.ts'
import { connectRpc } from './rpc.ts'

export interface SettlementDeployParams {
  /** A connected provider, or an rpcUrl to connect to (its chain id is then whatever it answers). */
  provider?: JsonRpcProvider
  rpcUrl?: string
  /** Signs the creation transaction and becomes the contract's owner. */
  deployer: BaseWallet
  /** The coordinator's address: the only account allowed to settle, start jobs and slash. */
  validator: string
  /** Seconds a worker waits between requestUnbond and withdrawUnbonded. */
  unbondingDelay: number | bigint
  /** Seconds after settle during which the owner may dispute and payouts cannot be claimed. */
  challengeWindow: number | bigint
  artifact: ContractArtifact
  /** Gas limit = estimate × this (default 1.2: Shardeum's estimates have run short). */
  gasMargin?: number
  /** How long to wait for the receipt (default 5 min; Shardeum makes a block every ~6 s). */
  receiptTimeoutMs?: number
}

export interface SettlementDeployPlan {
  from: string
  validator: string
  data: string
  gasPrice: bigint
  gasEstimate: bigint
  gasLimit: bigint
  /** gasEstimate × gasPrice: what it should cost. */
  expectedCost: bigint
  /** gasLimit × gasPrice: what the deployer must hold. */
  maxCost: bigint
  balance: bigint
}

export interface SettlementDeployment {
  address: string
  txHash: string
  blockNumber: number
  deployer: string
  gasUsed: bigint
  gasPrice: bigint
}

async function providerFor(params: SettlementDeployParams) {
  if (params.provider) return { provider: params.provider, owned: false }
  if (!params.rpcUrl) throw new ChainError('DEPLOY_BAD_OPTIONS', 'deploySettlement needs a provider or an rpcUrl')
  return { provider: (await connectRpc(params.rpcUrl)).provider, owned: true }
}

/**
 * Prices the deployment without sending anything: eth_gasPrice (Shardeum has no EIP-1559 fee
 * market), eth_estimateGas with the margin, and the deployer's balance.
 */
export async function planSettlementDeployment(params: SettlementDeployParams, provider: JsonRpcProvider): Promise<SettlementDeployPlan> {
  const validator = getAddress(params.validator)
  const factory = new ContractFactory(params.artifact.abi, params.artifact.bytecode)
  const { data } = await factory.getDeployTransaction(validator, params.unbondingDelay, params.challengeWindow)
  const from = params.deployer.address
  const [gasPriceHex, gasEstimate, balance] = await Promise.all([
    provider.send('eth_gasPrice', []) as Promise<string>,
    provider.estimateGas({ from, data }),
    provider.getBalance(from),
  ])
  const gasPrice = BigInt(gasPriceHex)
  const margin = params.gasMargin ?? 1.2
  const gasLimit = (gasEstimate * BigInt(Math.round(margin * 1000)) + 999n) / 1000n
  return { from, validator, data, gasPrice, gasEstimate, gasLimit, expectedCost: gasEstimate * gasPrice, maxCost: gasLimit * gasPrice, balance }
}

/**
 * Polls for the receipt: every 50 ms at first (anvil mines at once), backing off to 2 s (a
 * Shardeum block takes ~6 s). ethers' own wait() polls every 4 s from the start.
 */
export async function waitForReceipt(provider: JsonRpcProvider, hash: string, timeoutMs: number): Promise<TransactionReceipt> {
  const deadline = Date.now() + timeoutMs
  for (let delay = 50; ; delay = Math.min(delay * 2, 2_000)) {
    const receipt = await provider.getTransactionReceipt(hash)
    if (receipt) return receipt
    if (Date.now() > deadline) {
      throw new ChainError('DEPLOY_FAILED', `no receipt for ${hash} after ${Math.round(timeoutMs / 1000)} s: look it up in the explorer before deploying again`)
    }
    await new Promise((resolve) => setTimeout(resolve, delay))
  }
}

/**
 * Deploys OblivionSettlement(validator, unbondingDelay, challengeWindow) with a legacy (type 0)
 * transaction (Shardeum accepts only legacy and EIP-2930 ones), waits for the receipt and checks
 * that the code is at the new address.
 */
export async function deploySettlement(params: SettlementDeployParams): Promise<SettlementDeployment> {
  const { provider, owned } = await providerFor(params)
  try {
    const plan = await planSettlementDeployment(params, provider)
    if (plan.balance < plan.maxCost) {
      throw new ChainError('DEPLOY_INSUFFICIENT_FUNDS', `the deployer ${plan.from} holds ${plan.balance} wei but the deployment may cost ${plan.maxCost} wei: fund it first`)
    }
    const signer = params.deployer.connect(provider)
    const sent = await signer.sendTransaction({ type: 0, data: plan.data, gasPrice: plan.gasPrice, gasLimit: plan.gasLimit })
    const receipt = await waitForReceipt(provider, sent.hash, params.receiptTimeoutMs ?? 300_000)
    if (receipt.status !== 1 || !receipt.contractAddress) {
      throw new ChainError('DEPLOY_FAILED', `the deployment transaction ${sent.hash} reverted (gas used ${receipt.gasUsed} of ${plan.gasLimit})`)
    }
    const code = await provider.getCode(receipt.contractAddress)
    if (code === '0x') {
      throw new ChainError('DEPLOY_FAILED', `transaction ${sent.hash} succeeded but ${receipt.contractAddress} has no code`)
    }
    return {
      address: getAddress(receipt.contractAddress),
      txHash: sent.hash,
      blockNumber: receipt.blockNumber,
      deployer: plan.from,
      gasUsed: receipt.gasUsed,
      gasPrice: plan.gasPrice,
    }
  } finally {
    if (owned) provider.destroy()
  }
}

/** One contract's entry in a deployments file. */
export interface DeploymentEntry {
  address: string
  txHash: string
  blockNumber: number
  deployedAt: string
  validator: string
  unbondingDelay: number
  challengeWindow: number
  artifactSourceHash: string | null
}

/** `contracts/deployments/<chainId>.json`: the contracts deployed on one chain. */
export interface DeploymentRecord {
  chainId: number
  network: string
  contracts: Record<string, DeploymentEntry>
}

export function deploymentFile(dir: string, chainId: number): string {
  return path.join(dir, `${chainId}.json`)
}

export async function readDeployment(dir: string, chainId: number): Promise<DeploymentRecord | null> {
  try {
    return JSON.parse(await readFile(deploymentFile(dir, chainId), 'utf8')) as DeploymentRecord
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
}

/**
 * Records deployments in `<dir>/<chainId>.json`, keeping the entries of contracts not named in
 * `record` (each contract can be deployed on its own). Returns the file's path.
 */
export async function writeDeployment(
  dir: string,
  chainId: number,
  record: { network: string; contracts: Record<string, DeploymentEntry> },
): Promise<string> {
  await mkdir(dir, { recursive: true })
  const previous = await readDeployment(dir, chainId)
  const merged: DeploymentRecord = { chainId, network: record.network, contracts: { ...previous?.contracts, ...record.contracts } }
  const file = deploymentFile(dir, chainId)
  await writeFile(`${file}.tmp`, `${JSON.stringify(merged, null, 2)}\n`)
  await rename(`${file}.tmp`, file)
  return file
}
