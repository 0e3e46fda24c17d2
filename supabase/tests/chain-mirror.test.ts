import { randomBytes } from 'node:crypto'
import { getAddress } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../src/db/database.ts'
import { anon, linkWallet, service, signUp, type Actor } from './support/actors.ts'
import { BACKENDS, freshDatabase } from './support/databases.ts'
import { registerWorker, runningJob, validSpec, type JobRow } from './support/fixtures.ts'

const CHAIN = 8119
const CONTRACT = '0x5fbdb2315678afecb367f032d93f642f64180aa3'
const hex = (bytes: number) => `0x${randomBytes(bytes).toString('hex')}`
/** The job's uuid right-aligned in bytes32, as the contract names it. */
const jobIdHex = (id: string) => `0x${id.replace(/-/g, '').padStart(64, '0')}`

interface ChainEvent {
  name: string
  txHash: string
  logIndex: number
  blockNumber: number
  blockHash: string
  jobId?: string
  args?: Record<string, unknown>
  bond?: { address: string; bonded: string; unbonding: string; unlockAt: number | null }
}

/** One event as the coordinator sends it; a fresh transaction unless given. */
function event(name: string, fields: Partial<ChainEvent> = {}): ChainEvent {
  return { name, txHash: hex(32), logIndex: 0, blockNumber: 10, blockHash: hex(32), args: {}, ...fields }
}

