import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SupabaseClient } from '@supabase/supabase-js'
import { BACKENDS } from '../../support/databases.ts'
import { cidOf, globalModelPath, trainingSpec, validResult } from '../../support/fixtures.ts'
import { startTestGateway, type TestGateway } from '../support/test-gateway.ts'
import { blobBytes } from './storage-fixtures.ts'

// The network's Storage layout and its policies (migration 20261122001000), through the official
// supabase-js against the gateway, as workers, job owners and the coordinator use them:
//   artifacts  jobs/<job>/rounds/<n>/global.obw (coordinator), jobs/<job>/updates/<task>/<cid>.obw
//              (the lease holder), jobs/<job>/model/… (coordinator); the owner reads all of it, the
//              job's workers only rounds/ (the global models)
//   datasets   <user>/… (each user's own folder); a leased job's CSV is readable by its workers

type User = Awaited<ReturnType<TestGateway['createUser']>>

const RLS = { statusCode: '403', message: 'new row violates row-level security policy' }
const NOT_FOUND = { statusCode: '404', message: 'Object not found' }

async function rpc<T>(client: SupabaseClient, fn: string, args: Record<string, unknown>): Promise<T> {
  const { data, error } = await client.rpc(fn, args)
  if (error) throw new Error(`${fn}: ${error.message}`)
  return data as T
}

interface Claim {
  task_id: number
  job_id: string
}

