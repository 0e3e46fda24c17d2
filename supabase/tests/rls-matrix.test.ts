import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../src/db/database.ts'
import { anon, service, signUp, type Actor } from './support/actors.ts'
import { BACKENDS, freshDatabase } from './support/databases.ts'
import { registerWorker, runningJob, SAMPLE_CID, validResult, validSpec } from './support/fixtures.ts'
import { expectNothingPrivate as expectPublicSafe } from './support/public-answers.ts'

// ------------------------------------------------------------------ the security model
//
// Who may do what to one row of each table, as a client reaches it through the API.
//   rows     the select answers, and the row is among what it returns
//   none     the select answers with no rows at all (RLS hides them; no error)
//   denied   the statement fails with 42501 permission denied, and nothing changes
//   allowed  the write succeeds (service_role bypasses RLS; checked on a spare row)
// "owner" is the user the row belongs to (see OWNER below), "other" a signed-in user with
// nothing to do with it. Signed-in users only read: every write goes through an RPC.

const TABLES = [
  'workers', 'jobs', 'tasks', 'task_results', 'job_rounds', 'models', 'inference_requests', 'chain_events', 'settlements',
  'wallet_bonds', 'chain_cursors', 'slashes', 'zk_setups',
] as const
const ROLES = ['anon', 'owner', 'other', 'service_role'] as const
const OPS = ['select', 'insert', 'update', 'delete'] as const
type Table = (typeof TABLES)[number]
type Role = (typeof ROLES)[number]
type Op = (typeof OPS)[number]
type Outcome = 'rows' | 'none' | 'denied' | 'allowed'