describe.each(BACKENDS)('record_chain_events on %s', (backend) => {
  let db: Database
  let coordinator: Actor
  let owner: Actor & { userId: string }

  beforeAll(async () => {
    db = await freshDatabase(backend)
    coordinator = service(db)
    owner = await signUp(db)
  })
  afterAll(() => db?.close())

  const record = async (events: ChainEvent[], lastBlock = 100, contract = CONTRACT) => {
    const [row] = await coordinator.rpc<{ record_chain_events: number }>('record_chain_events', {
      p_chain_id: CHAIN, p_contract_address: contract, p_events: events, p_last_block: lastBlock,
    })
    return row!.record_chain_events
  }
  const jobOf = async (id: string) => (await coordinator.query<JobRow>('select * from public.jobs where id = $1::uuid', [id]))[0]!
  const createdJob = async (reward = '1000') =>
    (await owner.rpc<JobRow>('create_job', { p_spec: validSpec(), p_reward_wei: reward }))[0]!
  const funded = (job: JobRow, amount = '1000', fields: Partial<ChainEvent> = {}) =>
    event('JobFunded', {
      jobId: job.id,
      args: { jobIdHex: jobIdHex(job.id), creator: hex(20), amount, specHash: hex(32), deadline: '1900000000' },
      ...fields,
    })

  it('funds a created job from JobFunded and records the event once, however often it is sent', async () => {
    const job = await createdJob()
    const events = [funded(job, '1000')]
    expect(await record(events)).toBe(1)
    const after = await jobOf(job.id)
    expect(after).toMatchObject({
      status: 'funded', chain_id: CHAIN, chain_job_id: jobIdHex(job.id), escrow_tx_hash: events[0]!.txHash,
      status_reason: `escrow funded on chain ${CHAIN}`,
    })

    // The same batch again (a restart, an overlapping range): nothing new, nothing changes.
    await coordinator.rpc('start_round', {
      p_job_id: job.id, p_global_model_cid: 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy',
      p_global_model_path: `jobs/${job.id}/rounds/1/global.obw`,
    })
    expect(await record(events)).toBe(0)
    expect((await jobOf(job.id)).status).toBe('running')
    const stored = await coordinator.query<{ event_name: string; job_id: string; args: Record<string, unknown>; contract_address: string }>(
      'select event_name, job_id, args, contract_address from public.chain_events where tx_hash = $1', [events[0]!.txHash])
    expect(stored).toEqual([{ event_name: 'JobFunded', job_id: job.id, args: events[0]!.args, contract_address: CONTRACT }])
  })

  it('leaves a job created when the escrow is below its reward, saying so', async () => {
    const job = await createdJob('5000')
    expect(await record([funded(job, '4999')])).toBe(1)
    const after = await jobOf(job.id)
    expect(after.status).toBe('created')
    expect(after.status_reason).toContain('below the reward of 5000 wei')
    // Compared as numbers, not as text: "10000" > "5000".
    const richer = await createdJob('5000')
    await record([funded(richer, '10000')])
    expect((await jobOf(richer.id)).status).toBe('funded')
  })

  it('records an event of an unknown job without any effect', async () => {
    const unknown = '00000000-0000-4000-8000-000000000001'
    const e = event('JobFunded', { jobId: unknown, args: { amount: '1000' } })
    expect(await record([e])).toBe(1)
    const [stored] = await coordinator.query<{ job_id: string | null; args: Record<string, unknown> }>(
      'select job_id, args from public.chain_events where tx_hash = $1', [e.txHash])
    expect(stored).toEqual({ job_id: null, args: { amount: '1000' } })
  })

  it('cancels an unfinished job from JobCancelled and revokes its tasks', async () => {
    const job = await runningJob(owner, coordinator, { shards: 3 })
    const operator = await signUp(db)
    const workerId = await registerWorker(operator, 'cancelled-on-chain')
    await operator.rpc('claim_task', { p_worker_id: workerId })
    await record([event('JobCancelled', { jobId: job.id, args: { refund: '1000' } })])
    const after = await jobOf(job.id)
    expect(after).toMatchObject({ status: 'cancelled', status_reason: 'escrow refunded on chain (cancelled by its creator)' })
    const tasks = await coordinator.query<{ status: string }>('select status from public.tasks where job_id = $1::uuid', [job.id])
    expect(tasks.map((t) => t.status)).toEqual(['cancelled', 'cancelled', 'cancelled'])
    const [worker] = await coordinator.query<{ leases_held: number }>('select leases_held from public.workers where id = $1::uuid', [workerId])
    expect(worker!.leases_held).toBe(0)
  })

  it('expires a funded or running job from JobExpired; a created job or an ended one is left as it is', async () => {
    const running = await runningJob(owner, coordinator, { shards: 2 })
    const created = await createdJob()
    const done = await runningJob(owner, coordinator, { shards: 1 })
    await owner.rpc('cancel_job', { p_job_id: done.id })
    expect(await record([
      event('JobExpired', { jobId: running.id, args: { refund: '1000' } }),
      event('JobExpired', { jobId: created.id, args: { refund: '1000' } }),
      event('JobExpired', { jobId: done.id, args: { refund: '1000' } }),
    ])).toBe(3)
    expect(await jobOf(running.id)).toMatchObject({ status: 'expired', status_reason: 'escrow expired on chain' })
    const tasks = await coordinator.query<{ status: string }>('select status from public.tasks where job_id = $1::uuid', [running.id])
    expect(tasks.map((t) => t.status)).toEqual(['cancelled', 'cancelled'])
    expect((await jobOf(created.id)).status).toBe('created')
    expect((await jobOf(done.id)).status).toBe('cancelled')
  })

  it('confirms the job\'s settlement from JobSettled, creating the row or updating the pending one', async () => {
    const job = await runningJob(owner, coordinator)
    const settled = (fields: Partial<ChainEvent> = {}) => event('JobSettled', {
      jobId: job.id, blockNumber: 42,
      args: { payoutRoot: hex(32), totalPayout: '900', payoutCount: 3, remainder: '100', modelCidHash: hex(32), metricsHash: hex(32) },
      ...fields,
    })
    const first = settled()
    await record([first])
    const rows = await coordinator.query<Record<string, unknown>>(
      'select status, merkle_root, total_wei, tx_hash, block_number, chain_id, metrics_hash, confirmed_at from public.settlements where job_id = $1::uuid', [job.id])
    expect(rows).toEqual([{
      status: 'confirmed', merkle_root: first.args!.payoutRoot, total_wei: '900', tx_hash: first.txHash,
      block_number: 42, chain_id: CHAIN, metrics_hash: first.args!.metricsHash, confirmed_at: expect.anything(),
    }])

    // The coordinator wrote a pending settlement before submitting: it is that row that is confirmed.
    const other = await runningJob(owner, coordinator)
    await coordinator.query(`insert into public.settlements (job_id, chain_id, status, total_wei) values ($1::uuid, $2, 'submitted', '500')`,
      [other.id, CHAIN])
    const second = settled({ jobId: other.id })
    await record([second])
    const others = await coordinator.query<{ status: string; total_wei: string; tx_hash: string }>(
      'select status, total_wei, tx_hash from public.settlements where job_id = $1::uuid', [other.id])
    expect(others).toEqual([{ status: 'confirmed', total_wei: '900', tx_hash: second.txHash }])
  })

  it('mirrors bonds, never letting an older block overwrite a newer one', async () => {
    const address = hex(20)
    const bond = (bonded: string, unbonding = '0', unlockAt: number | null = null) => ({ address, bonded, unbonding, unlockAt })
    await record([event('Bonded', { blockNumber: 20, args: { worker: address, amount: '300' }, bond: bond('300') })])
    await record([event('UnbondRequested', { blockNumber: 30, bond: bond('100', '200', 1_900_000_000) })])
    await record([event('Bonded', { blockNumber: 25, bond: bond('999') })]) // an older log arriving late
    const rows = await anon(db).query<Record<string, unknown>>(
      'select chain_id, address, bonded_wei, unbonding_wei, unlock_at, block_number from public.wallet_bonds where address = $1', [address])
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ chain_id: CHAIN, address, bonded_wei: '100', unbonding_wei: '200', block_number: 30 })
    expect(new Date(rows[0]!.unlock_at as string).getTime()).toBe(1_900_000_000_000)
  })

  it('moves the contract\'s cursor forward only', async () => {
    const contract = hex(20)
    const cursor = async () =>
      (await coordinator.query<{ last_block: number }>(
        'select last_block from public.chain_cursors where chain_id = $1 and contract_address = $2', [CHAIN, contract]))[0]?.last_block
    expect(await record([], 50, contract)).toBe(0)
    expect(await cursor()).toBe(50)
    await record([], 40, contract)
    expect(await cursor()).toBe(50)
    await record([], 70, contract.toUpperCase().replace('0X', '0x')) // addresses are compared in lower case
    expect(await cursor()).toBe(70)
  })

  it('stores nothing from a batch with a bad event and names the field', async () => {
    const job = await createdJob()
    const good = funded(job)
    const cases: Array<[unknown, string]> = [
      [{ ...event('JobFunded'), txHash: 'nope' }, 'p_events[1].txHash'],
      [{ ...event('JobFunded'), logIndex: -1 }, 'p_events[1].logIndex'],
      [{ ...event('JobFunded'), name: '' }, 'p_events[1].name'],
      [event('JobFunded', { jobId: 'not-a-uuid', args: { amount: '1' } }), 'p_events[1].jobId'],
      [event('JobFunded', { args: { amount: 1000 } }), 'p_events[1].args.amount'],
      [event('JobSettled', { args: { payoutRoot: hex(31), totalPayout: '1' } }), 'p_events[1].args.payoutRoot'],
      [event('Bonded', { bond: { address: hex(20).toUpperCase(), bonded: '1', unbonding: '0', unlockAt: null } }), 'p_events[1].bond.address'],
      [event('Bonded', { bond: { address: hex(20), bonded: '-1', unbonding: '0', unlockAt: null } }), 'p_events[1].bond.bonded'],
    ]
    for (const [bad, detail] of cases) {
      await expect(coordinator.rpc('record_chain_events', {
        p_chain_id: CHAIN, p_contract_address: CONTRACT, p_events: [good, bad], p_last_block: 1,
      })).rejects.toMatchObject({ code: 'OB002', detail })
    }
    expect((await jobOf(job.id)).status).toBe('created')
    const stored = await coordinator.query('select 1 from public.chain_events where tx_hash = $1', [good.txHash])
    expect(stored).toEqual([])

    const call = (args: Record<string, unknown>) => coordinator.rpc('record_chain_events', {
      p_chain_id: CHAIN, p_contract_address: CONTRACT, p_events: [], p_last_block: 1, ...args,
    })
    await expect(call({ p_chain_id: 0 })).rejects.toMatchObject({ code: 'OB002', detail: 'p_chain_id' })
    await expect(call({ p_contract_address: '0x12' })).rejects.toMatchObject({ code: 'OB002', detail: 'p_contract_address' })
    await expect(call({ p_events: { name: 'JobFunded' } })).rejects.toMatchObject({ code: 'OB002', detail: 'p_events' })
    await expect(call({ p_last_block: -1 })).rejects.toMatchObject({ code: 'OB002', detail: 'p_last_block' })
  })

  it('is the coordinator\'s alone: signed-in users and anon cannot call it; anyone reads wallet_bonds', async () => {
    const args = { p_chain_id: CHAIN, p_contract_address: CONTRACT, p_events: [], p_last_block: 1 }
    const denied = { code: '42501', message: expect.stringContaining('permission denied') }
    await expect(owner.rpc('record_chain_events', args)).rejects.toMatchObject(denied)
    await expect(anon(db).rpc('record_chain_events', args)).rejects.toMatchObject(denied)
    await expect(owner.query('select * from public.chain_cursors')).rejects.toMatchObject(denied)
    await expect(anon(db).query('select * from public.chain_cursors')).rejects.toMatchObject(denied)
    const address = hex(20)
    await record([event('Bonded', { bond: { address, bonded: '5', unbonding: '0', unlockAt: null } })])
    for (const who of [owner, anon(db)]) {
      const rows = await who.query<{ bonded_wei: string }>('select bonded_wei from public.wallet_bonds where address = $1', [address])
      expect(rows).toEqual([{ bonded_wei: '5' }])
    }
  })
})

