import * as tf from '@tensorflow/tfjs'
import { contentId, decodeWeights, encodeWeights, epsilonForSteps, MlpParameters, parseJobSpec, prepareJobData, stepsPerEpoch, useBackend } from '@oblivion/model'
import * as ort from 'onnxruntime-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { NetworkProcess } from '../../../sample_job/src/local-processes.ts'
import { TrainingNetwork } from './support/training-network.ts'

/**
 * The acceptance run of issue 4: the sample MNIST jobs trained by two `oblivion worker`
 * processes through the gateway, driven by an `oblivion coordinator` process.
 */
let network: TrainingNetwork
let workers: NetworkProcess[]

beforeAll(async () => {
  await useBackend('wasm') // this process compares the published models with the aggregated weights
  network = await TrainingNetwork.start()
  network.coordinator()
  workers = [network.worker('worker-a'), network.worker('worker-b')]
  await Promise.all(workers.map((w) => w.waitFor((line) => line.type === 'registered', 60_000)))
})

afterAll(async () => {
  await network?.close()
})

interface ResultRow {
  task_id: number
  round: number
  shard_index: number
  worker_id: string
  leased_by: string
  sample_count: number
  epsilon_spent: number | null
  metrics: { steps: number; noise_multiplier?: number }
  artifact_path: string
  object_owner: string | null
  worker_owner: string
}

async function download(path: string): Promise<Uint8Array> {
  const { data, error } = await network.gateway.serviceClient().storage.from('artifacts').download(path)
  if (error || !data) throw new Error(`download ${path}: ${error?.message}`)
  return new Uint8Array(await data.arrayBuffer())
}

async function results(jobId: string): Promise<ResultRow[]> {
  const { rows } = await network.gateway.db.query<ResultRow>(
    `select r.task_id, r.round, t.shard_index, r.worker_id, t.leased_by, r.sample_count, r.epsilon_spent, r.metrics,
            r.artifact_path, o.owner::text as object_owner, w.owner_id::text as worker_owner
       from public.task_results r
       join public.tasks t on t.id = r.task_id
       join public.workers w on w.id = r.worker_id
       left join storage.objects o on o.bucket_id = 'artifacts' and 'artifacts/' || o.name = r.artifact_path
      where r.job_id = $1 order by r.round, t.shard_index`,
    [jobId],
  )
  return rows
}

