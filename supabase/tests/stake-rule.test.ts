import { randomBytes } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../src/db/database.ts'
import { linkWallet, service, signUp, type Actor } from './support/actors.ts'
import { BACKENDS, freshDatabase } from './support/databases.ts'
import { runningJob, trainingSpec, validResult, type JobRow } from './support/fixtures.ts'

// The stake rule (claim_task): on a job funded on chain, a worker leases a task only while
//   value(leases its owner's workers with the same payout address hold on that chain's jobs)
//     + value(the task)  ≤  2 × the address's bonded_wei,
// a task's value being reward_wei / (rounds × shards). Local jobs need no bond.

const CHAIN = 8119
const CONTRACT = '0x5fbdb2315678afecb367f032d93f642f64180aa3'
const hex = (bytes: number) => `0x${randomBytes(bytes).toString('hex')}`

interface Claim {
  task_id: number
  job_id: string
}

describe.each(BACKENDS)('the stake rule on %s', (backend) => {
  let db: Database
  let coordinator: Actor
  let creator: Actor & { userId: string }
  let block = 1

  beforeAll(async () => {
    db = await freshDatabase(backend)
    coordinator = service(db)
    creator = await signUp(db)
  })
  afterAll(() => db?.close())
  // Each test starts from an empty queue: what one leaves running must not feed the next.
  afterEach(async () => {
    await coordinator.query(`update public.tasks set status = 'cancelled', lease_expires_at = null where status in ('queued', 'leased')`)
  })

  const record = (events: unknown[]) =>
    coordinator.rpc('record_chain_events', { p_chain_id: CHAIN, p_contract_address: CONTRACT, p_events: events, p_last_block: block })

  /** A job funded through a mirrored JobFunded event, its first round queued: each task is worth reward / (rounds × shards). */
  async function chainJob(reward: string, shards: number, rounds = 1): Promise<JobRow> {
    const [job] = await creator.rpc<JobRow>('create_job', { p_spec: trainingSpec({ shards, rounds }), p_reward_wei: reward })
    await record([{
      name: 'JobFunded', txHash: hex(32), logIndex: 0, blockNumber: ++block, blockHash: hex(32), jobId: job!.id,
      args: { amount: reward },
    }])
    await coordinator.rpc('enqueue_round', { p_job_id: job!.id })
    const [running] = await coordinator.query<JobRow>('select * from public.jobs where id = $1::uuid', [job!.id])
    expect(running).toMatchObject({ status: 'running', chain_id: CHAIN })
    return running!
  }

  const bond = (address: string, bonded: string) =>
    record([{
      name: 'Bonded', txHash: hex(32), logIndex: 0, blockNumber: ++block, blockHash: hex(32),
      args: { worker: address, amount: bonded }, bond: { address, bonded, unbonding: '0', unlockAt: null },
    }])

  async function operatorWith(address: string | null, names = ['staked']) {
    const operator = await signUp(db, { wallet: address })
    const ids: string[] = []
    for (const name of names) {
      const [worker] = await operator.rpc<{ id: string }>('register_worker', {
        p_name: name, p_kind: 'cli', p_max_concurrency: 16, p_payout_address: address,
      })
      ids.push(worker!.id)
    }
    return { operator, ids }
  }

  const claim = async (operator: Actor, workerId: string) =>
    (await operator.rpc<Claim>('claim_task', { p_worker_id: workerId }))[0]

  it('without a bond a worker gets no task of a chain-funded job, but local jobs stay claimable', async () => {
    const onChain = await chainJob('1000', 4)
    const { operator, ids: [unbonded] } = await operatorWith(hex(20))
    const { ids: [noAddress], operator: other } = await operatorWith(null)
    expect(await claim(operator, unbonded!)).toBeUndefined()
    expect(await claim(other, noAddress!)).toBeUndefined()

    const local = await runningJob(creator, coordinator, { shards: 2 })
    expect(local.chain_id).toBeNull()
    expect((await claim(operator, unbonded!))!.job_id).toBe(local.id)
    expect((await claim(other, noAddress!))!.job_id).toBe(local.id)
    const queued = await coordinator.query(`select 1 from public.tasks where job_id = $1::uuid and status = 'queued'`, [onChain.id])
    expect(queued).toHaveLength(4)
  })

  it('a bond covering two tasks\' value allows two leases, then none until one completes', async () => {
    const job = await chainJob('1000', 10) // each task is worth 100 wei
    const address = hex(20)
    await bond(address, '100') // 2 × 100 = 200 wei of leases
    const { operator, ids: [workerId] } = await operatorWith(address)

    const first = await claim(operator, workerId!)
    const second = await claim(operator, workerId!)
    expect([first?.job_id, second?.job_id]).toEqual([job.id, job.id])
    expect(await claim(operator, workerId!)).toBeUndefined()

    await operator.rpc('complete_task', { p_task_id: first!.task_id, p_worker_id: workerId, p_result: validResult() })
    expect((await claim(operator, workerId!))?.job_id).toBe(job.id)
    expect(await claim(operator, workerId!)).toBeUndefined()
  })

  it('counts the leases of all the owner\'s workers paid at the same address, on jobs of that chain', async () => {
    const job = await chainJob('1200', 6, 2) // 1200 / (2 rounds × 6 shards) = 100 wei a task
    const address = hex(20)
    await bond(address, '150') // 300 wei of leases: three tasks
    const { operator, ids: [a, b] } = await operatorWith(address, ['first', 'second'])
    expect((await claim(operator, a!))?.job_id).toBe(job.id)
    expect((await claim(operator, b!))?.job_id).toBe(job.id)
    expect((await claim(operator, a!))?.job_id).toBe(job.id)
    expect(await claim(operator, b!)).toBeUndefined()
    expect(await claim(operator, a!)).toBeUndefined()

    // Another wallet of the same owner (a second web3 identity) has its own bond.
    const otherAddress = hex(20)
    await linkWallet(db, operator.userId!, otherAddress)
    await bond(otherAddress, '50')
    const [third] = await operator.rpc<{ id: string }>('register_worker', {
      p_name: 'third', p_kind: 'cli', p_max_concurrency: 16, p_payout_address: otherAddress,
    })
    expect((await claim(operator, third!.id))?.job_id).toBe(job.id)
    expect(await claim(operator, third!.id)).toBeUndefined()
  })

  it('a bond update raises (or lowers) the limit at once', async () => {
    const job = await chainJob('1000', 10)
    const address = hex(20)
    await bond(address, '50') // 100 wei: one task
    const { operator, ids: [workerId] } = await operatorWith(address)
    expect((await claim(operator, workerId!))?.job_id).toBe(job.id)
    expect(await claim(operator, workerId!)).toBeUndefined()

    await bond(address, '150') // 300 wei: three tasks in all
    expect((await claim(operator, workerId!))?.job_id).toBe(job.id)
    expect((await claim(operator, workerId!))?.job_id).toBe(job.id)
    expect(await claim(operator, workerId!)).toBeUndefined()

    // Unbonding stakes nothing: with the whole bond requested back, no new lease.
    await record([{
      name: 'UnbondRequested', txHash: hex(32), logIndex: 0, blockNumber: ++block, blockHash: hex(32),
      bond: { address, bonded: '0', unbonding: '150', unlockAt: 1_900_000_000 },
    }])
    const [held] = await coordinator.query<{ id: number }>(
      `select id from public.tasks where leased_by = $1::uuid and status = 'leased' order by id limit 1`, [workerId])
    await operator.rpc('complete_task', { p_task_id: held!.id, p_worker_id: workerId, p_result: validResult() })
    expect(await claim(operator, workerId!)).toBeUndefined()
  })
})
