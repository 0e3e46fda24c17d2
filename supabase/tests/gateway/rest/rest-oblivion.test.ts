import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS } from '../../support/databases.ts'
import { SAMPLE_CID, validResult, validSpec } from '../../support/fixtures.ts'
import { startTestGateway, type TestGateway } from '../support/test-gateway.ts'

type User = Awaited<ReturnType<TestGateway['createUser']>>

/** Oblivion's own tables and RPCs through supabase-js: RLS keeps users apart, the claim cycle works. */
describe.each(BACKENDS)('REST on the Oblivion schema (%s)', (backend) => {
  let gw: TestGateway
  let a: User
  let b: User
  let workerA: string
  let jobA: string

  beforeAll(async () => {
    gw = await startTestGateway(backend)
    a = await gw.createUser()
    b = await gw.createUser()
    const worker = await a.client.rpc('register_worker', { p_name: 'a-cli', p_kind: 'cli' })
    expect(worker.error).toBeNull()
    workerA = (worker.data as { id: string }).id
    const spec = validSpec()
    Object.assign(spec.training as object, { shards: 2, rounds: 1 })
    const job = await a.client.rpc('create_job', { p_spec: spec, p_reward_wei: '1000' })
    expect(job.error).toBeNull()
    jobA = (job.data as { id: string }).id
  })
  afterAll(() => gw?.close())

  it('returns what register_worker and create_job return: one object each', async () => {
    const { data } = await a.client.from('workers').select('id, name, kind, owner_id').single()
    expect(data).toEqual({ id: workerA, name: 'a-cli', kind: 'cli', owner_id: a.userId })
    const job = await a.client.from('jobs').select('id, status, shards, reward_wei').eq('id', jobA).single()
    expect(job.data).toEqual({ id: jobA, status: 'created', shards: 2, reward_wei: '1000' })
  })

  it("never shows user B user A's workers or jobs", async () => {
    const workerB = await b.client.rpc('register_worker', { p_name: 'b-cli', p_kind: 'cli' })
    expect(workerB.error).toBeNull()
    const workers = await b.client.from('workers').select('id, owner_id')
    expect(workers.data).toEqual([{ id: (workerB.data as { id: string }).id, owner_id: b.userId }])
    expect((await b.client.from('jobs').select()).data).toEqual([])
    expect((await b.client.from('workers').select().eq('id', workerA)).data).toEqual([])
    const single = await b.client.from('jobs').select().eq('id', jobA).single()
    expect(single.status).toBe(406)
  })

  it('refuses client writes to the tables: 403 for a user, 401 for anon (only SELECT is granted)', async () => {
    const update = await b.client.from('workers').update({ name: 'stolen' }).eq('id', workerA)
    expect(update.status).toBe(403)
    expect(update.error!.code).toBe('42501')
    const own = await a.client.from('jobs').update({ status: 'funded' }).eq('id', jobA)
    expect(own.status).toBe(403)
    const anon = gw.anonClient()
    const anonRead = await anon.from('workers').select()
    expect(anonRead.status).toBe(401)
    expect(anonRead.error!.code).toBe('42501')
    const anonRpc = await anon.rpc('create_job', { p_spec: validSpec(), p_reward_wei: '1' })
    expect(anonRpc.status).toBe(401)
    expect((await gw.serviceClient().from('workers').select('id, name', { count: 'exact' })).count).toBe(2)
  })

  it("answers the RPCs' own errors with their SQLSTATE and 400", async () => {
    const { error, status } = await b.client.rpc('claim_task', { p_worker_id: workerA })
    expect(status).toBe(400)
    expect(error!.code).toBe('OB010')
    expect(error!.hint).toMatch(/register_worker/)
    const badSpec = await a.client.rpc('create_job', { p_spec: validSpec({ version: 2 }), p_reward_wei: '1000' })
    expect(badSpec.status).toBe(400)
    expect(badSpec.error!.code).toBe('OB003')
  })

  it('runs the claim cycle: fund, enqueue, claim, complete', async () => {
    const service = gw.serviceClient()
    const funded = await service.from('jobs').update({ status: 'funded' }).eq('id', jobA).select('status').single()
    expect(funded.data).toEqual({ status: 'funded' })
    const round = await service.rpc('enqueue_round', { p_job_id: jobA })
    expect(round.error).toBeNull()
    expect(round.data).toBe(2)

    const claimed = await a.client.rpc('claim_task', { p_worker_id: workerA })
    expect(claimed.error).toBeNull()
    const tasks = claimed.data as Array<{ task_id: number; job_id: string; round: number; shard_count: number; spec: { version: number } }>
    expect(tasks).toHaveLength(1)
    expect(tasks[0]).toMatchObject({ job_id: jobA, round: 1, shard_count: 2, spec: { version: 1 } })
    expect(typeof tasks[0]!.task_id).toBe('number')

    const done = await a.client.rpc('complete_task', { p_task_id: tasks[0]!.task_id, p_worker_id: workerA, p_result: validResult() })
    expect(done.error).toBeNull()
    expect(done.data).toMatchObject({ id: tasks[0]!.task_id, status: 'completed' })
    const results = await a.client.from('task_results').select('task_id, artifact_cid, sample_count, metrics')
    expect(results.data).toEqual([{ task_id: tasks[0]!.task_id, artifact_cid: SAMPLE_CID, sample_count: 100, metrics: { loss: 0.5 } }])
    const embedded = await a.client.from('tasks').select('id, status, jobs(status)').eq('id', tasks[0]!.task_id).single()
    expect(embedded.data).toEqual({ id: tasks[0]!.task_id, status: 'completed', jobs: { status: 'running' } })
  })
})
