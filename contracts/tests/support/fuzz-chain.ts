/**
 * The fuzz's side of the chain: a fresh anvil with OblivionSettlement deployed, a clock that moves
 * exactly one second per block (so the model knows every block's timestamp in advance), legacy
 * transactions signed locally with explicit nonce, gas limit and gas price, and snapshots of every
 * balance and view the invariants read, in one JSON-RPC batch pinned to one block.
 */
import { Interface, JsonRpcProvider, Network, Wallet, getAddress, type TransactionReceipt } from 'ethers'
import { loadArtifact } from '../../src/deploy/artifact.ts'
import { deploySettlement } from '../../src/deploy/deploy-settlement.ts'
import { startAnvil, type AnvilChain } from '../../src/local-chain/anvil.ts'
import type { Operation } from './fuzz-model.ts'

/** Enough for every operation here (the costliest, a claim with a 3-deep proof, uses ~60k). */
const GAS_LIMIT = 1_000_000n

export interface JobView {
  creator: string
  status: number
  started: boolean
  escrow: bigint
  deadline: bigint
  specHash: string
  payoutRoot: string
  settledAt: bigint
  unclaimed: bigint
}

export interface BondView {
  bonded: bigint
  unbonding: bigint
  unlockAt: bigint
}

export interface ChainSnapshot {
  blockNumber: number
  blockTimestamp: bigint
  contractBalance: bigint
  accountedBalance: bigint
  balances: Map<string, bigint>
  credits: Map<string, bigint>
  bonds: Map<string, BondView>
  jobs: Map<string, JobView>
  /** `${jobId}:${worker}` → isClaimed */
  claimed: Map<string, boolean>
}

/** A payee's leaf in a settled job's payout tree. */
export interface ClaimLeaf {
  jobId: string
  worker: string
  amount: bigint
  proof: string[]
}

export interface SentOperation {
  receipt: TransactionReceipt
  /** gasUsed × effective gas price: what the sender paid, whatever the outcome */
  gasCost: bigint
  /** the decoded revert (custom error name, Panic(0x11), …), or undefined when it succeeded */
  revert: string | undefined
}

export interface FuzzChainOptions {
  unbondingDelay: bigint
  challengeWindow: bigint
  /** the dev account (index into anvil's accounts) that deploys and owns the contract */
  ownerIndex: number
  validatorIndex: number
}

export class FuzzChain {
  /** timestamp of the latest block as the fuzz set it: the next one is this + 1 unless advanced */
  lastTimestamp = 0n
  private readonly nonces = new Map<string, number>()
  private requestId = 0

  private constructor(
    readonly anvil: AnvilChain,
    readonly provider: JsonRpcProvider,
    readonly contract: string,
    readonly iface: Interface,
    readonly wallets: Map<string, Wallet>,
    readonly gasPrice: bigint,
  ) {}

  static async start(options: FuzzChainOptions): Promise<FuzzChain> {
    const anvil = await startAnvil()
    try {
      const provider = new JsonRpcProvider(anvil.url, undefined, {
        staticNetwork: Network.from(anvil.chainId),
        cacheTimeout: -1,
        // ethers waits 10 ms to gather a batch by default: 10 ms on every call of a 1,000-step run.
        batchStallTime: 0,
      })
      const wallets = new Map(anvil.accounts.map((account) => [getAddress(account.address), new Wallet(account.privateKey)]))
      const owner = anvil.accounts[options.ownerIndex]!
      const validator = anvil.accounts[options.validatorIndex]!
      // FUZZ_ARTIFACT: another build of the contract, e.g. a deliberately broken one
      const artifact = await loadArtifact(process.env.FUZZ_ARTIFACT || undefined)
      const deployment = await deploySettlement({
        provider,
        deployer: new Wallet(owner.privateKey),
        validator: validator.address,
        unbondingDelay: options.unbondingDelay,
        challengeWindow: options.challengeWindow,
        artifact,
      })
      const chain = new FuzzChain(anvil, provider, deployment.address, new Interface(artifact.abi), wallets, deployment.gasPrice)
      // From here on every block is exactly one second after the previous one, whatever the wall
      // clock does; evm_setNextBlockTimestamp makes the jumps.
      await chain.rpc('anvil_setBlockTimestampInterval', [1])
      const counts = await chain.batch([...wallets.keys()].map((address) => ({ method: 'eth_getTransactionCount', params: [address, 'latest'] })))
      ;[...wallets.keys()].forEach((address, i) => chain.nonces.set(address, Number(counts[i] as string)))
      const latest = (await chain.rpc('eth_getBlockByNumber', ['latest', false])) as { timestamp: string }
      chain.lastTimestamp = BigInt(latest.timestamp)
      return chain
    } catch (error) {
      await anvil.stop()
      throw error
    }
  }

