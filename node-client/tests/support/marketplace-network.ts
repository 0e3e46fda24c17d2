import { connectInferenceMarket, type InferenceMarket } from '@oblivion/contracts'
import { JsonRpcProvider, Network } from 'ethers'
import type { JsonLine, NetworkProcess } from '../../../sample_job/src/local-processes.ts'
import { TrainingNetwork } from '../e2e/support/training-network.ts'

/** Dev accounts of chain.json: 1 the coordinator (validator), 2 the job and model owner, 3 a buyer, 4 and 5 workers. */
export const MARKET_ACCOUNTS = { owner: 2, buyer: 3, workers: [4, 5] } as const

export interface MarketplaceNetworkOptions {
  /** Price of one inference, as `model list --price` takes it (default 0.01 coin). */
  price?: string
  /** Seconds an owner has to answer (InferenceMarket's requestTimeout; default 120). */
  requestTimeout?: number
  /** Start `oblivion serve` (default true). */
  serve?: boolean
}

/**
 * A network with one listed sample ZK model, driven only through the `oblivion` CLI, as a person
 * would: gateway (PGlite) + anvil with the settlement and the market + `oblivion coordinator` +
 * two bonded workers; the mnist-zk sample job (196-16-10 on 14×14 digits) created and funded by
 * dev account 2, trained, then listed by it with `oblivion model list` (the coordinator
 * contributes to the setup) and served with `oblivion serve`. ~45 s on 2 cores. The web app's
 * browser test reuses it (the marketplace page buys from `modelId`).
 */
export class MarketplaceNetwork {
  private constructor(
    readonly network: TrainingNetwork,
    readonly jobId: string,
    readonly modelId: string,
    readonly chainModelId: string,
    readonly listLines: JsonLine[],
    /** Milliseconds per phase (network, training, listing, serve start): where the setup time goes. */
    readonly timings: Record<string, number>,
    readonly provider: JsonRpcProvider,
    readonly market: InferenceMarket,
    public serveProcess: NetworkProcess | null,
  ) {}

  static async start(options: MarketplaceNetworkOptions = {}): Promise<MarketplaceNetwork> {
    const timings: Record<string, number> = {}
    let phaseStarted = performance.now()
    const phase = (name: string) => {
      timings[name] = Math.round(performance.now() - phaseStarted)
      phaseStarted = performance.now()
    }
    const network = await TrainingNetwork.start({ chain: true, requestTimeout: options.requestTimeout ?? 120 })
    phase('network')
    try {
      const config = network.chain!.config
      const provider = new JsonRpcProvider(config.rpcUrl, undefined, { staticNetwork: Network.from(config.chainId), cacheTimeout: -1 })
      const market = connectInferenceMarket(config.market!.address, provider)
      network.coordinator()
      await Promise.all(MARKET_ACCOUNTS.workers.map((account) => network.run(['worker', 'bond', '1', '--dev-account', String(account)])))
      const workers = MARKET_ACCOUNTS.workers.map((account, i) => network.worker(`market-worker-${i + 1}`, ['--dev-account', String(account)]))
      await Promise.all(workers.map((w) => w.waitFor((line) => line.type === 'registered', 60_000)))
      phase('workers')
      const created = await network.run(['job', 'create', 'sample_job/jobs/mnist-zk.json', '--reward-wei', '1000000000000000000', '--dev-account', String(MARKET_ACCOUNTS.owner)])
      const jobId = created.find((l) => l.type === 'job-created')!.id as string
      const job = await network.waitForJobEnd(jobId, 120_000)
      if (job.status !== 'completed') throw new Error(`the mnist-zk job ${job.status}: ${job.status_reason}`)
      for (const w of workers) w.child.kill('SIGKILL')
      phase('training')
      const { rows } = await network.gateway.db.query<{ id: string }>('select id from public.models where job_id = $1', [jobId])
      const modelId = rows[0]!.id
      const listLines = await network.run(['model', 'list', modelId, '--price', options.price ?? '0.01', '--dev-account', String(MARKET_ACCOUNTS.owner)])
      const listed = listLines.find((l) => l.type === 'model-listed')
      if (!listed) throw new Error(`model list printed no model-listed line: ${JSON.stringify(listLines)}`)
      phase('listing')
      const marketplace = new MarketplaceNetwork(network, jobId, modelId, listed.chainModelId as string, listLines, timings, provider, market, null)
      if (options.serve ?? true) await marketplace.serve()
      phase('serve')
      return marketplace
    } catch (error) {
      await network.close()
      throw error
    }
  }

  get home(): string {
    return this.network.home
  }

  /** Starts `oblivion serve` for the model as its owner and waits until it serves. */
  async serve(): Promise<NetworkProcess> {
    const proc = this.network.spawn('serve', ['serve', this.modelId, '--poll-seconds', '1', '--dev-account', String(MARKET_ACCOUNTS.owner)])
    await proc.waitFor((line) => line.type === 'serving', 60_000)
    this.serveProcess = proc
    return proc
  }

  /** Ctrl-C to `oblivion serve`: it finishes the request in progress and exits; resolves its exit code. */
  async stopServing(): Promise<number | null> {
    const proc = this.serveProcess
    if (!proc) return null
    this.serveProcess = null
    proc.child.kill('SIGINT')
    return proc.exited
  }

  async close(): Promise<void> {
    this.provider.destroy()
    await this.network.close()
  }
}
