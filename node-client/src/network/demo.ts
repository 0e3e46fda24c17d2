import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { formatEther } from 'ethers'
import { DemoStepError, runDemo, type DemoSummary } from './demo-scenario.ts'
import { LocalNetwork, MAX_CHAIN_WORKERS } from './local-network.ts'
import { shownPath } from './status-table.ts'

const HELP = `Usage: npm run demo [-- options]

A complete scripted scenario on a fresh local network, headless, through the oblivion CLI:

  1. start the network (database, gateway, chain, coordinator, N workers; as npm start, on
     free ports, in a temporary folder)
  2. create a job (sample_job/jobs/mnist-nonprivate.json with fewer rounds) and fund its
     escrow from dev account 2
  3. train it with the workers and follow it to the end (oblivion job status --watch)
  4. download the model in every format (TF.js, ONNX, Keras HDF5, PyTorch, pickle)
  5. wait for the coordinator's settlement transaction
  6. move the local chain's clock past the challenge window (anvil only)
  7. claim each worker's payout (oblivion worker claim)
  8. withdraw the creator's remainder (oblivion job refund)
  9. wait for the marketplace: as npm start does, the network trains the mnist-zk sample job
     meanwhile, lists its model (the coordinator contributes to the proof setup) and serves it
 10. buy a proven inference from it as dev account 3 (oblivion infer --test-row 0): paid on
     chain, answered with a Groth16 proof that the buyer and the chain both verify

and prints a summary: accuracy, ε, the files, the settlement, each payout, the inference and its
proof's verdicts, the gas of every transaction, and totals that add up to the reward.

Options:
  --workers N          CLI workers (default 2, 1 to ${MAX_CHAIN_WORKERS})
  --rounds N           FedAvg rounds (default 2)
  --shards N           shards per round (default 4)
  --out DIR            where the model goes (default sample_job/out/demo-<job id>)
  --home DIR           run the network in this folder and keep it (default: a temporary folder,
                       deleted at the end unless a step failed)
  --with-web           also build (if needed) and start the web app
  --with-visualizer    also start the visualizer
  --json               print the summary as one JSON object (progress lines are JSON too)
  -h, --help           show this help

Exit codes: 0 every step completed, 1 a step failed (named, with the reason), 2 bad options,
130 interrupted.`

interface Options {
  workers: number
  rounds: number
  shards: number
  out?: string | undefined
  home?: string | undefined
  web: boolean
  visualizer: boolean
  json: boolean
}