const EXPECTED: Record<Table, Record<Role, Record<Op, Outcome>>> = {
  workers: {
    anon:         { select: 'denied', insert: 'denied',  update: 'denied',  delete: 'denied' },
    owner:        { select: 'rows',   insert: 'denied',  update: 'denied',  delete: 'denied' },
    other:        { select: 'none',   insert: 'denied',  update: 'denied',  delete: 'denied' },
    service_role: { select: 'rows',   insert: 'allowed', update: 'allowed', delete: 'allowed' },
  },
  jobs: {
    anon:         { select: 'denied', insert: 'denied',  update: 'denied',  delete: 'denied' },
    owner:        { select: 'rows',   insert: 'denied',  update: 'denied',  delete: 'denied' },
    other:        { select: 'none',   insert: 'denied',  update: 'denied',  delete: 'denied' },
    service_role: { select: 'rows',   insert: 'allowed', update: 'allowed', delete: 'allowed' },
  },
  tasks: {
    anon:         { select: 'denied', insert: 'denied',  update: 'denied',  delete: 'denied' },
    owner:        { select: 'rows',   insert: 'denied',  update: 'denied',  delete: 'denied' },
    other:        { select: 'none',   insert: 'denied',  update: 'denied',  delete: 'denied' },
    service_role: { select: 'rows',   insert: 'allowed', update: 'allowed', delete: 'allowed' },
  },
  task_results: {
    anon:         { select: 'denied', insert: 'denied',  update: 'denied',  delete: 'denied' },
    owner:        { select: 'rows',   insert: 'denied',  update: 'denied',  delete: 'denied' },
    other:        { select: 'none',   insert: 'denied',  update: 'denied',  delete: 'denied' },
    service_role: { select: 'rows',   insert: 'allowed', update: 'allowed', delete: 'allowed' },
  },
  job_rounds: {
    anon:         { select: 'denied', insert: 'denied',  update: 'denied',  delete: 'denied' },
    owner:        { select: 'rows',   insert: 'denied',  update: 'denied',  delete: 'denied' },
    other:        { select: 'none',   insert: 'denied',  update: 'denied',  delete: 'denied' },
    service_role: { select: 'rows',   insert: 'allowed', update: 'allowed', delete: 'allowed' },
  },
  models: {
    anon:         { select: 'denied', insert: 'denied',  update: 'denied',  delete: 'denied' },
    owner:        { select: 'rows',   insert: 'denied',  update: 'denied',  delete: 'denied' },
    other:        { select: 'none',   insert: 'denied',  update: 'denied',  delete: 'denied' },
    service_role: { select: 'rows',   insert: 'allowed', update: 'allowed', delete: 'allowed' },
  },
  inference_requests: {
    anon:         { select: 'denied', insert: 'denied',  update: 'denied',  delete: 'denied' },
    owner:        { select: 'rows',   insert: 'denied',  update: 'denied',  delete: 'denied' },
    other:        { select: 'none',   insert: 'denied',  update: 'denied',  delete: 'denied' },
    service_role: { select: 'rows',   insert: 'allowed', update: 'allowed', delete: 'allowed' },
  },
  // Mirrored from the chain, where anyone can read them already.
  chain_events: {
    anon:         { select: 'rows',   insert: 'denied',  update: 'denied',  delete: 'denied' },
    owner:        { select: 'rows',   insert: 'denied',  update: 'denied',  delete: 'denied' },
    other:        { select: 'rows',   insert: 'denied',  update: 'denied',  delete: 'denied' },
    service_role: { select: 'rows',   insert: 'allowed', update: 'allowed', delete: 'allowed' },
  },
  settlements: {
    anon:         { select: 'denied', insert: 'denied',  update: 'denied',  delete: 'denied' },
    owner:        { select: 'rows',   insert: 'denied',  update: 'denied',  delete: 'denied' },
    other:        { select: 'none',   insert: 'denied',  update: 'denied',  delete: 'denied' },
    service_role: { select: 'rows',   insert: 'allowed', update: 'allowed', delete: 'allowed' },
  },
  // Bonds are on chain, where anyone can read them already.
  wallet_bonds: {
    anon:         { select: 'rows',   insert: 'denied',  update: 'denied',  delete: 'denied' },
    owner:        { select: 'rows',   insert: 'denied',  update: 'denied',  delete: 'denied' },
    other:        { select: 'rows',   insert: 'denied',  update: 'denied',  delete: 'denied' },
    service_role: { select: 'rows',   insert: 'allowed', update: 'allowed', delete: 'allowed' },
  },
  // Slashes are public, as the Slashed events are.
  slashes: {
    anon:         { select: 'rows',   insert: 'denied',  update: 'denied',  delete: 'denied' },
    owner:        { select: 'rows',   insert: 'denied',  update: 'denied',  delete: 'denied' },
    other:        { select: 'rows',   insert: 'denied',  update: 'denied',  delete: 'denied' },
    service_role: { select: 'rows',   insert: 'allowed', update: 'allowed', delete: 'allowed' },
  },
  // A model's ZK setup: its owner follows it; the coordinator writes it.
  zk_setups: {
    anon:         { select: 'denied', insert: 'denied',  update: 'denied',  delete: 'denied' },
    owner:        { select: 'rows',   insert: 'denied',  update: 'denied',  delete: 'denied' },
    other:        { select: 'none',   insert: 'denied',  update: 'denied',  delete: 'denied' },
    service_role: { select: 'rows',   insert: 'allowed', update: 'allowed', delete: 'allowed' },
  },
  // How far the coordinator has read the chain: its own bookkeeping.
  chain_cursors: {
    anon:         { select: 'denied', insert: 'denied',  update: 'denied',  delete: 'denied' },
    owner:        { select: 'denied', insert: 'denied',  update: 'denied',  delete: 'denied' },
    other:        { select: 'denied', insert: 'denied',  update: 'denied',  delete: 'denied' },
    service_role: { select: 'rows',   insert: 'allowed', update: 'allowed', delete: 'allowed' },
  },
}

// The people in the seed: a job owner whose job one worker trains, a model owner, a buyer of
// an inference on that model, and a bystander.
type Person = 'jobOwner' | 'workerOwner' | 'modelOwner' | 'buyer' | 'other'

/** Who "owner" is for each table's seeded row. */
const OWNER: Record<Table, Person> = {
  workers: 'workerOwner',
  jobs: 'jobOwner',
  tasks: 'jobOwner',
  task_results: 'jobOwner',
  job_rounds: 'jobOwner',
  models: 'modelOwner',
  inference_requests: 'buyer',
  chain_events: 'jobOwner', // any signed-in user: chain data is public
  settlements: 'jobOwner',
  wallet_bonds: 'workerOwner', // any signed-in user: chain data is public
  chain_cursors: 'jobOwner', // nobody but the coordinator
  slashes: 'workerOwner', // any signed-in user: slashes are public
  zk_setups: 'modelOwner',
}

