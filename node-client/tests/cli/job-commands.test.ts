import { readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { contentId } from '../../../model/src/codec/content-id.ts'
import { startTestGateway, type TestGateway } from '../../../supabase/tests/gateway/support/test-gateway.ts'
import { jsonLines, REPO_ROOT, runCli, startCli, tempDir, validSpec, writeJson } from '../support/run-cli.ts'

/** A CIDv1 (base32, raw, sha-256) shaped string, as start_round requires for the global weights. */
const SAMPLE_CID = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'

type Line = ReturnType<typeof jsonLines>[number]

/**
 * The job commands against a real local network: the gateway (PGlite) in this process, the CLI as
 * a child process with its own --home (gateway.json as `npm start` writes it) and --url, talking
 * through the official supabase-js. The coordinator's steps are played here with its RPCs.
 */
describe('oblivion job create / status / status --watch against a local gateway', () => {
  let gw: TestGateway
  let home: { dir: string; remove: () => Promise<void> }
  let base: string[]
  let specFile: string
  let jobId: string
  let ownerId: string

  beforeAll(async () => {
    gw = await startTestGateway('pglite')
    home = await tempDir('oblivion-cli-home-')
    const { jwtSecret, anonKey, serviceRoleKey } = gw.keys
    await writeFile(path.join(home.dir, 'gateway.json'), JSON.stringify({ jwtSecret, anonKey, serviceRoleKey }), { mode: 0o600 })
    base = ['--home', home.dir, '--url', gw.url]
    specFile = await writeJson(path.join(home.dir, 'spec.json'), validSpec())
  })
  afterAll(async () => {
    await gw?.close()
    await home?.remove()
  })

  it('job create signs in, creates the job and prints its id as a JSON line', async () => {
    const { code, stdout, stderr } = await runCli([...base, 'job', 'create', specFile, '--reward-wei', '5000'])
    expect(stderr).toBe('')
    expect(code).toBe(0)
    const [created, ...rest] = jsonLines(stdout)
    expect(rest).toEqual([])
    expect(created).toMatchObject({ type: 'job-created', status: 'created', rounds: 2, shards: 3, rewardWei: '5000', dataset: null })
    jobId = created!.id as string
    ownerId = created!.ownerId as string
    expect(jobId).toMatch(/^[0-9a-f-]{36}$/)
    const { data } = await gw.serviceClient().from('jobs').select('owner_id, status, reward_wei').eq('id', jobId).single()
    expect(data).toEqual({ owner_id: ownerId, status: 'created', reward_wei: '5000' })
  })

  it('keeps the identity in <home>/credentials/cli.json (0600) and uses it again next time', async () => {
    const file = path.join(home.dir, 'credentials', 'cli.json')
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect(await readFile(file, 'utf8')).toContain('refresh_token')
    const again = await runCli([...base, 'job', 'create', specFile])
    expect(again.code).toBe(0)
    expect(jsonLines(again.stdout)[0]).toMatchObject({ type: 'job-created', ownerId, rewardWei: '1000000000000000000' })
  })

  it('job status --json shows the job as created, with no tasks and no rounds yet', async () => {
    const { code, stdout } = await runCli([...base, 'job', 'status', jobId, '--json'])
    expect(code).toBe(0)
    const [status] = jsonLines(stdout)
    const none = { queued: 0, leased: 0, completed: 0, failed: 0, cancelled: 0 }
    expect(status).toMatchObject({
      type: 'job-status',
      id: jobId,
      name: 'MNIST digits',
      status: 'created',
      round: 0,
      rounds: 2,
      shards: 3,
      epsilonSpent: 0,
      rewardWei: '5000',
      tasks: { round: none, total: none },
      roundMetrics: [],
    })
  })

  it('job status of a job that is not yours says so and exits 1', async () => {
    const { code, stderr } = await runCli([...base, 'job', 'status', '00000000-0000-4000-8000-000000000000'])
    expect(code).toBe(1)
    expect(JSON.parse(stderr.trim())).toMatchObject({ code: 'CLI_NOT_FOUND' })
  })

  it('job status --watch prints each change live and exits 1 when the job fails', async () => {
    const child = startCli([...base, 'job', 'status', jobId, '--watch'])
    const lines: Line[] = []
    let stderr = ''
    let buffered = ''
    const waiters: Array<{ test: (line: Line) => boolean; resolve: (line: Line) => void }> = []
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk
      const complete = buffered.split('\n')
      buffered = complete.pop() ?? ''
      for (const text of complete.filter((t) => t.trim())) {
        const line = JSON.parse(text) as Line
        lines.push(line)
        for (const waiter of [...waiters]) {
          if (!waiter.test(line)) continue
          waiters.splice(waiters.indexOf(waiter), 1)
          waiter.resolve(line)
        }
      }
    })
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
    const next = (test: (line: Line) => boolean, what: string) => {
      const seen = lines.find(test)
      if (seen) return Promise.resolve(seen)
      return new Promise<Line>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${what} within 30 s; lines: ${JSON.stringify(lines)}; stderr: ${stderr}`)), 30_000)
        waiters.push({
          test,
          resolve: (line) => {
            clearTimeout(timer)
            resolve(line)
          },
        })
      })
    }
    const change = (table: string, test: (row: Record<string, unknown>) => boolean) => (line: Line) =>
      line.type === 'change' && line.table === table && test(line.row as Record<string, unknown>)

    try {
      expect(await next((l) => l.type === 'job-status', 'first snapshot')).toMatchObject({ status: 'created' })
      await next((l) => l.type === 'subscribed', 'subscription')

      const service = gw.serviceClient()
      const rpc = async (name: string, args: Record<string, unknown>) => {
        const { error } = await service.rpc(name, args)
        expect(error).toBeNull()
      }
      await rpc('fund_job_without_escrow', { p_job_id: jobId })
      await next(change('jobs', (row) => row.status === 'funded'), 'jobs change to funded')

      await rpc('start_round', { p_job_id: jobId, p_global_model_cid: SAMPLE_CID, p_global_model_path: `jobs/${jobId}/rounds/1/global.obw` })
      await next(change('jobs', (row) => row.status === 'running' && row.current_round === 1), 'jobs change to running')
      await next(change('job_rounds', (row) => row.round === 1 && row.status === 'training'), 'job_rounds insert')
      for (const shard of [0, 1, 2]) {
        await next(change('tasks', (row) => row.round === 1 && row.shard_index === shard && row.status === 'queued'), `task of shard ${shard}`)
      }

      await rpc('fail_job', { p_job_id: jobId, p_reason: 'stopped by the test' })
      const finished = await next((l) => l.type === 'job-finished', 'the end of the watch')
      expect(finished).toMatchObject({
        id: jobId,
        status: 'failed',
        statusReason: 'stopped by the test',
        round: 1,
        tasks: { round: { queued: 0, cancelled: 3 }, total: { cancelled: 3 } },
        roundMetrics: [{ round: 1, status: 'training', testAccuracy: null }],
      })
      expect(await exited).toBe(1)
      expect(stderr).toBe('')
    } finally {
      child.kill()
    }
  })

  it('job status --watch of a job that already ended prints it once and exits with its outcome', async () => {
    const { code, stdout } = await runCli([...base, 'job', 'status', jobId, '--watch'])
    expect(code).toBe(1)
    expect(jsonLines(stdout).map((l) => [l.type, l.status])).toEqual([
      ['job-status', 'failed'],
      ['job-finished', 'failed'],
    ])
  })
})

describe('oblivion job create --dataset / job download against a local gateway', () => {
  let gw: TestGateway
  let home: { dir: string; remove: () => Promise<void> }
  let base: string[]

  beforeAll(async () => {
    gw = await startTestGateway('pglite')
    home = await tempDir('oblivion-cli-files-')
    const { jwtSecret, anonKey, serviceRoleKey } = gw.keys
    await writeFile(path.join(home.dir, 'gateway.json'), JSON.stringify({ jwtSecret, anonKey, serviceRoleKey }), { mode: 0o600 })
    base = ['--home', home.dir, '--url', gw.url]
  })
  afterAll(async () => {
    await gw?.close()
    await home?.remove()
  })

  async function createJob(): Promise<{ id: string; ownerId: string }> {
    const spec = await writeJson(path.join(home.dir, 'builtin.json'), validSpec())
    const { code, stdout, stderr } = await runCli([...base, 'job', 'create', spec])
    expect(stderr).toBe('')
    expect(code).toBe(0)
    const [created] = jsonLines(stdout)
    return { id: created!.id as string, ownerId: created!.ownerId as string }
  }

  it('uploads the CSV into the user\'s folder of the datasets bucket and points the spec at it', async () => {
    const spec = path.join(REPO_ROOT, 'sample_job/jobs/iris-csv.json')
    const csv = path.join(REPO_ROOT, 'sample_job/data/iris.csv')
    const first = await runCli([...base, 'job', 'create', spec, '--dataset', csv])
    expect(first.stderr).toBe('')
    expect(first.code).toBe(0)
    const [created] = jsonLines(first.stdout)
    const objectPath = `${created!.ownerId as string}/iris.csv`
    expect(created).toMatchObject({ type: 'job-created', status: 'created', dataset: `datasets/${objectPath}` })

    const service = gw.serviceClient()
    const { data: job } = await service.from('jobs').select('spec').eq('id', created!.id as string).single()
    expect((job as { spec: { dataset: unknown } }).spec.dataset).toMatchObject({ source: 'csv', bucket: 'datasets', path: objectPath })
    const stored = await service.storage.from('datasets').download(objectPath)
    expect(Buffer.from(await stored.data!.arrayBuffer()).equals(await readFile(csv))).toBe(true)

    // The same file again is the same object: a second job reuses it.
    const second = await runCli([...base, 'job', 'create', spec, '--dataset', csv])
    expect(second.code).toBe(0)
    expect(jsonLines(second.stdout)[0]).toMatchObject({ dataset: `datasets/${objectPath}` })
  })

  it('refuses a CSV that lacks a column the spec names, before any upload', async () => {
    const spec = path.join(REPO_ROOT, 'sample_job/jobs/iris-csv.json')
    const csv = path.join(home.dir, 'flowers.csv')
    await writeFile(csv, 'sepal_length,sepal_width,petal_length,kind\n5.1,3.5,1.4,setosa\n')
    const { code, stderr } = await runCli([...base, 'job', 'create', spec, '--dataset', csv])
    expect(code).toBe(1)
    expect(JSON.parse(stderr.trim())).toMatchObject({ code: 'CLI_DATASET_FILE', message: `${csv} has no columns "petal_width", "species"` })
  })

  it('says a job has no model yet while it has none', async () => {
    const job = await createJob()
    const { code, stderr } = await runCli([...base, 'job', 'download', job.id])
    expect(code).toBe(1)
    expect(JSON.parse(stderr.trim())).toMatchObject({ code: 'CLI_NO_MODEL', message: `job ${job.id} has no model yet: it is created` })
  })

  /** Stores files under jobs/<id>/model/ and a models row listing them, as complete_job leaves them. */
  async function publishModel(jobId: string, ownerId: string, files: Record<string, Record<string, Uint8Array>>, cidOf = contentId) {
    const service = gw.serviceClient()
    const artifacts: Record<string, { files: unknown[] }> = {}
    for (const [format, named] of Object.entries(files)) {
      artifacts[format] = { files: [] }
      for (const [name, bytes] of Object.entries(named)) {
        const key = `jobs/${jobId}/model/${format}/${name}`
        const { error } = await service.storage.from('artifacts').upload(key, bytes, { contentType: 'application/octet-stream', upsert: true })
        expect(error).toBeNull()
        artifacts[format].files.push({ name, path: key, cid: await cidOf(bytes), bytes: bytes.length, contentType: 'application/octet-stream' })
      }
    }
    await gw.db.query(`insert into public.models (owner_id, job_id, name, artifacts) values ($1::uuid, $2::uuid, 'test model', $3::jsonb)`, [
      ownerId,
      jobId,
      JSON.stringify(artifacts),
    ])
  }

  it('job download writes <out>/<format>/<name> for each file, checked against its content id', async () => {
    const job = await createJob()
    const onnx = new Uint8Array([8, 1, 18, 4, 1, 2, 3, 4])
    const weights = new Uint8Array(1000).map((_, i) => i % 251)
    await publishModel(job.id, job.ownerId, {
      onnx: { 'model.onnx': onnx },
      tfjs: { 'model.json': new TextEncoder().encode('{"format":"layers-model"}'), 'group1-shard1of1.bin': weights },
    })
    const out = path.join(home.dir, 'downloaded')
    const all = await runCli([...base, 'job', 'download', job.id, '--out', out])
    expect(all.stderr).toBe('')
    expect(all.code).toBe(0)
    const lines = jsonLines(all.stdout)
    expect(lines.filter((l) => l.type === 'file').map((l) => `${l.format as string}/${l.name as string}`)).toEqual([
      'tfjs/model.json',
      'tfjs/group1-shard1of1.bin',
      'onnx/model.onnx',
    ])
    expect(lines.at(-1)).toMatchObject({ type: 'download-complete', jobId: job.id, out, files: 3 })
    expect(new Uint8Array(await readFile(path.join(out, 'onnx', 'model.onnx')))).toEqual(onnx)
    expect(new Uint8Array(await readFile(path.join(out, 'tfjs', 'group1-shard1of1.bin')))).toEqual(weights)

    const onlyOnnx = await runCli([...base, 'job', 'download', job.id, '--format', 'onnx', '--out', path.join(home.dir, 'onnx-only')])
    expect(onlyOnnx.code).toBe(0)
    expect(jsonLines(onlyOnnx.stdout).filter((l) => l.type === 'file')).toHaveLength(1)

    const missing = await runCli([...base, 'job', 'download', job.id, '--format', 'h5', '--out', out])
    expect(missing.code).toBe(1)
    expect(JSON.parse(missing.stderr.trim())).toMatchObject({ code: 'CLI_NO_MODEL', hint: 'it has: tfjs, onnx (pass --format)' })
  })

  it('job download refuses bytes that do not match their content id and writes nothing for them', async () => {
    const job = await createJob()
    const wrongCid = async (bytes: Uint8Array) => contentId(new Uint8Array([...bytes, 0]))
    await publishModel(job.id, job.ownerId, { onnx: { 'model.onnx': new Uint8Array([1, 2, 3]) } }, wrongCid)
    const out = path.join(home.dir, 'tampered')
    const { code, stderr } = await runCli([...base, 'job', 'download', job.id, '--out', out])
    expect(code).toBe(1)
    expect(JSON.parse(stderr.trim())).toMatchObject({ code: 'CLI_CID_MISMATCH', message: 'onnx/model.onnx does not match its content id; it was not written' })
    await expect(stat(path.join(out, 'onnx', 'model.onnx'))).rejects.toThrow(/ENOENT/)
  })
})
