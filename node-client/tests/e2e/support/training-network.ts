import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { startLocalChain, type LocalChain } from '@oblivion/contracts'
import type { SupabaseClient } from '@supabase/supabase-js'
import { startTestGateway, type TestGateway } from '../../../../supabase/tests/gateway/support/test-gateway.ts'
import { CliNetwork } from '../../support/cli-network.ts'
import { REPO_ROOT, tempDir, writeJson } from '../../support/run-cli.ts'

export interface JobState {
  id: string
  status: string
  status_reason: string | null
  current_round: number
  privacy_epsilon_spent: number
}

/**
 * The real network on one machine: the gateway (on a fresh PGlite database, in this process)
 * and `oblivion coordinator` / `oblivion worker` as separate processes that reach it only over
 * HTTP and WebSocket with supabase-js, as they would across machines.
 */
export class TrainingNetwork extends CliNetwork {
  private constructor(
    readonly gateway: TestGateway,
    home: string,
    private readonly removeHome: () => Promise<void>,
    /** With `chain: true`: anvil with the settlement contract, described in <home>/chain.json. */
    readonly chain: LocalChain | null,
  ) {
    super(gateway.url, home, chain !== null, 2)
  }

  /**
   * With `chain: true` also a local anvil chain (a free port) with the settlement contract,
   * written to <home>/chain.json as `npm start` does, so the CLI processes find it. Its
   * challenge window and unbonding delay are 5 s: tests move anvil's clock past them.
   */
  static async start(options: { chain?: boolean; requestTimeout?: number } = {}): Promise<TrainingNetwork> {
    const gateway = await startTestGateway('pglite')
    const { dir, remove } = await tempDir('oblivion-e2e-')
    await writeJson(path.join(dir, 'gateway.json'), gateway.keys)
    const chain = options.chain ? await startLocalChain({ home: dir, port: 0, challengeWindow: 5, unbondingDelay: 5, ...(options.requestTimeout ? { requestTimeout: options.requestTimeout } : {}) }) : null
    return new TrainingNetwork(gateway, dir, remove, chain)
  }

  /** Creates a job from a sample spec file as a fresh job owner; returns the job id and the owner's client. */
  async createJob(specFile: string, edit: (spec: Record<string, any>) => void = () => {}): Promise<{ jobId: string; owner: SupabaseClient }> {
    const spec = JSON.parse(await readFile(path.join(REPO_ROOT, specFile), 'utf8')) as Record<string, any>
    edit(spec)
    const { client } = await this.gateway.createUser()
    const { data, error } = await client.rpc('create_job', { p_spec: spec, p_reward_wei: '1000000000000000000' })
    if (error) throw new Error(`create_job: ${error.message}`)
    return { jobId: (data as { id: string }).id, owner: client }
  }

  async job(jobId: string): Promise<JobState> {
    const { rows } = await this.gateway.db.query<JobState>('select id, status, status_reason, current_round, privacy_epsilon_spent from public.jobs where id = $1', [jobId])
    return rows[0]!
  }

  /** Polls the database until the job ends; fails with the job's reason and the processes' stderr otherwise. */
  async waitForJobEnd(jobId: string, timeoutMs: number): Promise<JobState> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const job = await this.job(jobId)
      if (['completed', 'failed', 'cancelled', 'expired'].includes(job.status)) return job
      if (Date.now() > deadline) {
        const logs = this.processes.map((p) => `--- ${p.name}\n${p.lines.slice(-5).map((l) => JSON.stringify(l)).join('\n')}\n${p.stderr().slice(-1500)}`)
        throw new Error(`job ${jobId} still ${job.status} (round ${job.current_round}) after ${timeoutMs} ms\n${logs.join('\n')}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
  }

  async close(): Promise<void> {
    for (const proc of this.processes) proc.child.kill('SIGKILL')
    await Promise.all(this.processes.map((p) => p.exited))
    await this.gateway.close()
    await this.chain?.stop()
    await this.removeHome()
  }
}