/** Besides the owner, these people see the seeded row too (and "other" still sees none). */
const ALSO_SEEN_BY: Array<[Table, Person, string]> = [
  ['tasks', 'workerOwner', 'the owner of the worker holding its lease'],
  ['task_results', 'workerOwner', 'the owner of the worker that produced it'],
  ['jobs', 'workerOwner', 'the owner of a worker that works on it'],
  ['job_rounds', 'workerOwner', 'the owner of a worker that works on the job'],
  ['settlements', 'workerOwner', 'the owner of a worker that worked on the job'],
  ['inference_requests', 'modelOwner', 'the owner of the model it runs on'],
]

// ------------------------------------------------------------------ the write statements
// Each role runs the same statement; only who runs it differs. A write expected to be denied
// targets the seeded row (the owner trying to change their own row is the interesting case);
// one expected to succeed targets a spare row made by the insert, so the seed stays intact.

interface Seed {
  people: Record<Person, Actor & { userId: string }>
  /** The seeded row of each table, as text. */
  ids: Record<Table, string>
  jobId: string
  workerId: string
  modelId: string
}

interface Statement {
  sql: string
  params: unknown[]
}

const hex32 = () => `0x${randomBytes(32).toString('hex')}`
const hex20 = () => `0x${randomBytes(20).toString('hex')}`
const CONTRACT = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
let spareCounter = 0

/** Each table's row id as text: the `id` column, or the primary key (job/round, chain/address). */
const ID: Record<Table, string> = {
  workers: 'id', jobs: 'id', tasks: 'id', task_results: 'id', models: 'id', inference_requests: 'id',
  chain_events: 'id', settlements: 'id', slashes: 'id', zk_setups: 'id',
  job_rounds: `(job_id::text || '/' || round)`,
  wallet_bonds: `(chain_id::text || '/' || address)`,
  chain_cursors: `(chain_id::text || '/' || contract_address)`,
}

