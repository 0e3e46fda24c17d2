import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { REPO_ROOT, runOblivion, startNetwork, startOblivion, type JsonLine, type NetworkProcess } from './src/local-processes.ts'

const SAMPLES: Record<string, { spec: string; dataset?: string; about: string }> = {
  mnist: { spec: 'sample_job/jobs/mnist.json', about: '784-128-10 MLP on MNIST, 4 shards × 4 rounds, DP-SGD (σ = 1.0, C = 1, δ = 1e-5)' },
  'mnist-nonprivate': { spec: 'sample_job/jobs/mnist-nonprivate.json', about: 'the same model without DP; ≥ 0.94 held-out accuracy' },
  'mnist-zk': { spec: 'sample_job/jobs/mnist-zk.json', about: '196-16-10 MLP on MNIST at 14×14, small enough for ZK proofs of inference; no DP, ≈ 0.93' },
  'iris-csv': { spec: 'sample_job/jobs/iris-csv.json', dataset: 'sample_job/data/iris.csv', about: 'a CSV job: iris species from 4 measurements, DP with target ε = 8' },
}

const HELP = `Usage: npm run sample -- <job> [--workers N] [--out DIR] [--quiet]

Runs a sample training job on a complete local network, start to finish, in one command:
the database and gateway (as npm start, in a temporary folder), the coordinator, N CLI
workers, then creates the job, follows it live and downloads the model in every format.

Jobs:
${Object.entries(SAMPLES).map(([name, s]) => `  ${name.padEnd(17)} ${s.about}`).join('\n')}

Options:
  --workers N   worker processes (default 2)
  --out DIR     where the model files go (default sample_job/out/<job>)
  --quiet       do not echo the coordinator's and workers' logs
  -h, --help    this help

Exit codes: 0 the job completed and the model was downloaded, 1 it did not, 2 bad options.`

function options() {
  try {
    const { values, positionals } = parseArgs({
      allowPositionals: true,
      options: {
        workers: { type: 'string', default: '2' },
        out: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    })
    if (values.help) {
      console.log(HELP)
      process.exit(0)
    }
    const name = positionals[0]
    const sample = name ? SAMPLES[name] : undefined
    const workers = Number(values.workers)
    if (!name || !sample) throw new Error(name ? `unknown sample job "${name}"` : `which sample job? (${Object.keys(SAMPLES).join(', ')})`)
    if (!Number.isInteger(workers) || workers < 1 || workers > 8) throw new Error(`--workers must be a whole number from 1 to 8 (got ${values.workers})`)
    return { name, sample, workers, out: path.resolve(values.out ?? path.join(REPO_ROOT, 'sample_job/out', name)), quiet: values.quiet }
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${HELP}`)
    process.exit(2)
  }
}

/** The processes' JSON logs, shortened to what a person follows: rounds, tasks, warnings. */
function echo(name: string, line: JsonLine): void {
  const { type, ts: _ts, ...fields } = line
  if (type === 'progress' || type === 'text' || type === 'notice') return
  console.log(`  [${name}] ${type} ${JSON.stringify(fields)}`)
}

async function main(): Promise<number> {
  const { name, sample, workers, out, quiet } = options()
  const home = await mkdtemp(path.join(os.tmpdir(), 'oblivion-sample-'))
  const processes: NetworkProcess[] = []
  const log = quiet ? undefined : echo
  try {
    console.log(`Starting a local network (database + gateway) in ${home} …`)
    const network = await startNetwork(home)
    processes.push(network.process)
    const at = { url: network.url, home }
    console.log(`Network up at ${network.url}; starting the coordinator and ${workers} worker(s) …`)
    processes.push(startOblivion('coordinator', ['coordinator', '--no-chain', '--fund-without-escrow', '--poll-seconds', '1'], at, { echo: log }))
    const workerProcesses = Array.from({ length: workers }, (_, i) =>
      startOblivion(`worker-${i + 1}`, ['worker', '--name', `sample-worker-${i + 1}`, '--poll-seconds', '1'], at, { echo: log }),
    )
    processes.push(...workerProcesses)
    await Promise.all(workerProcesses.map((w) => w.waitFor((line) => line.type === 'registered', 120_000)))

    const created = await runOblivion(['job', 'create', sample.spec, ...(sample.dataset ? ['--dataset', sample.dataset] : [])], at)
    const jobId = String(created.find((line) => line.type === 'job-created')?.id)
    console.log(`Job ${jobId} created from ${sample.spec}; following it (oblivion job status --watch):`)

    // The status watcher talks to the person directly: progress bar on a terminal.
    const watch = spawn(process.execPath, [path.join(REPO_ROOT, 'node-client/bin/oblivion.mjs'), 'job', 'status', jobId, '--watch', '--url', at.url, '--home', home], {
      cwd: REPO_ROOT,
      stdio: 'inherit',
    })
    const watched = await new Promise<number | null>((resolve) => watch.on('exit', resolve))
    if (watched !== 0) {
      console.error(`The job did not complete (oblivion job status exited ${watched}).`)
      return 1
    }
    const files = await runOblivion(['job', 'download', jobId, '--format', 'all', '--out', out], at)
    console.log(`Model downloaded to ${path.relative(process.cwd(), out) || out}:`)
    for (const file of files.filter((line) => line.type === 'file')) console.log(`  ${String(file.path ?? file.name)} (${String(file.bytes)} bytes)`)
    return 0
  } finally {
    // Workers first (they drain), then the coordinator, then the network.
    for (const proc of processes.slice().reverse()) await proc.stop()
    await rm(home, { recursive: true, force: true })
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`sample job failed: ${error.message}`)
    process.exit(1)
  },
)