function parseOptions(): Options | 'help' {
  const { values } = parseArgs({
    strict: true,
    options: {
      workers: { type: 'string', default: '2' },
      rounds: { type: 'string', default: '2' },
      shards: { type: 'string', default: '4' },
      out: { type: 'string' },
      home: { type: 'string' },
      'with-web': { type: 'boolean', default: false },
      'with-visualizer': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) return 'help'
  const whole = (flag: string, value: string, min: number, max: number) => {
    const n = Number(value)
    if (!/^\d+$/.test(value) || n < min || n > max) throw new Error(`--${flag} must be a whole number from ${min} to ${max} (got ${value})`)
    return n
  }
  return {
    workers: whole('workers', values.workers, 1, MAX_CHAIN_WORKERS),
    rounds: whole('rounds', values.rounds, 1, 20),
    shards: whole('shards', values.shards, 1, 32),
    out: values.out && path.resolve(values.out),
    home: values.home && path.resolve(values.home),
    web: values['with-web'],
    visualizer: values['with-visualizer'],
    json: values.json,
  }
}

const coins = (wei: string | bigint) => `${formatEther(BigInt(wei))} SHM`

function summaryText(s: DemoSummary): string {
  const pad = (text: string, width: number) => text.padEnd(width)
  const lines = [
    '',
    `Demo complete in ${(s.durationMs / 1000).toFixed(1)} s (network ready in ${(s.readyMs / 1000).toFixed(1)} s, training ${s.job.trainingSeconds.toFixed(1)} s)`,
    '',
    `  job          ${s.job.id}: ${s.job.spec}, ${s.job.rounds} round(s) × ${s.job.shards} shard(s), reward ${coins(s.job.rewardWei)}`,
    `  accuracy     ${s.accuracy === null ? 'not measured' : `${(s.accuracy * 100).toFixed(2)} % on the held-out set`}`,
    `  ε            ${s.epsilon === null ? 'none: this job trains without differential privacy' : `${s.epsilon.toFixed(3)} spent (δ ${s.delta})`}`,
    `  model        ${shownPath(s.model.out)}`,
    ...s.model.files.map((f) => `                 ${pad(path.relative(s.model.out, f.file), 20)} ${String(f.bytes).padStart(9)} bytes  ${f.cid}`),
    `  settlement   tx ${s.settlement.txHash}: ${s.settlement.payouts} payout(s), ${coins(s.settlement.totalWei)}`,
    ...s.payouts.map((p) => `  payout       ${pad(p.worker, 6)} ${p.address}  ${pad(coins(p.amountWei), 14)} ${p.txHash ? `claimed in tx ${p.txHash}` : 'nothing to claim'}`),
    `  refund       ${s.refund.txHash ? `${coins(s.refund.amountWei)} withdrawn by the creator (tx ${s.refund.txHash})` : 'nothing left for the creator: the reward divides evenly among the tasks'}`,
    `  inference    sample model ${s.inference.modelId} (#${s.inference.chainModelId}), ${coins(s.inference.priceWei)}: predicted ${s.inference.predicted} for ${s.inference.input}${s.inference.label === null ? '' : ` (label ${s.inference.label})`}`,
    `               Groth16 proof verified off chain and on chain; fulfilled in tx ${s.inference.fulfilTxHash}`,
    '  gas',
    ...s.transactions.map((t) => `                 ${pad(t.what, 36)} ${t.gasUsed.padStart(8)} gas  ${coins(t.costWei)}`),
    `                 ${pad('total', 36)} ${''.padStart(8)}      ${coins(s.gasTotalWei)}`,
    `  totals       ${coins(s.totals.paidToWorkersWei)} to the workers + ${coins(s.totals.leftToCreatorWei)} back to the creator = ${coins(s.totals.rewardWei)}, the reward`,
  ]
  return lines.join('\n')
}

async function main(): Promise<number> {
  let options: Options | 'help'
  try {
    options = parseOptions()
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${HELP}`)
    return 2
  }
  if (options === 'help') {
    console.log(HELP)
    return 0
  }
  const { json } = options
  const say = (text: string) => !json && process.stdout.write(`${text}\n`)
  const home = options.home ?? (await mkdtemp(path.join(os.tmpdir(), 'oblivion-demo-')))
  const network = new LocalNetwork({
    home,
    port: 0,
    chainPort: 0,
    chain: true,
    reset: false,
    workers: options.workers,
    webPort: options.web ? 0 : null,
    visualizerPort: options.visualizer ? 0 : null,
    // Rounds follow each other within a second rather than the CLI's default 5 s poll.
    pollSeconds: 1,
    // The sample model is trained and listed meanwhile; the demo ends by buying a proven inference.
    marketplace: true,
  })
  process.on('exit', () => network.killAll())
  let interrupted = false
  const onSignal = () => {
    if (interrupted) process.exit(130)
    interrupted = true
    say('\nInterrupted: stopping the network …')
    void network.stop().then(() => process.exit(130))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  say(`Oblivion demo in ${shownPath(home)} (logs in ${shownPath(path.join(home, 'logs'))})`)
  let summary: DemoSummary
  try {
    summary = await runDemo(
      {
        home,
        workers: options.workers,
        rounds: options.rounds,
        shards: options.shards,
        out: options.out,
        web: options.web,
        visualizer: options.visualizer,
        onStep({ step, phase, detail }) {
          if (json) process.stdout.write(`${JSON.stringify({ ts: new Date().toISOString(), type: 'step', step, phase, ...(detail ? { detail } : {}) })}\n`)
          else if (phase === 'begin') say(`→ ${step} …`)
          else if (detail) say(`  ${detail}`)
        },
      },
      network,
    )
  } catch (error) {
    await network.stop()
    if (interrupted) return 130
    const step = error instanceof DemoStepError ? error.step : 'the demo'
    const message = (error as Error).message
    if (json) process.stderr.write(`${JSON.stringify({ ts: new Date().toISOString(), type: 'error', code: 'DEMO_STEP_FAILED', step, message, home })}\n`)
    else process.stderr.write(`\nThe demo failed at "${step}": ${message}\nThe network's folder and logs are kept for a look: ${home}\n`)
    return 1
  }
  await network.stop()
  if (!options.home) await rm(home, { recursive: true, force: true })
  if (json) process.stdout.write(`${JSON.stringify({ ts: new Date().toISOString(), type: 'summary', ...summary, home: options.home ?? null })}\n`)
  else say(summaryText(summary))
  return 0
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`npm run demo failed: ${error.stack ?? error.message}`)
    process.exit(1)
  },
)