/** A valid new row for each table (service_role's insert must succeed), returning its id. */
const INSERT: Record<Table, (seed: Seed) => Statement> = {
  workers: (s) => ({
    sql: `insert into public.workers (owner_id, name, kind) values ($1::uuid, $2::text, 'cli') returning id`,
    params: [s.people.workerOwner.userId, `spare-${++spareCounter}`],
  }),
  jobs: (s) => ({
    sql: `insert into public.jobs (owner_id, spec, reward_wei, rounds, shards, privacy_delta)
          values ($1::uuid, $2::jsonb, '1000', 1, 1, 0.00001) returning id`,
    params: [s.people.jobOwner.userId, JSON.stringify(validSpec())],
  }),
  tasks: (s) => ({
    sql: `insert into public.tasks (job_id, round, shard_index) values ($1::uuid, 1, $2::integer) returning id`,
    params: [s.jobId, 100 + ++spareCounter],
  }),
  // A result needs a task that has none yet: the seeded job keeps queued tasks for this.
  task_results: (s) => ({
    sql: `insert into public.task_results (task_id, job_id, round, artifact_cid, sample_count)
          select t.id, t.job_id, t.round, $2::text, 10 from public.tasks t
          where t.job_id = $1::uuid and not exists (select 1 from public.task_results r where r.task_id = t.id)
          order by t.id desc limit 1
          returning id`,
    params: [s.jobId, SAMPLE_CID],
  }),
  job_rounds: (s) => ({
    sql: `insert into public.job_rounds (job_id, round, global_model_cid, global_model_path)
          values ($1::uuid, $2::integer, $3::text, $4::text) returning ${ID.job_rounds} as id`,
    params: [s.jobId, 100 + ++spareCounter, SAMPLE_CID, `jobs/${s.jobId}/rounds/spare/global.obw`],
  }),
  models: (s) => ({
    sql: `insert into public.models (owner_id, job_id, name) values ($1::uuid, $2::uuid, 'spare model') returning id`,
    params: [s.people.modelOwner.userId, s.jobId],
  }),
  inference_requests: (s) => ({
    sql: `insert into public.inference_requests (model_id, buyer_id, input_commitment, price_wei)
          values ($1::uuid, $2::uuid, $3::text, '100') returning id`,
    params: [s.modelId, s.people.buyer.userId, hex32()],
  }),
  chain_events: (s) => ({
    sql: `insert into public.chain_events (chain_id, block_number, block_hash, tx_hash, log_index, contract_address, event_name, job_id)
          values (8119, 2, $1::text, $2::text, 0, $3::text, 'JobFunded', $4::uuid) returning id`,
    params: [hex32(), hex32(), CONTRACT, s.jobId],
  }),
  // One settlement per job: the spare row needs a job of its own.
  settlements: (s) => ({
    sql: `with spare as (
            insert into public.jobs (owner_id, spec, reward_wei, rounds, shards, privacy_delta)
            values ($1::uuid, $2::jsonb, '1000', 1, 1, 0.00001) returning id)
          insert into public.settlements (job_id, chain_id, total_wei) select id, 8119, '1000' from spare returning id`,
    params: [s.people.jobOwner.userId, JSON.stringify(validSpec())],
  }),
  slashes: (s) => ({
    sql: `insert into public.slashes (job_id, chain_id, address, amount_wei, evidence_cid, reason)
          values ($1::uuid, 8119, $2::text, '1', $3::text, 'spare') returning id`,
    params: [s.jobId, hex20(), SAMPLE_CID],
  }),
  zk_setups: (s) => ({
    sql: `insert into public.zk_setups (model_id, owner_id, circuit_hash, constraints)
          values ($1::uuid, $2::uuid, $3::text, 100) returning id`,
    params: [s.modelId, s.people.modelOwner.userId, randomBytes(64).toString('hex')],
  }),
  wallet_bonds: () => ({
    sql: `insert into public.wallet_bonds (chain_id, address, bonded_wei, unbonding_wei, block_number)
          values (8119, $1::text, '100', '0', 1) returning ${ID.wallet_bonds} as id`,
    params: [hex20()],
  }),
  chain_cursors: () => ({
    sql: `insert into public.chain_cursors (chain_id, contract_address, last_block) values (8119, $1::text, 1)
          returning ${ID.chain_cursors} as id`,
    params: [hex20()],
  }),
}

/** `update public.<table> set <column> = <value> where id = …`, with a value of the column's type. */
const UPDATE: Record<Table, { column: string; value: string | number }> = {
  workers: { column: 'name', value: 'renamed' },
  jobs: { column: 'reward_wei', value: '1' },
  tasks: { column: 'priority', value: 7 },
  task_results: { column: 'sample_count', value: 1 },
  job_rounds: { column: 'test_accuracy', value: 0.5 },
  models: { column: 'name', value: 'renamed' },
  inference_requests: { column: 'price_wei', value: '0' },
  chain_events: { column: 'event_name', value: 'Forged' },
  settlements: { column: 'total_wei', value: '1' },
  wallet_bonds: { column: 'bonded_wei', value: '1' },
  chain_cursors: { column: 'last_block', value: 7 },
  slashes: { column: 'amount_wei', value: '2' },
  zk_setups: { column: 'constraints', value: 7 },
}

const updateSql = (table: Table) => `update public.${table} set ${UPDATE[table].column} = $2 where ${ID[table]} = $1`
const deleteSql = (table: Table) => `delete from public.${table} where ${ID[table]} = $1`

// ------------------------------------------------------------------ the checks

async function expectDenied(attempt: Promise<unknown>) {
  await expect(attempt).rejects.toMatchObject({ code: '42501', message: expect.stringContaining('permission denied') })
}