describe('distributed training on the local network', () => {
  it('trains the non-private MNIST sample job with two workers to ≥ 0.94 held-out accuracy', async () => {
    const { jobId } = await network.createJob('sample_job/jobs/mnist-nonprivate.json')
    const job = await network.waitForJobEnd(jobId, 280_000)
    expect(job.status_reason ?? '').not.toMatch(/failed|cannot/)
    expect(job.status).toBe('completed')

    const { rows: rounds } = await network.gateway.db.query<{ round: number; test_accuracy: number; epsilon_spent: number | null }>(
      'select round, test_accuracy, epsilon_spent from public.job_rounds where job_id = $1 order by round',
      [jobId],
    )
    expect(rounds.map((r) => r.round)).toEqual([1, 2, 3, 4, 5])
    expect(rounds.at(-1)!.test_accuracy).toBeGreaterThanOrEqual(0.94)
    expect(rounds.every((r) => r.epsilon_spent === null)).toBe(true)

    const delivered = await results(jobId)
    expect(delivered).toHaveLength(20) // 5 rounds × 4 shards
    // Shards were trained by both workers, and every update came from the lease holder, was
    // stored by that worker's own user, and sits where the task's policy allows.
    expect(new Set(delivered.map((r) => r.worker_id)).size).toBe(2)
    for (const result of delivered) {
      expect(result.worker_id).toBe(result.leased_by)
      expect(result.object_owner).toBe(result.worker_owner)
      expect(result.artifact_path).toBe(`artifacts/jobs/${jobId}/updates/${result.task_id}/${result.artifact_path.split('/').pop()}`)
    }

    const { rows: models } = await network.gateway.db.query<{ artifacts: Record<string, { files: unknown[] }>; epsilon: number | null; metrics: { test_accuracy: number } }>(
      'select artifacts, epsilon, metrics from public.models where job_id = $1',
      [jobId],
    )
    expect(Object.keys(models[0]!.artifacts).sort()).toEqual(['h5', 'onnx', 'pkl', 'pt', 'tfjs'])
    expect(models[0]!.epsilon).toBeNull()
    expect(models[0]!.metrics.test_accuracy).toBeGreaterThanOrEqual(0.94)

    // The published TF.js and ONNX files predict what the aggregated weights predict, on the
    // 1,000 held-out digits.
    const spec = parseJobSpec((await network.gateway.db.query<{ spec: unknown }>('select spec from public.jobs where id = $1', [jobId])).rows[0]!.spec)
    const test = (await prepareJobData(spec, jobId, { readObject: () => Promise.reject(new Error('builtin data set')) })).test
    expect(test.count).toBe(1000)
    const final = new MlpParameters(decodeWeights(await download(`jobs/${jobId}/rounds/6/global.obw`)).weights)
    const x = tf.tensor2d(test.features, [test.count, 784])
    const expected = Array.from(await final.predict(x).argMax(1).data())
    const files = Object.fromEntries(
      await Promise.all(Object.values(models[0]!.artifacts).flatMap((a) => a.files as { name: string; path: string }[]).map(async (f) => [f.name, await download(f.path)] as const)),
    )
    const manifest = JSON.parse(new TextDecoder().decode(files['model.json'])) as { modelTopology: object; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] }
    const weightData = files['weights.bin']!.slice().buffer
    const tfjsModel = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: manifest.modelTopology, weightSpecs: manifest.weightsManifest[0]!.weights, weightData }))
    expect(Array.from(await (tfjsModel.predict(x) as tf.Tensor).argMax(1).data())).toEqual(expected)
    const session = await ort.InferenceSession.create(files['model.onnx']!)
    const output = await session.run({ input: new ort.Tensor('float32', test.features, [test.count, 784]) })
    const probabilities = output.probabilities!.data as Float32Array
    const onnxArgmax = Array.from({ length: test.count }, (_, i) => {
      const row = probabilities.subarray(i * 10, i * 10 + 10)
      return row.indexOf(Math.max(...row))
    })
    expect(onnxArgmax).toEqual(expected)
    final.dispose()
  }, 300_000)

  it('with DP-SGD records the ε the accountant gives for the steps each shard actually ran', async () => {
    const { jobId } = await network.createJob('sample_job/jobs/mnist.json', (spec) => {
      spec.training.rounds = 2
      spec.training.localEpochs = 1
    })
    const job = await network.waitForJobEnd(jobId, 280_000)
    expect(job.status).toBe('completed')

    const spec = parseJobSpec((await network.gateway.db.query<{ spec: unknown }>('select spec from public.jobs where id = $1', [jobId])).rows[0]!.spec)
    const data = await prepareJobData(spec, jobId, { readObject: () => Promise.reject(new Error('builtin data set')) })
    const delivered = await results(jobId)
    expect(delivered).toHaveLength(8)
    // Per shard: steps summed over the rounds it was trained in, at q = B / n_shard.
    const epsilons = [0, 1, 2, 3].map((shard) => {
      const mine = delivered.filter((r) => r.shard_index === shard)
      const n = data.shardSizes[shard]!
      const steps = mine.reduce((sum, r) => sum + r.metrics.steps, 0)
      expect(mine.every((r) => r.metrics.steps === stepsPerEpoch(n, 64) && r.metrics.noise_multiplier === 1)).toBe(true)
      const expected = epsilonForSteps({ sampleRate: 64 / n, noiseMultiplier: 1, steps, delta: 1e-5 }).epsilon
      // What the worker reported after its last round is the accountant's value for all its steps.
      expect(mine.at(-1)!.epsilon_spent).toBeCloseTo(expected, 9)
      return expected
    })
    const modelEpsilon = Math.max(...epsilons)
    expect(job.privacy_epsilon_spent).toBeCloseTo(modelEpsilon, 9)
    const { rows: models } = await network.gateway.db.query<{ epsilon: number; delta: number }>('select epsilon, delta from public.models where job_id = $1', [jobId])
    expect(models[0]!.epsilon).toBeCloseTo(modelEpsilon, 9)
    expect(models[0]!.delta).toBe(1e-5)
    expect(modelEpsilon).toBeGreaterThan(0.1)
  }, 300_000)

  it('refuses an update with NaN weights: the shard goes back to the queue and an honest worker retrains it', async () => {
    // Pause the honest workers so that the impostor gets a task of the new job.
    for (const worker of workers) worker.child.kill('SIGSTOP')
    let jobId: string
    let taskId: number
    try {
      ;({ jobId } = await network.createJob('sample_job/jobs/mnist-nonprivate.json', (spec) => {
        spec.training.rounds = 1
        spec.training.localEpochs = 1
      }))
      const mallory = await network.gateway.createUser()
      const { data: worker } = await mallory.client.rpc('register_worker', { p_name: 'mallory', p_kind: 'cli', p_capabilities: {} })
      const workerId = (worker as { id: string }).id
      let task: { task_id: number; job_id: string } | undefined
      for (let tries = 0; !task && tries < 100; tries++) {
        const { data } = await mallory.client.rpc('claim_task', { p_worker_id: workerId, p_lease_seconds: 60 })
        task = (data as { task_id: number; job_id: string }[])[0]
        if (!task) await new Promise((resolve) => setTimeout(resolve, 200))
      }
      expect(task?.job_id).toBe(jobId)
      taskId = task!.task_id
      const globalBytes = await mallory.client.storage.from('artifacts').download(`jobs/${jobId}/rounds/1/global.obw`)
      const { weights } = decodeWeights(new Uint8Array(await globalBytes.data!.arrayBuffer()))
      weights.layers[0]!.kernel[42] = Number.NaN
      const bytes = encodeWeights(weights)
      const cid = await contentId(bytes)
      const path = `jobs/${jobId}/updates/${taskId}/${cid}.obw`
      expect((await mallory.client.storage.from('artifacts').upload(path, bytes)).error).toBeNull()
      const { error } = await mallory.client.rpc('complete_task', {
        p_task_id: taskId,
        p_worker_id: workerId,
        p_result: { artifact_cid: cid, artifact_path: `artifacts/${path}`, sample_count: 2250 },
      })
      expect(error).toBeNull()
    } finally {
      for (const worker of workers) worker.child.kill('SIGCONT')
    }
    const job = await network.waitForJobEnd(jobId, 280_000)
    expect(job.status).toBe('completed')
    const { rows } = await network.gateway.db.query<{ attempts: number; last_error: string; worker_name: string }>(
      `select t.attempts, t.last_error, w.name as worker_name
         from public.tasks t join public.task_results r on r.id = t.result_id join public.workers w on w.id = r.worker_id
        where t.id = $1`,
      [taskId],
    )
    expect(rows[0]!.attempts).toBe(2)
    expect(rows[0]!.last_error).toMatch(/rejected.*NaN/i)
    expect(rows[0]!.worker_name).not.toBe('mallory')
  }, 300_000)

  it('fails a job whose CSV data set cannot be read, saying which file and why', async () => {
    const { jobId } = await network.createJob('sample_job/jobs/iris-csv.json', (spec) => {
      spec.dataset.path = 'nobody/iris.csv'
    })
    const job = await network.waitForJobEnd(jobId, 60_000)
    expect(job.status).toBe('failed')
    expect(job.status_reason).toMatch(/cannot start.*datasets\/nobody\/iris\.csv/)
  }, 120_000)

  it('re-leases the shard of a worker killed with SIGKILL mid-round, and the job completes', async () => {
    const { jobId } = await network.createJob('sample_job/jobs/mnist-nonprivate.json', (spec) => {
      spec.training.rounds = 2
      spec.training.localEpochs = 3
    })
    const victim = workers[1]!
    const claim = (await victim.waitFor((line) => line.type === 'claimed' && (line.task as { jobId: string }).jobId === jobId, 120_000)) as {
      task: { taskId: number }
    }
    const claimed = claim.task
    // Killed while training, holding the lease: nobody gives the task back.
    await victim.waitFor((line) => line.type === 'progress' && line.taskId === claimed.taskId && line.phase === 'train', 120_000)
    victim.child.kill('SIGKILL')
    await victim.exited

    const job = await network.waitForJobEnd(jobId, 280_000)
    expect(job.status).toBe('completed')
    const { rows } = await network.gateway.db.query<{ attempts: number; last_error: string | null; result_worker: string; victim_worker: string }>(
      `select t.attempts, t.last_error, r.worker_id::text as result_worker, victim.id::text as victim_worker
         from public.tasks t
         join public.task_results r on r.task_id = t.id
         join public.workers victim on victim.name = 'worker-b'
        where t.id = $1`,
      [claimed.taskId],
    )
    const task = rows[0]!
    expect(task.attempts).toBeGreaterThanOrEqual(2)
    expect(task.last_error).toMatch(/lease/i)
    expect(task.result_worker).not.toBe(task.victim_worker)
  }, 300_000)

  it('Ctrl-C twice gives a running task back with the reason and exits 130; the job still completes', async () => {
    const leaver = network.worker('worker-c')
    await leaver.waitFor((line) => line.type === 'registered', 60_000)
    const { jobId } = await network.createJob('sample_job/jobs/mnist-nonprivate.json', (spec) => {
      spec.training.rounds = 1
      spec.training.localEpochs = 4
    })
    const claim = (await leaver.waitFor((line) => line.type === 'claimed' && (line.task as { jobId: string }).jobId === jobId, 120_000)) as {
      task: { taskId: number }
    }
    await leaver.waitFor((line) => line.type === 'progress' && line.taskId === claim.task.taskId && line.phase === 'train', 120_000)
    leaver.child.kill('SIGINT')
    await leaver.waitFor((line) => line.type === 'draining', 30_000)
    leaver.child.kill('SIGINT')
    const released = await leaver.waitFor((line) => line.type === 'released', 30_000)
    expect(released.taskIds).toContain(claim.task.taskId)
    expect(await leaver.exited).toBe(130)

    const job = await network.waitForJobEnd(jobId, 280_000)
    expect(job.status).toBe('completed')
    const { rows } = await network.gateway.db.query<{ attempts: number; last_error: string }>('select attempts, last_error from public.tasks where id = $1', [
      claim.task.taskId,
    ])
    expect(rows[0]!.attempts).toBe(2)
    expect(rows[0]!.last_error).toMatch(/second Ctrl-C/)
  }, 300_000)
})
