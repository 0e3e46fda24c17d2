import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { JsonRpcProvider, Network } from 'ethers'
import { REPO_ROOT, startOblivion, type JsonLine } from '../../../sample_job/src/local-processes.ts'
import { FIRST_WORKER_ACCOUNT, LocalNetwork, networkChildEnv, workerName } from './local-network.ts'
import { SAMPLE_OWNER_ACCOUNT } from './sample-model.ts'
import { ServiceStartError } from './service-status.ts'

/** The job creator's wallet: dev account 2 of chain.json (0 deploys, 1 is the validator). */
export const CREATOR_ACCOUNT = 2
/** Who buys the proven inference: dev account 3 (2 owns the marketplace's sample model). */
export const BUYER_ACCOUNT = 3
const DEMO_SPEC = 'sample_job/jobs/mnist-nonprivate.json'

export interface DemoOptions {
  /** The network's folder (a fresh temporary one unless the person names one). */
  home: string
  workers: number
  rounds: number
  shards: number
  /** Where the model files go (default sample_job/out/demo-<first 8 characters of the job id>). */
  out?: string | undefined
  web: boolean
  visualizer: boolean
  /** Each step as it begins, and what it found when it ends. */
  onStep?(event: { step: string; phase: 'begin' | 'end'; detail?: string }): void
}

/** A step that did not complete: which, and why. */
export class DemoStepError extends Error {
  constructor(
    readonly step: string,
    message: string,
  ) {
    super(message)
    this.name = 'DemoStepError'
  }
}

export interface DemoTransaction {
  what: string
  txHash: string
  from: string
  gasUsed: string
  costWei: string
}

export interface DemoSummary {
  home: string
  readyMs: number
  job: { id: string; spec: string; rounds: number; shards: number; rewardWei: string; trainingSeconds: number }
  accuracy: number | null
  /** ε spent (null: the job trains without differential privacy), with its δ. */
  epsilon: number | null
  delta: number | null
  model: { out: string; files: { format: string; file: string; bytes: number; cid: string }[] }
  settlement: { txHash: string; totalWei: string; remainderWei: string; payouts: number }
  payouts: { worker: string; address: string; amountWei: string; txHash: string | null }[]
  refund: { amountWei: string; txHash: string | null }
  /** The proven inference bought from the marketplace's sample model, as `oblivion infer` reported it. */
  inference: {
    modelId: string
    chainModelId: string
    requestId: string
    input: string
    label: number | null
    predicted: number
    probabilities: number[]
    proofVerified: boolean
    chainVerified: boolean
    priceWei: string
    requestTxHash: string
    fulfilTxHash: string
  }
  transactions: DemoTransaction[]
  gasTotalWei: string
  /** paid to workers + left to the creator = the reward, to the wei. */
  totals: { rewardWei: string; paidToWorkersWei: string; leftToCreatorWei: string; balanced: boolean }
  durationMs: number
}

/**
 * The scripted scenario of `npm run demo`, every step through the `oblivion` CLI against a
 * network started here: create and fund a job, train it with the workers, download the model,
 * wait for the settlement, move the local chain past the challenge window, claim each worker's
 * payout, withdraw the creator's remainder, then buy a proven inference from the sample model the
 * network keeps on the marketplace (LocalNetwork's marketplace row, prepared meanwhile). Returns
 * the summary; a step that fails throws a DemoStepError naming it. The caller stops the network.
 */