  async stop(): Promise<void> {
    this.provider.destroy()
    await this.anvil.stop()
  }

  /**
   * Sends `op` as a legacy transaction from its sender and waits for the receipt; reverted ones
   * are mined too (explicit gas limit, no estimate), so the chain charges them gas as it would.
   */
  async send(op: Operation, advanceTo?: bigint): Promise<SentOperation> {
    const wallet = this.wallets.get(op.from)
    if (!wallet) throw new Error(`the fuzz holds no key for ${op.from}`)
    const { fn, args, value } = callOf(op)
    if (advanceTo !== undefined) await this.rpc('evm_setNextBlockTimestamp', [Number(advanceTo)])
    const nonce = this.nonces.get(op.from)!
    const raw = await wallet.signTransaction({
      type: 0,
      chainId: this.anvil.chainId,
      to: this.contract,
      data: this.iface.encodeFunctionData(fn, args),
      value,
      nonce,
      gasLimit: GAS_LIMIT,
      gasPrice: this.gasPrice,
    })
    const hash = (await this.rpc('eth_sendRawTransaction', [raw])) as string
    this.nonces.set(op.from, nonce + 1)
    const receipt = await this.receipt(hash)
    // One block per transaction, one second apart: the snapshot checks the block really got it.
    this.lastTimestamp = advanceTo ?? this.lastTimestamp + 1n
    const gasCost = receipt.gasUsed * receipt.gasPrice
    return { receipt, gasCost, revert: receipt.status === 1 ? undefined : await this.revertOf(hash) }
  }

  /** Anvil mines on submission, but the receipt can lag the hash by a millisecond or two. */
  private async receipt(hash: string): Promise<TransactionReceipt> {
    for (let attempt = 0; attempt < 2_000; attempt++) {
      const receipt = await this.provider.getTransactionReceipt(hash)
      if (receipt) return receipt
      await new Promise((resolve) => setTimeout(resolve, attempt < 10 ? 1 : 10))
    }
    throw new Error(`no receipt for ${hash} after ~20 s: is anvil still mining?`)
  }

  /** The mined transaction's revert data, decoded with the contract's errors (callTracer keeps it). */
  private async revertOf(hash: string): Promise<string> {
    const trace = (await this.rpc('debug_traceTransaction', [hash, { tracer: 'callTracer' }])) as { output?: string; error?: string }
    const output = trace.output ?? '0x'
    if (output === '0x') return trace.error === 'execution reverted' || trace.error === undefined ? 'empty-revert' : trace.error
    return decodeRevert(this.iface, output)
  }

  /** Every balance and view the invariants compare, read at one block in one HTTP round trip. */
  async snapshot(blockNumber: number, accounts: string[], jobIds: string[], claims: ClaimLeaf[]): Promise<ChainSnapshot> {
    const tag = `0x${blockNumber.toString(16)}`
    const call = (fn: string, args: unknown[]) => ({ method: 'eth_call', params: [{ to: this.contract, data: this.iface.encodeFunctionData(fn, args) }, tag] })
    const requests = [
      { method: 'eth_getBlockByNumber', params: [tag, false] },
      { method: 'eth_getBalance', params: [this.contract, tag] },
      call('accountedBalance', []),
      ...accounts.map((account) => ({ method: 'eth_getBalance', params: [account, tag] })),
      ...accounts.map((account) => call('credits', [account])),
      ...accounts.map((account) => call('bondOf', [account])),
      ...jobIds.map((jobId) => call('getJob', [jobId])),
      // claims are flagged by leaf position, so isClaimed takes the leaf and its proof
      ...claims.map(({ jobId, worker, amount, proof }) => call('isClaimed', [jobId, worker, amount, proof])),
    ]
    const results = (await this.batch(requests)) as string[]
    let at = 0
    const take = () => results[at++]!
    const decode = (fn: string) => this.iface.decodeFunctionResult(fn, take())
    const block = take() as unknown as { timestamp: string }
    const snapshot: ChainSnapshot = {
      blockNumber,
      blockTimestamp: BigInt(block.timestamp),
      contractBalance: BigInt(take()),
      accountedBalance: decode('accountedBalance')[0] as bigint,
      balances: new Map(),
      credits: new Map(),
      bonds: new Map(),
      jobs: new Map(),
      claimed: new Map(),
    }
    for (const account of accounts) snapshot.balances.set(account, BigInt(take()))
    for (const account of accounts) snapshot.credits.set(account, decode('credits')[0] as bigint)
    for (const account of accounts) {
      const [bonded, unbonding, unlockAt] = decode('bondOf') as unknown as [bigint, bigint, bigint]
      snapshot.bonds.set(account, { bonded, unbonding, unlockAt })
    }
    for (const jobId of jobIds) {
      const [creator, status, started, escrow, deadline, specHash, payoutRoot, settledAt, unclaimed] = decode('getJob') as unknown as [
        string, bigint, boolean, bigint, bigint, string, string, bigint, bigint,
      ]
      snapshot.jobs.set(jobId, { creator, status: Number(status), started, escrow, deadline, specHash, payoutRoot, settledAt, unclaimed })
    }
    for (const { jobId, worker } of claims) snapshot.claimed.set(`${jobId}:${worker}`, decode('isClaimed')[0] as boolean)
    return snapshot
  }

