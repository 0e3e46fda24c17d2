import { jobIdFromUuid, LegacyWallet } from '@oblivion/contracts'
import type { SupabaseClient } from '@supabase/supabase-js'
import { JsonRpcProvider, Network, hexlify, randomBytes, type EventLog } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type TestGateway } from '../../../supabase/tests/gateway/support/test-gateway.ts'
import { JOB_STATUS, modelCidHash, specHash, type ChainWatcher } from '../../src/chain/index.ts'
import { ArtifactStore } from '../../src/coordinator/artifact-store.ts'
import { startChainMirror } from '../../src/coordinator/chain/chain-mirror.ts'
import type { CoordinatorChain } from '../../src/coordinator/chain/coordinator-chain.ts'
import { startEscrow } from '../../src/coordinator/chain/escrow-start.ts'
import { settleEndedJobs } from '../../src/coordinator/chain/settlement-pass.ts'
import { executePendingSlashes } from '../../src/coordinator/chain/slash-pass.ts'
import type { CoordinatorEvent } from '../../src/coordinator/coordinator-events.ts'
import { DEAD_URL, validSpec } from '../support/run-cli.ts'
import { deployTestSettlement, mined, startTestChain, type TestChain, type TestDeployment } from './chain-fixture.ts'

/**
 * The coordinator's chain passes against anvil and the gateway (PGlite): escrow start, the
 * settlement pass (including an RPC outage and a refused settle) and the slash pass (including
 * a restart after the slash was already mined). The full flow with CLI processes is in
 * tests/e2e/settlement.test.ts.
 */
let chain: TestChain
let deployment: TestDeployment
let gateway: TestGateway
let service: SupabaseClient
let coordinatorChain: CoordinatorChain
let mirror: ChainWatcher
const events: CoordinatorEvent[] = []
const emit = (event: CoordinatorEvent) => events.push(event)
const REWARD = 1_000_003n // 2 tasks of 500,001 wei, 1 wei of dust

beforeAll(async () => {
  chain = await startTestChain()
  deployment = await deployTestSettlement(chain)
  gateway = await startTestGateway('pglite')
  service = gateway.serviceClient()
  coordinatorChain = {
    chainId: 8119,
    provider: chain.provider,
    contract: deployment.contract.connect(chain.validator),
    contractAddress: deployment.address,
    fromBlock: deployment.deployBlock,
    local: true,
    pollIntervalMs: 100,
  }
  mirror = startChainMirror(service, coordinatorChain, emit, () => {})
}, 60_000)

afterAll(async () => {
  await mirror?.stop()
  await gateway?.close()
  await chain?.stop()
})

async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; events: ${JSON.stringify(events.slice(-5))}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

const query = async <T>(sql: string, params: unknown[] = []) => (await gateway.db.query<T>(sql, params)).rows

/** A job created through create_job and funded on chain by the creator with its real spec hash, mirrored to `funded`. */
async function fundedChainJob(options: { hash?: string } = {}): Promise<{ id: string; spec: unknown }> {
  const owner = await gateway.createUser()
  const spec = validSpec()
  ;(spec.training as Record<string, unknown>).shards = 2
  ;(spec.training as Record<string, unknown>).rounds = 1
  const { data, error } = await owner.client.rpc('create_job', { p_spec: spec, p_reward_wei: REWARD.toString() })
  if (error) throw new Error(error.message)
  const job = data as { id: string; spec: unknown }
  const latest = await chain.provider.getBlock('latest')
  await mined(
    deployment.contract
      .connect(chain.creator)
      .createJob(jobIdFromUuid(job.id), options.hash ?? (await specHash(job.spec)), latest!.timestamp + 86_400, { value: REWARD }),
  )
  await until('the job funded by the mirror', async () => (await query<{ status: string }>('select status from public.jobs where id = $1', [job.id]))[0]?.status === 'funded')
  return job
}

