/**
 * `npm run bench:chain`: gas of every OblivionSettlement operation, read from receipts on a fresh
 * anvil run as Shardeum runs (chain id 8119, Istanbul gas rules, legacy transactions), and the cost
 * per paid worker of a settlement: settle gas / payouts + a claim with its Merkle proof.
 * Prints one JSON report to stdout; progress goes to stderr. Nothing is timed: gas is deterministic.
 */
import { parseArgs } from 'node:util'
import { Interface, JsonRpcProvider, Network, Wallet, getAddress, id, type TransactionReceipt } from 'ethers'
import { artifactIdentity, loadArtifact } from '../src/deploy/artifact.ts'
import { deploySettlement } from '../src/deploy/deploy-settlement.ts'
import { startAnvil, type AnvilChain } from '../src/local-chain/anvil.ts'
import { buildPayoutTree } from '../src/merkle/payout-tree.ts'

const HELP = `Usage: npm run bench:chain [-- options]

Deploys OblivionSettlement on a fresh anvil (chain 8119, Istanbul) and reports the gas each
operation used, from its receipt. For each payout-tree size it settles one job, then every payee
claims its payout with its proof, so the claim figures cover every leaf of the tree.

Options:
  --payouts LIST  comma-separated payout-tree sizes (default 4,64,1024; 64 must be among them
                  for the per-paid-worker target)
  -h, --help      show this help

Prints one JSON document to stdout; progress goes to stderr.
Exit codes: 0 measured (whether or not the target was met), 1 the benchmark failed, 2 bad options.`

/** Gas one paid worker may cost, settle share included, at 64 payouts. */
const TARGET = { payouts: 64, max_gas_per_paid_worker: 60_000 }
const UNBONDING_DELAY = 3_600
const CHALLENGE_WINDOW = 3_600
const ETHER = 10n ** 18n
/** Above any single operation here (settle is O(1) in the payouts; a depth-10 claim is ~60k). */
const GAS_LIMIT = 2_000_000n

class UsageError extends Error {}