  async latestBlockNumber(): Promise<number> {
    return Number((await this.rpc('eth_blockNumber', [])) as string)
  }

  private async rpc(method: string, params: unknown[]): Promise<unknown> {
    return (await this.batch([{ method, params }]))[0]
  }

  /** A raw JSON-RPC batch: one request, answers matched by id. */
  private async batch(requests: { method: string; params: unknown[] }[]): Promise<unknown[]> {
    const first = this.requestId
    this.requestId += requests.length
    const response = await fetch(this.anvil.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(requests.map((request, i) => ({ jsonrpc: '2.0', id: first + i, ...request }))),
    })
    const answers = (await response.json()) as { id: number; result?: unknown; error?: { message: string } }[]
    const results: unknown[] = new Array(requests.length)
    for (const answer of answers) {
      const i = answer.id - first
      if (answer.error) throw new Error(`${requests[i]?.method} failed: ${answer.error.message}`)
      results[i] = answer.result
    }
    return results
  }
}

/** The contract call an operation makes. */
export function callOf(op: Operation): { fn: string; args: unknown[]; value: bigint } {
  switch (op.kind) {
    case 'createJob':
      return { fn: 'createJob', args: [op.jobId, op.specHash, op.deadline], value: op.value }
    case 'markStarted':
    case 'cancelJob':
    case 'expireJob':
    case 'disputeSettlement':
      return { fn: op.kind, args: [op.jobId], value: 0n }
    case 'settle':
      return { fn: 'settle', args: [op.jobId, op.payouts.root, op.totalPayout, op.payoutCount, op.modelCidHash, op.metricsHash], value: 0n }
    case 'claimPayout':
      return { fn: 'claimPayout', args: [op.jobId, op.amount, op.proof], value: 0n }
    case 'bond':
      return { fn: 'bond', args: [], value: op.value }
    case 'requestUnbond':
      return { fn: 'requestUnbond', args: [op.amount], value: 0n }
    case 'withdrawUnbonded':
    case 'withdrawCredits':
      return { fn: op.kind, args: [], value: 0n }
    case 'slash':
      return { fn: 'slash', args: [op.worker, op.jobId, op.amount, op.evidenceHash], value: 0n }
    case 'setValidator':
      return { fn: 'setValidator', args: [op.validator], value: 0n }
    case 'transferOwnership':
      return { fn: 'transferOwnership', args: [op.newOwner], value: 0n }
  }
}

/** "WrongStatus", "Panic(0x11)", "Error(reason)" or "unknown(0x12345678)". */
export function decodeRevert(iface: Interface, data: string): string {
  const selector = data.slice(0, 10).toLowerCase()
  if (selector === '0x4e487b71') return `Panic(0x${BigInt(`0x${data.slice(10) || '0'}`).toString(16)})`
  try {
    const parsed = iface.parseError(data)
    if (parsed) return selector === '0x08c379a0' ? `Error(${String(parsed.args[0])})` : parsed.name
  } catch {
    // not one of the contract's errors
  }
  return `unknown(${selector})`
}