/** Round 1 trained: worker `index` (a dev account with a bond) delivers every shard; the job ends as `status`. */
async function trainedJob(job: { id: string }, workerWallet: LegacyWallet, status: 'completed' | 'failed' = 'completed') {
  const address = workerWallet.address.toLowerCase()
  const worker = await gateway.createUser({ wallet: address })
  const { data: registered } = await worker.client.rpc('register_worker', { p_name: `w-${address.slice(2, 10)}`, p_kind: 'cli', p_payout_address: address })
  const workerId = (registered as { id: string }).id
  const store = new ArtifactStore(service)
  const initial = await store.upload(`jobs/${job.id}/rounds/1/global.obw`, new TextEncoder().encode(`initial ${job.id}`))
  await service.rpc('start_round', { p_job_id: job.id, p_global_model_cid: initial.cid, p_global_model_path: initial.path })
  const taskIds: number[] = []
  for (let i = 0; i < 2; i++) {
    const claim = await until('a claim within the bond', async () => {
      const { data } = await worker.client.rpc('claim_task', { p_worker_id: workerId })
      return (data as { task_id: number }[])[0]
    })
    const update = await store.upload(`jobs/${job.id}/updates/${claim.task_id}/u.obw`, new TextEncoder().encode(`update ${claim.task_id}`))
    const { error } = await worker.client.rpc('complete_task', {
      p_task_id: claim.task_id, p_worker_id: workerId, p_result: { artifact_cid: update.cid, artifact_path: `artifacts/${update.path}`, sample_count: 10 },
    })
    if (error) throw new Error(error.message)
    taskIds.push(claim.task_id)
  }
  await store.upload(`jobs/${job.id}/rounds/2/global.obw`, new TextEncoder().encode(`final ${job.id}`))
  await query(`update public.jobs set status = 'aggregating' where id = $1`, [job.id])
  await query(`update public.jobs set status = $2 where id = $1`, [job.id, status])
  return { workerId, taskIds }
}

/** Bonds 1 coin from a worker wallet and waits until the mirror has it (the stake rule reads it). */
async function bonded(wallet: LegacyWallet): Promise<LegacyWallet> {
  await mined(deployment.contract.connect(wallet).bond({ value: 10n ** 18n }))
  const address = wallet.address.toLowerCase()
  await until('the bond mirrored', async () => (await query('select 1 from public.wallet_bonds where address = $1 and bonded_wei <> $2', [address, '0'])).length > 0)
  return wallet
}

const settlementOf = async (jobId: string) =>
  (await query<{ status: string; tx_hash: string | null; merkle_root: string; payouts: unknown[]; last_error: string | null }>(
    'select status, tx_hash, merkle_root, payouts, last_error from public.settlements where job_id = $1', [jobId]))[0]