function parseOptions(argv: string[]): { payouts: number[] } | 'help' {
  let values
  try {
    ;({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        payouts: { type: 'string', default: '4,64,1024' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }))
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  if (values.help) return 'help'
  const payouts = values.payouts.split(',').map((text) => {
    const n = Number(text.trim())
    if (!Number.isInteger(n) || n < 1 || n > 4096) throw new UsageError(`--payouts needs whole numbers from 1 to 4096, got ${JSON.stringify(text)}`)
    return n
  })
  return { payouts }
}

const progress = (line: string) => process.stderr.write(`${line}\n`)

/**
 * Sends legacy transactions with locally tracked nonces and polls for receipts every few ms
 * (ethers' wait() polls every 4 s; anvil mines on submission). A revert fails the benchmark.
 */
class LegacySender {
  private readonly nonces = new Map<string, number>()

  constructor(
    readonly provider: JsonRpcProvider,
    readonly chainId: number,
    readonly gasPrice: bigint,
    readonly contract: string,
    readonly iface: Interface,
  ) {}

  async call(label: string, wallet: Wallet, fn: string, args: unknown[], value = 0n): Promise<TransactionReceipt> {
    let nonce = this.nonces.get(wallet.address)
    if (nonce === undefined) nonce = await this.provider.getTransactionCount(wallet.address, 'latest')
    const raw = await wallet.signTransaction({
      type: 0,
      chainId: this.chainId,
      to: this.contract,
      data: this.iface.encodeFunctionData(fn, args),
      value,
      nonce,
      gasLimit: GAS_LIMIT,
      gasPrice: this.gasPrice,
    })
    const hash = (await this.provider.send('eth_sendRawTransaction', [raw])) as string
    this.nonces.set(wallet.address, nonce + 1)
    for (let attempt = 0; attempt < 2_000; attempt++) {
      const receipt = await this.provider.getTransactionReceipt(hash)
      if (receipt) {
        if (receipt.status !== 1) throw new Error(`${label}: ${fn} reverted (tx ${hash}); the benchmark's sequence no longer fits the contract`)
        return receipt
      }
      await new Promise((resolve) => setTimeout(resolve, attempt < 10 ? 1 : 10))
    }
    throw new Error(`${label}: no receipt for ${hash} after ~20 s`)
  }
}

/** A uuid-shaped job id (16 bytes right-aligned in bytes32), deterministic per label. */
function jobIdFor(label: string): string {
  return `0x${'0'.repeat(32)}${id(label).slice(2, 34)}`
}

/** Payee wallets with deterministic keys, funded for gas with anvil_setBalance (no transactions). */
async function payeeWallets(provider: JsonRpcProvider, count: number, salt: string): Promise<Wallet[]> {
  const wallets = Array.from({ length: count }, (_, i) => new Wallet(id(`oblivion bench payee ${salt} ${i}`)))
  for (let i = 0; i < wallets.length; i += 100) {
    await Promise.all(wallets.slice(i, i + 100).map((wallet) => provider.send('anvil_setBalance', [wallet.address, `0x${ETHER.toString(16)}`])))
  }
  return wallets
}

interface SettlementMeasurement {
  payouts: number
  proof_depth: { min: number; max: number }
  settle_gas: number
  settle_gas_per_payout: number
  claim_gas: { first: number; mean: number; min: number; max: number }
  /** settle share + mean claim */
  gas_per_paid_worker: number
  /** settle share + the dearest claim (the first one into a fresh word of the claimed bitmap) */
  gas_per_paid_worker_worst: number
}

async function measureSettlement(
  sender: LegacySender,
  roles: { creator: Wallet; validator: Wallet },
  payouts: number,
): Promise<SettlementMeasurement> {
  const { provider } = sender
  const payees = await payeeWallets(provider, payouts, String(payouts))
  // Amounts that differ per payee (like real contributions), ~0.001 ETH each.
  const tree = buildPayoutTree(payees.map((wallet, i) => ({ address: wallet.address, amountWei: ETHER / 1000n + BigInt(i) * 7919n })))
  const jobId = jobIdFor(`settle ${payouts}`)
  const deadline = BigInt((await provider.getBlock('latest'))!.timestamp) + 86_400n
  // The escrow is exactly the payout total: no remainder, so every size settles from the same
  // storage state (a remainder adds a credit write: see settle_with_remainder).
  await sender.call(`settle ${payouts}`, roles.creator, 'createJob', [jobId, id('spec'), deadline], tree.total)
  await sender.call(`settle ${payouts}`, roles.validator, 'markStarted', [jobId])
  const settled = await sender.call(`settle ${payouts}`, roles.validator, 'settle', [jobId, tree.root, tree.total, tree.count, id('model'), id('metrics')])
  await provider.send('evm_increaseTime', [CHALLENGE_WINDOW])

  progress(`  ${payouts} payouts: settle ${settled.gasUsed} gas; ${payouts} claims…`)
  const claims: number[] = []
  const depths: number[] = []
  for (const wallet of payees) {
    const address = getAddress(wallet.address)
    const proof = tree.proofs.get(address)!
    const receipt = await sender.call(`claim ${payouts}`, wallet, 'claimPayout', [jobId, tree.amounts.get(address)!, proof])
    claims.push(Number(receipt.gasUsed))
    depths.push(proof.length)
  }
  const settleGas = Number(settled.gasUsed)
  const mean = claims.reduce((sum, gas) => sum + gas, 0) / claims.length
  const max = Math.max(...claims)
  return {
    payouts,
    proof_depth: { min: Math.min(...depths), max: Math.max(...depths) },
    settle_gas: settleGas,
    settle_gas_per_payout: Math.round(settleGas / payouts),
    claim_gas: { first: claims[0]!, mean: Math.round(mean), min: Math.min(...claims), max },
    gas_per_paid_worker: Math.round(settleGas / payouts + mean),
    gas_per_paid_worker_worst: Math.round(settleGas / payouts + max),
  }
}

async function main(options: { payouts: number[] }, anvil: AnvilChain) {
  const provider = new JsonRpcProvider(anvil.url, undefined, { staticNetwork: Network.from(anvil.chainId), cacheTimeout: -1 })
  try {
    const [owner, validator, creator, worker, secondCreator] = anvil.accounts
      .slice(0, 5)
      .map((account) => new Wallet(account.privateKey, provider)) as [Wallet, Wallet, Wallet, Wallet, Wallet]
    const artifact = await loadArtifact()
    progress(`deploying OblivionSettlement on ${anvil.url}…`)
    const deployment = await deploySettlement({
      provider,
      deployer: owner,
      validator: validator.address,
      unbondingDelay: UNBONDING_DELAY,
      challengeWindow: CHALLENGE_WINDOW,
      artifact,
    })
    const sender = new LegacySender(provider, anvil.chainId, deployment.gasPrice, deployment.address, new Interface(artifact.abi))
    const gas: Record<string, number> = { deploy: Number(deployment.gasUsed) }
    const record = (name: string, receipt: TransactionReceipt) => {
      gas[name] = Number(receipt.gasUsed)
      progress(`  ${name}: ${receipt.gasUsed} gas`)
    }
    const now = async () => BigInt((await provider.getBlock('latest'))!.timestamp)

    progress('single operations…')
    // A first job, so the measured createJob meets the escrow total already non-zero, as it
    // almost always will on a live contract.
    await sender.call('warm-up', creator, 'createJob', [jobIdFor('warm-up'), id('spec'), (await now()) + 86_400n], ETHER)
    record('createJob', await sender.call('createJob', creator, 'createJob', [jobIdFor('job'), id('spec'), (await now()) + 86_400n], ETHER))
    record('markStarted', await sender.call('markStarted', validator, 'markStarted', [jobIdFor('job')]))
    await sender.call('cancel', creator, 'createJob', [jobIdFor('cancel'), id('spec'), (await now()) + 86_400n], ETHER)
    record('cancelJob', await sender.call('cancelJob', creator, 'cancelJob', [jobIdFor('cancel')]))
    await sender.call('expire', creator, 'createJob', [jobIdFor('expire'), id('spec'), (await now()) + 10n], ETHER)

    record('bond', await sender.call('bond', worker, 'bond', [], ETHER))
    record('bond_top_up', await sender.call('bond top-up', worker, 'bond', [], ETHER))
    record('requestUnbond', await sender.call('requestUnbond', worker, 'requestUnbond', [ETHER / 2n]))
    record('slash', await sender.call('slash', validator, 'slash', [worker.address, jobIdFor('job'), ETHER / 4n, id('evidence')]))
    await provider.send('evm_increaseTime', [UNBONDING_DELAY])
    record('withdrawUnbonded', await sender.call('withdrawUnbonded', worker, 'withdrawUnbonded', []))
    record('expireJob', await sender.call('expireJob', worker, 'expireJob', [jobIdFor('expire')]))

    // A settlement that leaves a remainder to a creator with no credits yet (a fresh credit slot),
    // disputed in its window: the remainder credit is taken back.
    await sender.call('dispute', secondCreator, 'createJob', [jobIdFor('disputed'), id('spec'), (await now()) + 86_400n], ETHER)
    const disputed = buildPayoutTree([{ address: worker.address, amountWei: ETHER / 2n }])
    record(
      'settle_with_remainder',
      await sender.call('settle with remainder', validator, 'settle', [jobIdFor('disputed'), disputed.root, disputed.total, disputed.count, id('model'), id('metrics')]),
    )
    record('disputeSettlement', await sender.call('disputeSettlement', owner, 'disputeSettlement', [jobIdFor('disputed')]))
    record('withdrawCredits', await sender.call('withdrawCredits', creator, 'withdrawCredits', []))

    progress('settlements…')
    const settlements: SettlementMeasurement[] = []
    for (const payouts of options.payouts) settlements.push(await measureSettlement(sender, { creator, validator }, payouts))

    const atTarget = settlements.find((s) => s.payouts === TARGET.payouts)
    return {
      benchmark: 'OblivionSettlement gas per operation (receipts)',
      chain: {
        client: 'anvil (@foundry-rs/anvil-linux-amd64)',
        chain_id: anvil.chainId,
        hardfork: 'istanbul',
        transactions: 'legacy (type 0)',
        gas_price_wei: deployment.gasPrice.toString(),
      },
      contract: { address: deployment.address, artifact: artifactIdentity(artifact) },
      notes: {
        gas: 'gasUsed from each receipt, the 21,000 intrinsic gas and calldata included',
        createJob: 'a second job (the escrow total is already non-zero)',
        bond: 'a worker\'s first bond (fresh storage slot); bond_top_up adds to it',
        slash: 'taken from the bonded amount and credited to a job creator whose credit slot was zero',
        settle_with_remainder: 'one payout, the rest credited to a creator whose credit slot was zero; the settlements below pay out the whole escrow',
        expireJob: 'the refund credited to a creator who already has credits',
        claims: 'every payee of the tree claims once, in tree order; first = the first claim of the job (fresh bitmap word)',
      },
      gas,
      settlements,
      target: {
        metric: `gas per paid worker at ${TARGET.payouts} payouts: settle gas / ${TARGET.payouts} + mean claim gas`,
        max: TARGET.max_gas_per_paid_worker,
        measured: atTarget?.gas_per_paid_worker ?? null,
        worst_claim: atTarget?.gas_per_paid_worker_worst ?? null,
        met: atTarget ? atTarget.gas_per_paid_worker <= TARGET.max_gas_per_paid_worker : null,
      },
    }
  } finally {
    provider.destroy()
  }
}

let options
try {
  options = parseOptions(process.argv.slice(2))
} catch (error) {
  if (!(error instanceof UsageError)) throw error
  process.stderr.write(`${error.message}\n\n${HELP}\n`)
  process.exit(2)
}
if (options === 'help') {
  process.stdout.write(`${HELP}\n`)
  process.exit(0)
}
const anvil = await startAnvil()
try {
  const report = await main(options, anvil)
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
} catch (error) {
  process.stderr.write(`bench:chain failed: ${(error as Error).stack ?? String(error)}\n`)
  process.exitCode = 1
} finally {
  await anvil.stop()
}
