import { startOblivion, type JsonLine, type NetworkProcess } from '../../../sample_job/src/local-processes.ts'
import { cliEnv } from './run-cli.ts'

/**
 * What every test network shares (node-client's TrainingNetwork, web's WebStack): `oblivion`
 * processes started against its gateway and home, kept so the network can report their output
 * and kill them when it closes.
 */
export abstract class CliNetwork {
  readonly processes: NetworkProcess[] = []

  protected constructor(
    private readonly gatewayUrl: string,
    readonly home: string,
    /** With a chain the coordinator funds jobs from their escrows; without, it funds them without one. */
    private readonly withChain: boolean,
    /** Tasks each `worker()` trains at once. */
    private readonly workerConcurrency: number,
  ) {}

  /** Starts `oblivion <args>` against this network (JSON lines; stderr kept for failure messages). */
  spawn(name: string, args: string[]): NetworkProcess {
    const proc = startOblivion(name, args, { url: this.gatewayUrl, home: this.home }, { env: cliEnv(), captureStderr: true })
    this.processes.push(proc)
    return proc
  }

  /** Runs `oblivion <args>` to its end: its JSON lines, or an error with its stderr when it exits non-zero. */
  async run(args: string[]): Promise<JsonLine[]> {
    const proc = startOblivion(`oblivion ${args.slice(0, 2).join(' ')}`, args, { url: this.gatewayUrl, home: this.home }, { env: cliEnv(), captureStderr: true })
    const code = await proc.exited
    if (code !== 0) throw new Error(`oblivion ${args.join(' ')} exited with ${code}\n${proc.stderr().slice(-2000)}`)
    return proc.lines
  }

  coordinator(): NetworkProcess {
    return this.spawn('coordinator', ['coordinator', ...(this.withChain ? [] : ['--no-chain', '--fund-without-escrow']), '--poll-seconds', '1'])
  }

  /** A CLI worker with a 10 s lease (the CLI's minimum), so a killed worker's shard is re-leased quickly. */
  worker(name: string, extraArgs: string[] = []): NetworkProcess {
    return this.spawn(name, ['worker', '--name', name, '--max-concurrency', String(this.workerConcurrency), '--lease-seconds', '10', '--poll-seconds', '1', ...extraArgs])
  }
}
