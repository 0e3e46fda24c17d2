import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../src/db/database.ts'
import { anon, service, signUp, type Actor } from './support/actors.ts'
import { BACKENDS, freshDatabase } from './support/databases.ts'
import { cidOf, fundedJob, startRound, trainingSpec, validResult, type JobRow } from './support/fixtures.ts'

const CHAIN = 8119
const CONTRACT = '0x5fbdb2315678afecb367f032d93f642f64180aa3'
const hex = (bytes: number) => `0x${randomBytes(bytes).toString('hex')}`

interface Claim {
  task_id: number
  job_id: string
  shard_index: number
}
interface SettlementRow {
  job_id: string
  status: string
  merkle_root: string
  payouts: { address: string; amount_wei: string }[]
  total_wei: string
  tx_hash: string | null
  confirmed_at: string | null
  last_error: string | null
}
interface SlashRow {
  id: number
  job_id: string
  task_id: number
  address: string
  amount_wei: string
  evidence_cid: string
  status: string
  taken_wei: string | null
  tx_hash: string | null
}

describe.each(BACKENDS)('settlement and slashing functions on %s', (backend) => {
  let db: Database
  let coordinator: Actor
  let owner: Actor & { userId: string }
  let operator: Actor & { userId: string }
  const payoutAddress = hex(20)
  let paidWorker: string
  let unpaidWorker: string

  beforeAll(async () => {
    db = await freshDatabase(backend)
    coordinator = service(db)
    owner = await signUp(db)
    operator = await signUp(db, { wallet: payoutAddress })
    const register = async (name: string, address: string | null) =>
      (await operator.rpc<{ id: string }>('register_worker', { p_name: name, p_kind: 'cli', p_payout_address: address }))[0]!.id
    paidWorker = await register('paid', payoutAddress)
    unpaidWorker = await register('unpaid', null)
  })
  afterAll(() => db?.close())

  const jobOf = async (id: string) => (await coordinator.query<JobRow>('select * from public.jobs where id = $1::uuid', [id]))[0]!
  const settlementOf = async (id: string) =>
    (await coordinator.query<SettlementRow>('select * from public.settlements where job_id = $1::uuid', [id]))
  const awaiting = async () => (await coordinator.rpc<JobRow>('jobs_awaiting_settlement', {})).map((j) => j.id)

  /**
   * A job with `shards` shards in one round, trained by the two workers in turn (first the paid
   * one), then moved onto the chain (as record_chain_events does for JobFunded) and closed for
   * aggregation. Claims happen before chain_id is set, so the stake rule does not apply.
   */
  async function trainedChainJob(shards = 3, reward = '1000', chain: number | null = CHAIN) {
    const job = await fundedJob(owner, coordinator, trainingSpec({ rounds: 1, shards }))
    await startRound(coordinator, job.id, 1)
    const claims: Claim[] = []
    for (let i = 0; i < shards; i++) {
      const worker = i % 2 === 0 ? paidWorker : unpaidWorker
      const [claim] = await operator.rpc<Claim>('claim_task', { p_worker_id: worker })
      await operator.rpc('complete_task', {
        p_task_id: claim!.task_id, p_worker_id: worker, p_result: validResult({ artifact_cid: cidOf(`update ${claim!.task_id}`) }),
      })
      claims.push(claim!)
    }
    await coordinator.query(`update public.jobs set chain_id = $2, reward_wei = $3 where id = $1::uuid`, [job.id, chain, reward])
    await coordinator.rpc('begin_round_aggregation', { p_job_id: job.id })
    return { job, claims }
  }

  const settlementArgs = (jobId: string, status: string, extra: Record<string, unknown> = {}) => ({
    p_job_id: jobId,
    p_status: status,
    p_merkle_root: `0x${'ab'.repeat(32)}`,
    p_payouts: [{ address: payoutAddress, amount_wei: '666' }],
    p_total_wei: '666',
    p_model_cid: cidOf('final weights'),
    p_metrics_hash: `0x${'cd'.repeat(32)}`,
    ...extra,
  })

  it('only service_role may call them', async () => {
    const calls: [string, Record<string, unknown>][] = [
      ['jobs_awaiting_settlement', {}],
      ['job_accepted_work', { p_job_id: '00000000-0000-0000-0000-000000000000' }],
      ['record_settlement', settlementArgs('00000000-0000-0000-0000-000000000000', 'pending')],
      ['record_slash', { p_task_id: 1, p_reason: 'bad' }],
      ['record_slash_result', { p_slash_id: 1, p_status: 'failed' }],
    ]
    for (const [name, args] of calls) {
      for (const caller of [owner, operator, anon(db)]) {
        await expect(caller.rpc(name, args), `${name}`).rejects.toMatchObject({ code: '42501' })
      }
    }
  })

  it('job_accepted_work counts accepted tasks per payout address, workers without one as null', async () => {
    const { job } = await trainedChainJob(3)
    const work = await coordinator.rpc<{ payout_address: string | null; task_count: number }>('job_accepted_work', { p_job_id: job.id })
    expect(work).toEqual([
      { payout_address: payoutAddress, task_count: 2 },
      { payout_address: null, task_count: 1 },
    ])
  })

  it('record_slash queues one task value against the refused update, once, and only for chain jobs with a payout address', async () => {
    const { job, claims } = await trainedChainJob(2, '1000000000000000007')
    const paidTask = claims[0]!.task_id
    const [slash] = await coordinator.rpc<SlashRow>('record_slash', { p_task_id: paidTask, p_reason: 'NaN in layer 0' })
    expect(slash).toMatchObject({
      job_id: job.id, task_id: paidTask, address: payoutAddress, amount_wei: '500000000000000003', // floor(reward / (1 × 2)), as payouts floor
      evidence_cid: cidOf(`update ${paidTask}`), status: 'pending', taken_wei: null,
    })
    // A coordinator restarted before reject_task_result records it again: the same row.
    const [again] = await coordinator.rpc<SlashRow>('record_slash', { p_task_id: paidTask, p_reason: 'NaN in layer 0' })
    expect(again!.id).toBe(slash!.id)
    expect(await coordinator.query('select id from public.slashes where task_id = $1', [paidTask])).toHaveLength(1)

    // The worker without a payout address cannot be slashed (and cannot lease chain jobs anyway).
    const [none] = await coordinator.rpc<SlashRow>('record_slash', { p_task_id: claims[1]!.task_id, p_reason: 'NaN' })
    expect(none?.id ?? null).toBeNull()

    // Slashes are public, like the Slashed event.
    const seen = await anon(db).query<SlashRow>('select id, address from public.slashes where id = $1', [slash!.id])
    expect(seen).toEqual([{ id: slash!.id, address: payoutAddress }])

    // A local job (no chain): nothing to slash.
    const local = await trainedChainJob(1, '1000', null)
    const [localSlash] = await coordinator.rpc<SlashRow>('record_slash', { p_task_id: local.claims[0]!.task_id, p_reason: 'NaN' })
    expect(localSlash?.id ?? null).toBeNull()
  })

  it('record_slash_result confirms with the amount taken or fails, and a decided slash never changes', async () => {
    const { claims } = await trainedChainJob(1)
    const [slash] = await coordinator.rpc<SlashRow>('record_slash', { p_task_id: claims[0]!.task_id, p_reason: 'norm too large' })
    await expect(coordinator.rpc('record_slash_result', { p_slash_id: slash!.id, p_status: 'confirmed' })).rejects.toMatchObject({ code: 'OB002' })
    await expect(coordinator.rpc('record_slash_result', { p_slash_id: slash!.id, p_status: 'pending' })).rejects.toMatchObject({ code: 'OB002' })
    const tx = hex(32)
    const [confirmed] = await coordinator.rpc<SlashRow>('record_slash_result', {
      p_slash_id: slash!.id, p_status: 'confirmed', p_taken_wei: '300', p_tx_hash: tx, p_block_number: 7,
    })
    expect(confirmed).toMatchObject({ status: 'confirmed', taken_wei: '300', tx_hash: tx })
    const [late] = await coordinator.rpc<SlashRow>('record_slash_result', { p_slash_id: slash!.id, p_status: 'failed', p_error: 'late' })
    expect(late).toMatchObject({ status: 'confirmed', taken_wei: '300' })
    await expect(coordinator.rpc('record_slash_result', { p_slash_id: 987654, p_status: 'failed' })).rejects.toMatchObject({ code: 'OB002' })
  })

  it('lists ended chain jobs until their settlement is confirmed or failed', async () => {
    const { job } = await trainedChainJob(1)
    const local = await trainedChainJob(1, '1000', null)
    expect(await awaiting()).not.toContain(job.id) // still aggregating
    for (const id of [job.id, local.job.id]) await coordinator.query(`update public.jobs set status = 'completed' where id = $1::uuid`, [id])
    expect(await awaiting()).toContain(job.id)
    expect(await awaiting()).not.toContain(local.job.id) // no escrow: nothing to settle

    await coordinator.rpc('record_settlement', settlementArgs(job.id, 'pending'))
    expect(await awaiting()).toContain(job.id) // pending: the transaction may not have gone out
    const tx = hex(32)
    await coordinator.rpc('record_settlement', settlementArgs(job.id, 'confirmed', { p_tx_hash: tx, p_block_number: 9 }))
    expect(await awaiting()).not.toContain(job.id)

    const failed = await trainedChainJob(1)
    await coordinator.query(`update public.jobs set status = 'failed' where id = $1::uuid`, [failed.job.id])
    expect(await awaiting()).toContain(failed.job.id) // a failed job's escrow is settled too
    await coordinator.rpc('record_settlement', settlementArgs(failed.job.id, 'failed', { p_error: 'WrongStatus(2)' }))
    expect(await awaiting()).not.toContain(failed.job.id)
  })

  it('record_settlement keeps one row per job, checks its input, and never undoes a confirmation', async () => {
    const { job } = await trainedChainJob(1)
    await coordinator.query(`update public.jobs set status = 'completed' where id = $1::uuid`, [job.id])
    const bad: [Record<string, unknown>, string][] = [
      [{ p_merkle_root: '0x1234' }, 'p_merkle_root'],
      [{ p_payouts: {} }, 'p_payouts'],
      [{ p_payouts: [{ address: payoutAddress.toUpperCase(), amount_wei: '1' }] }, 'p_payouts'],
      [{ p_payouts: [{ address: payoutAddress, amount_wei: '0' }] }, 'p_payouts'],
      [{ p_status: 'submitted' }, 'p_status'],
    ]
    for (const [change, detail] of bad) {
      await expect(coordinator.rpc('record_settlement', { ...settlementArgs(job.id, 'pending'), ...change })).rejects.toMatchObject({ code: 'OB002', detail })
    }
    await expect(coordinator.rpc('record_settlement', settlementArgs(job.id, 'confirmed'))).rejects.toMatchObject({ code: 'OB002', detail: 'p_tx_hash' })
    const local = await trainedChainJob(1, '1000', null)
    await expect(coordinator.rpc('record_settlement', settlementArgs(local.job.id, 'pending'))).rejects.toMatchObject({ code: 'OB021' })

    await coordinator.rpc('record_settlement', settlementArgs(job.id, 'pending'))
    await coordinator.rpc('record_settlement', settlementArgs(job.id, 'pending', { p_total_wei: '600', p_payouts: [{ address: payoutAddress, amount_wei: '600' }] }))
    expect(await settlementOf(job.id)).toMatchObject([{ status: 'pending', total_wei: '600', payouts: [{ address: payoutAddress, amount_wei: '600' }] }])

    // The mirror sees JobSettled first: the pending row is confirmed by the event.
    const tx = hex(32)
    await coordinator.rpc('record_chain_events', {
      p_chain_id: CHAIN, p_contract_address: CONTRACT, p_last_block: 20,
      p_events: [{
        name: 'JobSettled', txHash: tx, logIndex: 0, blockNumber: 20, blockHash: hex(32), jobId: job.id,
        args: { payoutRoot: `0x${'ab'.repeat(32)}`, totalPayout: '600', metricsHash: `0x${'cd'.repeat(32)}` },
      }],
    })
    // …and the coordinator's late "pending" (a retry that found the job settled) changes nothing.
    await coordinator.rpc('record_settlement', settlementArgs(job.id, 'pending'))
    const [row] = await settlementOf(job.id)
    expect(row).toMatchObject({ status: 'confirmed', tx_hash: tx, total_wei: '600' })
    expect(row!.confirmed_at).not.toBeNull()
    expect((await jobOf(job.id)).status).toBe('completed')
  })
})