describe.each(BACKENDS)('register_worker with a payout address on %s', (backend) => {
  let db: Database
  let operator: Actor & { userId: string }
  const address = hex(20)
  beforeAll(async () => {
    db = await freshDatabase(backend)
    operator = await signUp(db, { wallet: address })
  })
  afterAll(() => db?.close())

  it('registers without an address as before, and sets or clears one by name', async () => {
    const [plain] = await operator.rpc<{ id: string; payout_address: string | null }>('register_worker', {
      p_name: 'payee', p_kind: 'cli', p_capabilities: {}, p_max_concurrency: 2,
    })
    expect(plain!.payout_address).toBeNull()
    const [paid] = await operator.rpc<{ id: string; payout_address: string | null }>('register_worker', {
      p_name: 'payee', p_kind: 'cli', p_payout_address: address,
    })
    expect(paid).toMatchObject({ id: plain!.id, payout_address: address })
  })

  it('refuses a payout address the caller did not sign in with: another user\'s wallet, or one nobody signed in with', async () => {
    const victimWallet = hex(20)
    await signUp(db, { wallet: victimWallet })
    for (const stranger of [victimWallet, hex(20)]) {
      await expect(operator.rpc('register_worker', { p_name: 'thief', p_kind: 'cli', p_payout_address: stranger }))
        .rejects.toMatchObject({ code: 'OB012', detail: 'p_payout_address', message: `The payout address ${stranger} is not a wallet you signed in with` })
    }
    expect(await operator.query(`select 1 from public.workers where name = 'thief'`)).toEqual([])
    // A checksummed identity (as Sign-In with Ethereum records it) matches its lower-case address.
    const checksummed = getAddress(hex(20))
    await linkWallet(db, operator.userId, checksummed)
    const [paid] = await operator.rpc<{ payout_address: string }>('register_worker', { p_name: 'checksummed', p_kind: 'cli', p_payout_address: checksummed.toLowerCase() })
    expect(paid!.payout_address).toBe(checksummed.toLowerCase())
  })

  it('refuses an address that is not 0x + 40 lower-case hex digits, naming p_payout_address', async () => {
    for (const bad of ['0x12', hex(20).toUpperCase().replace('0X', '0x'), `${hex(20)}00`, 'nothing']) {
      await expect(operator.rpc('register_worker', { p_name: 'bad-payee', p_kind: 'cli', p_payout_address: bad }))
        .rejects.toMatchObject({ code: 'OB002', detail: 'p_payout_address' })
    }
    expect(await operator.query(`select 1 from public.workers where name = 'bad-payee'`)).toEqual([])
  })
})