describe.each(BACKENDS)('row level security on %s', (backend) => {
  let db: Database
  let coordinator: Actor
  let seed: Seed

  /** The actor behind a role for one table's row. */
  const actorFor = (table: Table, role: Role): Actor =>
    role === 'anon' ? anon(db)
      : role === 'service_role' ? coordinator
        : seed.people[role === 'owner' ? OWNER[table] : 'other']

  /** The whole table as service_role sees it: what "nothing changed" compares. */
  const snapshot = async (table: Table) =>
    (await coordinator.query<{ row: string }>(`select to_jsonb(t)::text as row from public.${table} t order by ${ID[table]}`))
      .map((r) => r.row)

  const idsVisibleTo = async (who: Actor, table: Table) =>
    (await who.query<{ id: unknown }>(`select ${ID[table]} as id from public.${table}`)).map((r) => String(r.id))

  /** A spare row made by service_role with the table's insert statement. */
  async function spareRow(table: Table): Promise<string> {
    const { sql, params } = INSERT[table](seed)
    const rows = await coordinator.query<{ id: unknown }>(sql, params)
    expect(rows).toHaveLength(1)
    return String(rows[0]!.id)
  }

  beforeAll(async () => {
    db = await freshDatabase(backend)
    coordinator = service(db)
    const people = {
      jobOwner: await signUp(db),
      workerOwner: await signUp(db),
      modelOwner: await signUp(db),
      buyer: await signUp(db),
      other: await signUp(db),
    }
    // A running job; one worker completes one task (a result) and holds the lease of another.
    // The other four shards stay queued, for service_role's spare task results.
    const job = await runningJob(people.jobOwner, coordinator, { shards: 6 })
    const workerId = await registerWorker(people.workerOwner, 'matrix-worker')
    const [done] = await people.workerOwner.rpc<{ task_id: number }>('claim_task', { p_worker_id: workerId })
    const [completed] = await people.workerOwner.rpc<{ result_id: unknown }>('complete_task', {
      p_task_id: done!.task_id, p_worker_id: workerId, p_result: validResult(),
    })
    const [held] = await people.workerOwner.rpc<{ task_id: number }>('claim_task', { p_worker_id: workerId })

    const one = async (sql: string, params: unknown[]) =>
      String((await coordinator.query<{ id: unknown }>(sql, params))[0]!.id)
    const modelId = await one(
      `insert into public.models (owner_id, job_id, name, epsilon, delta, listed, price_wei)
       values ($1::uuid, $2::uuid, 'MNIST digits v1', 2.5, 0.00001, true, '100') returning id`,
      [people.modelOwner.userId, job.id])
    const inferenceId = await one(
      `insert into public.inference_requests (model_id, buyer_id, input, input_commitment, price_wei)
       values ($1::uuid, $2::uuid, '{"pixels": [0, 1]}', $3::text, '100') returning id`,
      [modelId, people.buyer.userId, hex32()])
    const chainEventId = await one(
      `insert into public.chain_events (chain_id, block_number, block_hash, tx_hash, log_index, contract_address, event_name, args, job_id)
       values (8119, 1, $1::text, $2::text, 0, $3::text, 'JobFunded', '{"amount": "1000"}', $4::uuid) returning id`,
      [hex32(), hex32(), CONTRACT, job.id])
    const roundId = await one(
      `insert into public.job_rounds (job_id, round, global_model_cid, global_model_path)
       values ($1::uuid, 1, $2::text, $3::text) returning ${ID.job_rounds} as id`,
      [job.id, SAMPLE_CID, `jobs/${job.id}/rounds/1/global.obw`])
    const settlementId = await one(
      `insert into public.settlements (job_id, chain_id, merkle_root, payouts, total_wei)
       values ($1::uuid, 8119, $2::text, '[{"address": "0x0000000000000000000000000000000000000001", "amount_wei": "1000"}]', '1000')
       returning id`,
      [job.id, hex32()])
    const bondId = await one(
      `insert into public.wallet_bonds (chain_id, address, bonded_wei, unbonding_wei, block_number)
       values (8119, $1::text, '500', '0', 3) returning ${ID.wallet_bonds} as id`,
      [hex20()])
    const slashId = await one(
      `insert into public.slashes (job_id, task_id, chain_id, address, amount_wei, evidence_cid, reason)
       values ($1::uuid, $2::bigint, 8119, $3::text, '250', $4::text, 'NaN in the update') returning id`,
      [job.id, done!.task_id, hex20(), SAMPLE_CID])
    const setupId = await one(
      `insert into public.zk_setups (model_id, owner_id, circuit_hash, constraints)
       values ($1::uuid, $2::uuid, $3::text, 2400) returning id`,
      [modelId, people.modelOwner.userId, randomBytes(64).toString('hex')])
    const cursorId = await one(
      `insert into public.chain_cursors (chain_id, contract_address, last_block) values (8119, $1::text, 3)
       returning ${ID.chain_cursors} as id`,
      [CONTRACT.toLowerCase()])

    seed = {
      people,
      jobId: job.id,
      workerId,
      modelId,
      ids: {
        workers: workerId,
        jobs: job.id,
        tasks: String(held!.task_id),
        task_results: String(completed!.result_id),
        job_rounds: roundId,
        models: modelId,
        inference_requests: inferenceId,
        chain_events: chainEventId,
        settlements: settlementId,
        wallet_bonds: bondId,
        chain_cursors: cursorId,
        slashes: slashId,
        zk_setups: setupId,
      },
    }
  })
  afterAll(() => db?.close())

  async function checkSelect(table: Table, role: Role, expected: Outcome) {
    const who = actorFor(table, role)
    if (expected === 'denied') return expectDenied(idsVisibleTo(who, table))
    const ids = await idsVisibleTo(who, table)
    if (expected === 'rows') expect(ids).toContain(seed.ids[table])
    else if (expected === 'none') expect(ids).toEqual([])
    else throw new Error(`A select is expected to give rows, none or denied, not ${expected}`)
  }

  async function checkWrite(table: Table, role: Role, op: Exclude<Op, 'select'>, expected: Outcome) {
    const who = actorFor(table, role)
    const { column, value } = UPDATE[table]
    if (expected === 'denied') {
      const target = seed.ids[table]
      const before = await snapshot(table)
      const statement = op === 'insert' ? INSERT[table](seed)
        : op === 'update' ? { sql: updateSql(table), params: [target, value] }
          : { sql: deleteSql(table), params: [target] }
      await expectDenied(who.query(statement.sql, statement.params))
      expect(await snapshot(table)).toEqual(before)
      return
    }
    if (expected !== 'allowed') throw new Error(`A write is expected to be allowed or denied, not ${expected}`)

    const before = await snapshot(table)
    if (op === 'insert') {
      const { sql, params } = INSERT[table](seed)
      const rows = await who.query<{ id: unknown }>(sql, params)
      expect(rows).toHaveLength(1)
      const after = await snapshot(table)
      expect(after).toHaveLength(before.length + 1)
      expect(after).toEqual(expect.arrayContaining(before))
      return
    }
    const spare = await spareRow(table)
    const withSpare = await snapshot(table)
    if (op === 'update') {
      const changed = await who.query<Record<string, unknown>>(`${updateSql(table)} returning ${column}`, [spare, value])
      expect(changed).toEqual([{ [column]: value }])
      const [stored] = await coordinator.query(`select ${column} from public.${table} where ${ID[table]} = $1`, [spare])
      expect(stored).toEqual({ [column]: value })
      expect((await snapshot(table)).filter((row) => !withSpare.includes(row))).toHaveLength(1) // only the spare changed
    } else {
      const removed = await who.query<{ id: unknown }>(`${deleteSql(table)} returning ${ID[table]} as id`, [spare])
      expect(removed.map((r) => String(r.id))).toEqual([spare])
      expect(await snapshot(table)).toEqual(before)
    }
  }

  describe('the role matrix', () => {
    for (const table of TABLES) {
      for (const role of ROLES) {
        for (const op of OPS) {
          const expected = EXPECTED[table][role][op]
          it(`public.${table}: ${role} ${op} → ${expected}`, () =>
            op === 'select' ? checkSelect(table, role, expected) : checkWrite(table, role, op, expected))
        }
      }
    }

    for (const [table, person, who] of ALSO_SEEN_BY) {
      it(`public.${table}: ${who} sees it too`, async () => {
        expect(await idsVisibleTo(seed.people[person], table)).toContain(seed.ids[table])
        expect(await idsVisibleTo(seed.people.other, table)).toEqual([])
      })
    }
  })

  describe('the catalog', () => {
    it('the matrix covers every table in public', async () => {
      const tables = await coordinator.query<{ relname: string }>(
        `select c.relname from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
         where n.nspname = 'public' and c.relkind in ('r', 'p') order by c.relname`)
      expect(tables.map((t) => t.relname)).toEqual([...TABLES].sort())
    })

    it('every table in public has row level security enabled', async () => {
      const offenders = (await db.query<{ relname: string }>(
        `select c.relname from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
         where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relrowsecurity order by c.relname`)).rows
      expect(offenders.map((t) => t.relname), 'tables in public without row level security').toEqual([])
    })

    it('every security definer function in public and internal pins search_path to ""', async () => {
      const definers = (await db.query<{ fn: string; pinned: boolean }>(
        `select format('%I.%I(%s)', n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid)) as fn,
                coalesce('search_path=""' = any (p.proconfig), false) as pinned
         from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
         where n.nspname in ('public', 'internal') and p.prosecdef order by 1`)).rows
      expect(definers.length).toBeGreaterThan(0)
      const offenders = definers.filter((d) => !d.pinned).map((d) => d.fn)
      expect(offenders, 'security definer functions without search_path=""').toEqual([])
    })

    it('anon may execute only the read-only public functions', async () => {
      const executable = (await db.query<{ proname: string }>(
        `select p.proname from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
         where n.nspname = 'public' and has_function_privilege('anon', p.oid, 'execute') order by 1`)).rows
      expect(executable.map((f) => f.proname)).toEqual(['marketplace_models', 'network_job_curves', 'network_leaderboard', 'network_stats', 'network_topology'])
    })
  })

  describe('the public network functions', () => {
    // Their own database, so that the counts are exactly what this seed makes.
    let statsDb: Database
    let people: Array<Actor & { userId: string }>
    let job: { id: string }
    let cliWorker: string
    let browserWorker: string
    beforeAll(async () => {
      statsDb = await freshDatabase(backend)
      const statsCoordinator = service(statsDb)
      const creator = await signUp(statsDb)
      const operator = await signUp(statsDb)
      people = [creator, operator]
      job = await runningJob(creator, statsCoordinator, { shards: 3 })
      await creator.rpc('create_job', { p_spec: validSpec(), p_reward_wei: '5000' }) // created, not funded
      cliWorker = await registerWorker(operator, 'stats-cli')
      const [browser] = await operator.rpc<{ id: string }>('register_worker', {
        p_name: 'stats-browser', p_kind: 'browser', p_capabilities: { backend: 'webgpu' },
      })
      browserWorker = browser!.id
      const [first] = await operator.rpc<{ task_id: number }>('claim_task', { p_worker_id: cliWorker })
      await operator.rpc('complete_task', { p_task_id: first!.task_id, p_worker_id: cliWorker, p_result: validResult() })
      await operator.rpc('claim_task', { p_worker_id: cliWorker })
    })
    afterAll(() => statsDb?.close())

    const callAsAnon = async (name: 'network_stats' | 'network_topology') => {
      const [row] = await anon(statsDb).rpc<Record<string, unknown>>(name)
      return row![name] as Record<string, any>
    }

    const expectNothingPrivate = (answer: unknown) =>
      expectPublicSafe(answer, [...people.map((p) => p.userId), 'stats-cli', 'stats-browser', 'MNIST digits', 'webgpu'])

    it('network_stats gives anon the right counts and nothing private', async () => {
      const stats = await callAsAnon('network_stats')
      expect(stats).toMatchObject({
        workers: { registered: 2, online: 2, online_browser: 1, online_cli: 1 },
        tasks: { queued: 1, leased: 1, completed: 1, failed: 0, claims: 2 },
        jobs: { active: 1, running: 1, completed: 0, total: 2 },
      })
      expectNothingPrivate(stats)
    })

    it('network_topology gives anon online workers, active jobs and leases, and nothing private', async () => {
      const topology = await callAsAnon('network_topology')
      expect(topology.workers.map((w: { id: string }) => w.id).sort()).toEqual([cliWorker, browserWorker].sort())
      expect(topology.jobs).toEqual([{ id: job.id, kind: 'training', status: 'running', current_round: 1, rounds: 1, shards: 3 }])
      expect(topology.leases).toEqual([{ worker_id: cliWorker, job_id: job.id, tasks: 1 }])
      expectNothingPrivate(topology)
    })
  })
})