describe('escrow start', () => {
  it('marks a funded escrow started once, and refuses one bound to another spec', async () => {
    const job = await fundedChainJob()
    const first = await startEscrow(coordinatorChain, job)
    expect(first.kind).toBe('started')
    expect((first as { txHash: string | null }).txHash).toMatch(/^0x[0-9a-f]{64}$/)
    const onChain = await deployment.contract.getJob(jobIdFromUuid(job.id))
    expect(onChain.started).toBe(true)
    // A coordinator restarted after markStarted: nothing is sent again.
    const nonce = await chain.provider.getTransactionCount(chain.validator.address)
    expect(await startEscrow(coordinatorChain, job)).toEqual({ kind: 'started', txHash: null })
    expect(await chain.provider.getTransactionCount(chain.validator.address)).toBe(nonce)
    // The creator can no longer take the escrow back.
    await expect(deployment.contract.connect(chain.creator).cancelJob(jobIdFromUuid(job.id))).rejects.toThrow()

    const other = await fundedChainJob({ hash: hexlify(randomBytes(32)) })
    const refused = await startEscrow(coordinatorChain, other)
    expect(refused).toMatchObject({ kind: 'refuse', reason: expect.stringMatching(/bound to spec hash .* not this job's/) })
    expect((await deployment.contract.getJob(jobIdFromUuid(other.id))).started).toBe(false)
  }, 60_000)
})

describe('settlement pass', () => {
  it('settles an ended job once, paying each accepted task, even after an RPC outage', async () => {
    const worker = await bonded(chain.workers[0]!)
    const job = await fundedChainJob()
    await startEscrow(coordinatorChain, job)
    await trainedJob(job, worker)

    // The RPC is down: the settlement stays pending (leaves stored), nothing is marked settled.
    const down = new JsonRpcProvider(DEAD_URL, undefined, { staticNetwork: Network.from(8119) })
    const offline: CoordinatorChain = { ...coordinatorChain, provider: down, contract: deployment.contract.connect(new LegacyWallet(chain.validator.privateKey, down)) }
    events.length = 0
    await settleEndedJobs(service, new ArtifactStore(service), offline, emit)
    down.destroy()
    expect(events.some((e) => e.type === 'warning' && e.message.includes(job.id))).toBe(true)
    const pending = await settlementOf(job.id)
    expect(pending).toMatchObject({ status: 'pending', tx_hash: null })
    expect(pending!.payouts).toEqual([{ address: worker.address.toLowerCase(), amount_wei: (2n * (REWARD / 2n)).toString() }])
    expect(Number((await deployment.contract.getJob(jobIdFromUuid(job.id))).status)).toBe(JOB_STATUS.Funded)

    // Back up: settled in one transaction, the row confirmed with it.
    await settleEndedJobs(service, new ArtifactStore(service), coordinatorChain, emit)
    const confirmed = await settlementOf(job.id)
    expect(confirmed).toMatchObject({ status: 'confirmed', tx_hash: expect.stringMatching(/^0x[0-9a-f]{64}$/) })
    const onChain = await deployment.contract.getJob(jobIdFromUuid(job.id))
    expect(Number(onChain.status)).toBe(JOB_STATUS.Settled)
    expect(onChain.payoutRoot.toLowerCase()).toBe(confirmed!.merkle_root)
    expect(onChain.unclaimed).toBe(REWARD - 1n)
    expect(await deployment.contract.credits(chain.creator.address)).toBeGreaterThanOrEqual(1n) // the dust
    const [log] = await deployment.contract.queryFilter(deployment.contract.filters.JobSettled(jobIdFromUuid(job.id)))
    expect((log as EventLog).args.modelCidHash).toBe(modelCidHash(await (await import('@oblivion/model')).contentId(new TextEncoder().encode(`final ${job.id}`))))

    // The next pass has nothing to do: no second transaction.
    const nonce = await chain.provider.getTransactionCount(chain.validator.address)
    await settleEndedJobs(service, new ArtifactStore(service), coordinatorChain, emit)
    expect(await chain.provider.getTransactionCount(chain.validator.address)).toBe(nonce)
  }, 90_000)

  it('marks a settlement the contract refuses as failed, with the contract error, and stops retrying', async () => {
    const job = await fundedChainJob()
    // The creator cancels on chain before work started; the database has not caught up and the job "ended".
    await mirror.stop()
    try {
      await mined(deployment.contract.connect(chain.creator).cancelJob(jobIdFromUuid(job.id)))
      await query(`update public.jobs set status = 'failed' where id = $1`, [job.id])
      await settleEndedJobs(service, new ArtifactStore(service), coordinatorChain, emit)
    } finally {
      mirror = startChainMirror(service, coordinatorChain, emit, () => {})
    }
    expect(await settlementOf(job.id)).toMatchObject({ status: 'failed', last_error: expect.stringMatching(/WrongStatus\(2\)/) })
    const { data } = await service.rpc('jobs_awaiting_settlement', {})
    expect((data as { id: string }[]).map((j) => j.id)).not.toContain(job.id)
  }, 60_000)
})

describe('slash pass', () => {
  it('slashes one task value to the creator, once, even when the slash was mined before a restart', async () => {
    const worker = await bonded(chain.workers[1]!)
    const job = await fundedChainJob()
    await startEscrow(coordinatorChain, job)
    const { taskIds } = await trainedJob(job, worker, 'failed')
    const perTask = REWARD / 2n
    const slashRow = async (taskId: number) => {
      const { data, error } = await service.rpc('record_slash', { p_task_id: taskId, p_reason: 'NaN in the update' })
      if (error) throw new Error(error.message)
      return data as { id: number; evidence_cid: string }
    }
    const creditsBefore = await deployment.contract.credits(chain.creator.address)
    const first = await slashRow(taskIds[0]!)
    const second = await slashRow(taskIds[1]!)
    // The second slash was sent by a coordinator that crashed before recording it.
    await mined(
      deployment.contract.connect(chain.validator).slash(worker.address, jobIdFromUuid(job.id), perTask, modelCidHash(second.evidence_cid)),
    )
    await executePendingSlashes(service, coordinatorChain, emit)
    const rows = await query<{ id: number; status: string; taken_wei: string; tx_hash: string }>(
      'select id, status, taken_wei, tx_hash from public.slashes where id = any($1::bigint[]) order by id', [[first.id, second.id]])
    expect(rows.map((r) => [r.status, r.taken_wei])).toEqual([['confirmed', perTask.toString()], ['confirmed', perTask.toString()]])
    const slashed = await deployment.contract.queryFilter(deployment.contract.filters.Slashed(worker.address, jobIdFromUuid(job.id)))
    expect(slashed).toHaveLength(2) // not three
    expect((await deployment.contract.bondOf(worker.address)).bonded).toBe(10n ** 18n - 2n * perTask)
    expect(await deployment.contract.credits(chain.creator.address)).toBe(creditsBefore + 2n * perTask)
  }, 90_000)
})