describe.each(BACKENDS)('the network\'s storage policies (%s)', (backend) => {
  let gw: TestGateway
  let coordinator: SupabaseClient
  let owner: User
  let operator: User
  let stranger: User
  let operatorWorker: string
  let strangerWorker: string

  beforeAll(async () => {
    gw = await startTestGateway(backend)
    coordinator = gw.serviceClient()
    owner = await gw.createUser()
    operator = await gw.createUser()
    stranger = await gw.createUser()
    operatorWorker = (await rpc<{ id: string }>(operator.client, 'register_worker', { p_name: 'op', p_kind: 'cli' })).id
    strangerWorker = (await rpc<{ id: string }>(stranger.client, 'register_worker', { p_name: 'st', p_kind: 'browser' })).id
  })
  afterAll(() => gw?.close())

  /** A funded job of the owner's, round 1 started from weights the coordinator uploaded. */
  async function runningJob(spec: Record<string, unknown> = trainingSpec({ rounds: 1, shards: 3 }), by: User = owner) {
    const job = await rpc<{ id: string }>(by.client, 'create_job', { p_spec: spec, p_reward_wei: '1000' })
    await rpc(coordinator, 'fund_job_without_escrow', { p_job_id: job.id })
    const weights = `initial weights of ${job.id}`
    const upload = await coordinator.storage.from('artifacts').upload(globalModelPath(job.id, 1), weights)
    expect(upload.error).toBeNull()
    await rpc(coordinator, 'start_round', {
      p_job_id: job.id, p_global_model_cid: cidOf(weights), p_global_model_path: globalModelPath(job.id, 1),
    })
    return { jobId: job.id, weights }
  }

  const claim = async (user: User, workerId: string) => (await rpc<Claim[]>(user.client, 'claim_task', { p_worker_id: workerId }))[0]!
  const updateKey = (jobId: string, taskId: number, bytes: string) => `jobs/${jobId}/updates/${taskId}/${cidOf(bytes)}.obw`
  const fail = (jobId: string) => rpc(coordinator, 'fail_job', { p_job_id: jobId, p_reason: 'test over' })

  describe('updates (artifacts/jobs/<job>/updates/<task>/<cid>.obw)', () => {
    it('the worker holding the lease uploads its update; the same update again is a 409 (already there)', async () => {
      const { jobId } = await runningJob()
      const held = await claim(operator, operatorWorker)
      const key = updateKey(jobId, held.task_id, 'update bytes')
      const up = await operator.client.storage.from('artifacts').upload(key, 'update bytes')
      expect(up.error).toBeNull()
      expect(up.data).toMatchObject({ path: key })
      expect((await operator.client.storage.from('artifacts').upload(key, 'update bytes')).error)
        .toMatchObject({ statusCode: '409', message: 'The resource already exists' })
      // The coordinator reads it to aggregate.
      expect((await blobBytes((await coordinator.storage.from('artifacts').download(key)).data)).toString()).toBe('update bytes')
      await fail(jobId)
    })

    it('refuses another worker, the job owner and anon on a task they do not hold', async () => {
      const { jobId } = await runningJob()
      const held = await claim(operator, operatorWorker)
      await claim(stranger, strangerWorker) // the stranger works on the same job, on another task
      const key = updateKey(jobId, held.task_id, 'forged')
      expect((await stranger.client.storage.from('artifacts').upload(key, 'forged')).error).toMatchObject(RLS)
      expect((await owner.client.storage.from('artifacts').upload(key, 'forged')).error).toMatchObject(RLS)
      expect((await gw.anonClient().storage.from('artifacts').upload(key, 'forged')).error).toMatchObject(RLS)
      const { rows } = await gw.db.query(`select 1 from storage.objects where bucket_id = 'artifacts' and name = $1`, [key])
      expect(rows).toEqual([])
      await fail(jobId)
    })

    it('refuses the worker once its lease is gone: expired, or the task completed', async () => {
      const { jobId } = await runningJob()
      const expired = await claim(operator, operatorWorker)
      await gw.db.query(`update public.tasks set lease_expires_at = now() - interval '1 second' where id = $1`, [expired.task_id])
      expect((await operator.client.storage.from('artifacts').upload(updateKey(jobId, expired.task_id, 'late'), 'late')).error).toMatchObject(RLS)

      const done = await claim(operator, operatorWorker)
      await rpc(operator.client, 'complete_task', { p_task_id: done.task_id, p_worker_id: operatorWorker, p_result: validResult() })
      expect((await operator.client.storage.from('artifacts').upload(updateKey(jobId, done.task_id, 'after'), 'after')).error).toMatchObject(RLS)
      await fail(jobId)
    })

    it('refuses names outside the layout, even to the lease holder', async () => {
      const { jobId } = await runningJob()
      const held = await claim(operator, operatorWorker)
      const cid = cidOf('x')
      for (const key of [
        `jobs/${jobId}/updates/${held.task_id}/not-a-cid.obw`,
        `jobs/${jobId}/updates/${held.task_id}/${cid}.bin`,
        `jobs/${jobId}/updates/${held.task_id}/extra/${cid}.obw`,
        `jobs/${jobId}/rounds/2/global.obw`,
        `jobs/${jobId}/model/onnx/model.onnx`,
        `jobs/${jobId.toUpperCase()}/updates/${held.task_id}/${cid}.obw`,
        `jobs/${jobId}/updates/0${held.task_id}/${cid}.obw`,
        `jobs/00000000-0000-4000-8000-000000000000/updates/${held.task_id}/${cid}.obw`,
      ]) {
        expect((await operator.client.storage.from('artifacts').upload(key, 'x')).error, key).toMatchObject(RLS)
      }
      await fail(jobId)
    })

    it('lets no user overwrite or remove an uploaded update', async () => {
      const { jobId } = await runningJob()
      const held = await claim(operator, operatorWorker)
      const key = updateKey(jobId, held.task_id, 'original')
      const bucket = operator.client.storage.from('artifacts')
      expect((await bucket.upload(key, 'original')).error).toBeNull()
      expect((await bucket.upload(key, 'replaced', { upsert: true })).error).not.toBeNull()
      expect((await bucket.update(key, 'replaced')).error).not.toBeNull()
      expect((await bucket.remove([key])).data).toEqual([])
      expect((await owner.client.storage.from('artifacts').remove([key])).data).toEqual([])
      expect((await blobBytes((await coordinator.storage.from('artifacts').download(key)).data)).toString()).toBe('original')
      await fail(jobId)
    })
  })

  describe('reading a job\'s artifacts', () => {
    it('the owner and the job\'s workers download the round\'s global model; strangers and anon cannot', async () => {
      const { jobId, weights } = await runningJob()
      const key = globalModelPath(jobId, 1)
      await claim(operator, operatorWorker) // a lease: the operator now works on the job
      for (const reader of [owner, operator]) {
        const down = await reader.client.storage.from('artifacts').download(key)
        expect((await blobBytes(down.data)).toString()).toBe(weights)
      }
      expect((await stranger.client.storage.from('artifacts').download(key)).error).toMatchObject(NOT_FOUND)
      expect((await gw.anonClient().storage.from('artifacts').download(key)).error).toMatchObject(NOT_FOUND)
      expect((await stranger.client.storage.from('artifacts').list(`jobs/${jobId}/rounds/1`)).data).toEqual([])
      expect((await operator.client.storage.from('artifacts').list(`jobs/${jobId}/rounds/1`)).data?.map((o) => o.name)).toEqual(['global.obw'])
      await fail(jobId)
    })

    it('a worker that delivered keeps reading the global models, but neither updates nor the finished model', async () => {
      const { jobId, weights } = await runningJob(trainingSpec({ rounds: 1, shards: 1 }))
      const done = await claim(operator, operatorWorker)
      const update = updateKey(jobId, done.task_id, 'my update')
      expect((await operator.client.storage.from('artifacts').upload(update, 'my update')).error).toBeNull()
      await rpc(operator.client, 'complete_task', { p_task_id: done.task_id, p_worker_id: operatorWorker, p_result: validResult() })
      const modelKey = `jobs/${jobId}/model/onnx/model.onnx`
      expect((await coordinator.storage.from('artifacts').upload(modelKey, 'onnx bytes')).error).toBeNull()
      expect((await blobBytes((await operator.client.storage.from('artifacts').download(globalModelPath(jobId, 1))).data)).toString()).toBe(weights)
      // Updates reveal more about a shard than the average: only the job's owner (and the coordinator) read them.
      expect((await operator.client.storage.from('artifacts').download(update)).error).toMatchObject(NOT_FOUND)
      expect((await operator.client.storage.from('artifacts').download(modelKey)).error).toMatchObject(NOT_FOUND)
      expect((await blobBytes((await owner.client.storage.from('artifacts').download(update)).data)).toString()).toBe('my update')
      expect((await blobBytes((await owner.client.storage.from('artifacts').download(modelKey)).data)).toString()).toBe('onnx bytes')
      expect((await stranger.client.storage.from('artifacts').download(modelKey)).error).toMatchObject(NOT_FOUND)
      await fail(jobId)
    })
  })

  describe('datasets (datasets/<user>/…)', () => {
    const csvSpec = (path: string) => ({
      ...trainingSpec({ rounds: 1, shards: 2 }),
      dataset: { source: 'csv', bucket: 'datasets', path, featureColumns: ['bill_length'], labelColumn: 'species' },
    })

    it('each user uploads, reads, replaces and deletes in their own folder only', async () => {
      const mine = owner.client.storage.from('datasets')
      const key = `${owner.userId}/notes.csv`
      expect((await mine.upload(key, 'a,b\n1,2\n')).error).toBeNull()
      expect((await blobBytes((await mine.download(key)).data)).toString()).toBe('a,b\n1,2\n')
      expect((await mine.update(key, 'a,b\n3,4\n')).error).toBeNull()
      expect((await mine.upload(key, 'a,b\n5,6\n', { upsert: true })).error).toBeNull()
      expect((await blobBytes((await mine.download(key)).data)).toString()).toBe('a,b\n5,6\n')

      const theirs = stranger.client.storage.from('datasets')
      expect((await theirs.download(key)).error).toMatchObject(NOT_FOUND)
      expect((await theirs.upload(`${owner.userId}/planted.csv`, 'x')).error).toMatchObject(RLS)
      expect((await theirs.update(key, 'x')).error).toMatchObject({ statusCode: '404' })
      expect((await theirs.remove([key])).data).toEqual([])
      expect((await gw.anonClient().storage.from('datasets').download(key)).error).toMatchObject(NOT_FOUND)

      expect((await mine.remove([key])).data).toHaveLength(1)
      expect((await mine.download(key)).error).toMatchObject(NOT_FOUND)
    })

    it('a worker holding a lease on a running CSV job reads its data set, until the lease ends', async () => {
      const key = `${owner.userId}/penguins.csv`
      expect((await owner.client.storage.from('datasets').upload(key, 'bill_length,species\n39.1,Adelie\n')).error).toBeNull()
      const other = `${owner.userId}/other.csv`
      expect((await owner.client.storage.from('datasets').upload(other, 'x\n')).error).toBeNull()
      const datasets = operator.client.storage.from('datasets')
      expect((await datasets.download(key)).error).toMatchObject(NOT_FOUND) // no lease yet

      const { jobId } = await runningJob(csvSpec(key))
      const held = await claim(operator, operatorWorker)
      expect((await blobBytes((await datasets.download(key)).data)).toString()).toContain('Adelie')
      expect((await datasets.download(other)).error).toMatchObject(NOT_FOUND) // only the job's file
      expect((await stranger.client.storage.from('datasets').download(key)).error).toMatchObject(NOT_FOUND)

      await rpc(operator.client, 'complete_task', { p_task_id: held.task_id, p_worker_id: operatorWorker, p_result: validResult() })
      expect((await datasets.download(key)).error).toMatchObject(NOT_FOUND)
      await fail(jobId)
    })

    it('a job cannot point its workers at a file outside its owner\'s folder', async () => {
      const victimKey = `${stranger.userId}/private.csv`
      expect((await stranger.client.storage.from('datasets').upload(victimKey, 'secret,label\n1,a\n')).error).toBeNull()
      // The operator posts a job on the stranger's file and trains it with their own worker.
      const { jobId } = await runningJob(csvSpec(victimKey), operator)
      const held = await claim(operator, operatorWorker)
      expect(held.job_id).toBe(jobId)
      expect((await operator.client.storage.from('datasets').download(victimKey)).error).toMatchObject(NOT_FOUND)
      await fail(jobId)
    })
  })
})