export async function runDemo(options: DemoOptions, network: LocalNetwork): Promise<DemoSummary> {
  const started = performance.now()
  const step = async <T>(name: string, work: () => Promise<T>, detail?: (result: T) => string): Promise<T> => {
    options.onStep?.({ step: name, phase: 'begin' })
    try {
      const result = await work()
      options.onStep?.({ step: name, phase: 'end', detail: detail?.(result) })
      return result
    } catch (error) {
      if (error instanceof DemoStepError) throw error
      const message = error instanceof ServiceStartError ? `${error.service}: ${error.message}${error.logTail ? `\n${error.logTail}` : ''}` : (error as Error).message
      throw new DemoStepError(name, message)
    }
  }

  await step('start the network', () => network.start(), () => `${network.services.filter((s) => s.state === 'ready').length} services ready in ${(network.elapsed() / 1000).toFixed(1)} s`)
  const chain = network.chain
  if (!chain) throw new DemoStepError('start the network', 'the network has no chain: the demo pays workers on the local chain')
  const coordinator = network.coordinatorProcess!
  const at = network.at()
  const cli = (args: string[], timeoutMs = 120_000) => runCli(args, at, timeoutMs)
  const provider = new JsonRpcProvider(chain.rpcUrl, undefined, { staticNetwork: Network.from(chain.chainId), cacheTimeout: -1 })
  try {
    const specFile = await step('write the job spec', async () => {
      const spec = JSON.parse(await readFile(path.join(REPO_ROOT, DEMO_SPEC), 'utf8')) as { name: string; training: Record<string, unknown> }
      spec.name = `${spec.name}, demo`
      spec.training = { ...spec.training, rounds: options.rounds, shards: options.shards }
      const file = path.join(options.home, 'demo-job.json')
      await writeFile(file, `${JSON.stringify(spec, null, 2)}\n`)
      return file
    }, (file) => `${DEMO_SPEC} with ${options.rounds} round(s) × ${options.shards} shard(s): ${file}`)

    const created = await step('create and fund the job', () => cli(['job', 'create', specFile, '--dev-account', String(CREATOR_ACCOUNT)]), (lines) => {
      const funded = last(lines, 'job-funded')
      return `job ${String(last(lines, 'job-created')?.id)}, escrow ${String(funded?.amountWei)} wei (tx ${String(funded?.txHash)})`
    })
    const job = last(created, 'job-created')
    const funded = last(created, 'job-funded')
    if (!job || !funded) throw new DemoStepError('create and fund the job', `job create printed no job-created and job-funded lines: ${JSON.stringify(created.slice(-3))}`)
    const jobId = String(job.id)

    const trainingStarted = performance.now()
    const finished = await step('train', async () => {
      const lines = await cli(['job', 'status', jobId, '--watch'], 15 * 60_000)
      const record = last(lines, 'job-finished')
      if (!record || record.status !== 'completed') throw new Error(`the job ended ${String(record?.status)}: ${String(record?.statusReason)}`)
      return record
    }, (record) => `completed in ${((performance.now() - trainingStarted) / 1000).toFixed(1)} s, accuracy ${String(finalRound(record)?.testAccuracy)}`)
    const trainingSeconds = (performance.now() - trainingStarted) / 1000

    const out = options.out ?? path.join(REPO_ROOT, 'sample_job/out', `demo-${jobId.slice(0, 8)}`)
    const files = await step('download the model', async () => {
      const lines = await cli(['job', 'download', jobId, '--format', 'all', '--out', out])
      return lines.filter((l) => l.type === 'file') as unknown as DemoSummary['model']['files']
    }, (written) => `${written.length} files in ${out}`)

    const settled = await step('wait for the settlement', async () => {
      const line = await coordinator.waitFor((l) => l.type === 'job-settled' && l.jobId === jobId, 120_000)
      if (!line.txHash) throw new Error('the coordinator settled without a transaction')
      return line
    }, (line) => `settled on chain in tx ${String(line.txHash)}: ${String(line.payouts)} payout(s)`)

    await step('close the challenge window', async () => {
      // The local chain only (anvil's own methods): on a real chain the window simply passes.
      await provider.send('evm_increaseTime', [chain.challengeWindow + 1])
      await provider.send('evm_mine', [])
    }, () => `moved the local chain's clock ${chain.challengeWindow + 1} s ahead`)

    const payouts: DemoSummary['payouts'] = []
    await step('claim the payouts', async () => {
      for (let i = 0; i < options.workers; i += 1) {
        const name = workerName(i)
        const account = FIRST_WORKER_ACCOUNT + i
        const lines = await cli(['worker', 'claim', '--job', jobId, '--name', name, '--dev-account', String(account)]).catch((error: Error) => {
          // A worker that trained none of this job's tasks has no payout in it (CLI_NOT_FOUND).
          if (/CLI_NOT_FOUND/.test(error.message)) return [] as JsonLine[]
          throw error
        })
        const claimed = last(lines, 'claimed')
        payouts.push({ worker: name, address: chain.accounts[account]!.address, amountWei: String(claimed?.amountWei ?? '0'), txHash: claimed ? String(claimed.txHash) : null })
      }
      return payouts
    }, (list) => list.map((p) => `${p.worker} ${p.amountWei} wei`).join(', '))

    const refund = await step('withdraw the creator\'s remainder', async () => {
      const lines = await cli(['job', 'refund', jobId, '--dev-account', String(CREATOR_ACCOUNT)])
      const withdrawn = last(lines, 'credits-withdrawn')
      return { amountWei: String(withdrawn?.amountWei ?? '0'), txHash: withdrawn ? String(withdrawn.txHash) : null }
    }, (r) => (r.txHash ? `${r.amountWei} wei (tx ${r.txHash})` : 'nothing to withdraw: the reward divided evenly among the tasks'))

    const sample = await step('wait for the marketplace', () => network.marketplaceReady(), (model) =>
      `sample model ${model.modelId} (#${model.chainModelId} on chain) listed at ${model.priceWei} wei by dev account ${SAMPLE_OWNER_ACCOUNT}, served by oblivion serve`,
    )

    const inference = await step('buy a proven inference', async () => {
      const lines = await cli(['infer', sample.modelId, '--test-row', '0', '--dev-account', String(BUYER_ACCOUNT)], 5 * 60_000)
      const requested = last(lines, 'inference-requested')
      const result = last(lines, 'inference-result')
      if (!requested || !result) throw new Error(`oblivion infer printed no inference-requested and inference-result lines: ${JSON.stringify(lines.slice(-3))}`)
      // (infer exits non-zero unless both hold; checked again so the summary cannot say otherwise)
      if (result.proofVerified !== true || result.chainVerified !== true) throw new Error(`the answer was not proven: ${JSON.stringify(result.problems)}`)
      const answer: DemoSummary['inference'] = {
        modelId: sample.modelId,
        chainModelId: sample.chainModelId,
        requestId: String(result.requestId),
        input: String(result.input),
        label: typeof result.label === 'number' ? result.label : null,
        predicted: Number(result.predicted),
        probabilities: result.probabilities as number[],
        proofVerified: true,
        chainVerified: true,
        priceWei: String(requested.priceWei),
        requestTxHash: String(requested.txHash),
        fulfilTxHash: String(result.fulfilTxHash),
      }
      return answer
    }, (r) => `predicted ${r.predicted} for ${r.input}${r.label === null ? '' : ` (label ${r.label})`}; the Groth16 proof verified off chain and on chain (fulfilled in tx ${r.fulfilTxHash})`)

    const transactions = await step('read the gas used', async () => {
      const sent: [string, string | null | undefined][] = [
        ['fund the escrow (creator)', String(funded.txHash)],
        ['mark the job started (coordinator)', coordinator.lines.find((l) => l.type === 'job-started' && l.jobId === jobId)?.markStartedTx as string | undefined],
        ['settle (coordinator)', String(settled.txHash)],
        ...payouts.map((p): [string, string | null] => [`claim ${p.worker}`, p.txHash]),
        ['withdraw the remainder (creator)', refund.txHash],
        ['request an inference (buyer)', inference.requestTxHash],
        ['fulfil it with a proof (model owner)', inference.fulfilTxHash],
      ]
      const list: DemoTransaction[] = []
      for (const [what, txHash] of sent) {
        if (!txHash) continue
        const receipt = await provider.getTransactionReceipt(txHash)
        if (!receipt) throw new Error(`no receipt for ${what} (${txHash})`)
        list.push({ what, txHash, from: receipt.from, gasUsed: String(receipt.gasUsed), costWei: String(receipt.gasUsed * receipt.gasPrice) })
      }
      return list
    })

    const rewardWei = BigInt(String(job.rewardWei))
    const paid = payouts.reduce((sum, p) => sum + BigInt(p.amountWei), 0n)
    const leftToCreator = rewardWei - BigInt(String(settled.totalWei))
    const summary: DemoSummary = {
      home: options.home,
      readyMs: network.elapsed(),
      job: { id: jobId, spec: DEMO_SPEC, rounds: options.rounds, shards: options.shards, rewardWei: rewardWei.toString(), trainingSeconds },
      accuracy: (finalRound(finished)?.testAccuracy as number | undefined) ?? null,
      // A job without privacy has no δ (and spends no ε).
      epsilon: finished.delta === null ? null : ((finished.epsilonSpent as number | null) ?? null),
      delta: (finished.delta as number | null) ?? null,
      model: { out, files },
      settlement: { txHash: String(settled.txHash), totalWei: String(settled.totalWei), remainderWei: String(settled.remainderWei), payouts: Number(settled.payouts) },
      payouts,
      refund,
      inference,
      transactions,
      gasTotalWei: String(transactions.reduce((sum, t) => sum + BigInt(t.costWei), 0n)),
      totals: {
        rewardWei: rewardWei.toString(),
        paidToWorkersWei: paid.toString(),
        leftToCreatorWei: leftToCreator.toString(),
        balanced: paid + leftToCreator === rewardWei && paid === BigInt(String(settled.totalWei)) && BigInt(refund.amountWei) >= leftToCreator,
      },
      durationMs: Math.round(performance.now() - started),
    }
    // Ready as npm start's table is: the marketplace row turns ready later, in the background.
    summary.readyMs = network.services.filter((s) => s.name !== 'marketplace').reduce((max, s) => Math.max(max, s.readyMs ?? 0), 0)
    if (!summary.totals.balanced) {
      throw new DemoStepError('check the totals', `paid ${paid} wei to workers + ${leftToCreator} wei left to the creator ≠ the reward of ${rewardWei} wei (settled ${String(settled.totalWei)}, withdrawn ${refund.amountWei})`)
    }
    return summary
  } finally {
    provider.destroy()
  }
}

/** Runs `oblivion <args> --json` against the network to its end; its JSON lines, or an error with its stderr. */
async function runCli(args: string[], at: { url: string; home: string }, timeoutMs: number): Promise<JsonLine[]> {
  const proc = startOblivion(`oblivion ${args.slice(0, 2).join(' ')}`, args, at, { env: networkChildEnv(), captureStderr: true })
  const timer = setTimeout(() => void proc.stop(2_000), timeoutMs)
  const code = await proc.exited
  clearTimeout(timer)
  if (code !== 0) {
    const error = proc.stderr().trim().split('\n').slice(-5).join('\n')
    throw new Error(`oblivion ${args.join(' ')} exited with ${code === null ? 'a signal (timed out?)' : code}\n${error}`)
  }
  return proc.lines
}

const last = (lines: JsonLine[], type: string) => lines.filter((l) => l.type === type).at(-1)

function finalRound(record: JsonLine): Record<string, unknown> | undefined {
  const rounds = record.roundMetrics as Record<string, unknown>[] | null
  return rounds?.filter((r) => r.testAccuracy !== null).at(-1)
}
