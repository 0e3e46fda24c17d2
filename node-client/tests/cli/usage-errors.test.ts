import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN, cliEnv, DEAD_URL, runCli, tempDir, validSpec, writeJson } from '../support/run-cli.ts'

const JOB_ID = '0b6f3c8e-5d1a-4f0e-9c3b-2a7d8e9f1a2b'

describe('bad command lines exit 2 with a message that says what is accepted', () => {
  let home: { dir: string; remove: () => Promise<void> }
  let specFile: string
  beforeAll(async () => {
    home = await tempDir('oblivion-cli-usage-')
    specFile = await writeJson(path.join(home.dir, 'spec.json'), validSpec())
  })
  afterAll(() => home.remove())

  it.each([
    [['worker', '--max-concurrency', '17'], /option '--max-concurrency <n>' argument '17' is invalid\. Expected a whole number from 1 to 16\./],
    [['worker', '--max-concurrency', '2.5'], /Expected a whole number from 1 to 16/],
    [['worker', '--lease-seconds', '5'], /option '--lease-seconds <s>' argument '5' is invalid\. Expected a whole number from 10 to 600\./],
    [['worker', '--poll-seconds', 'soon'], /Expected a number of seconds from 0\.5 to 300/],
    [['worker', '--backend', 'gpu'], /argument 'gpu' is invalid\. Allowed choices are wasm, cpu\./],
    [['worker', '--name', 'bad name!'], /Expected 1 to 64 letters, digits/],
    [['worker', '--threads', '4'], /unknown option '--threads'/],
    [['job', 'status', 'not-a-job'], /Expected a job id, a uuid/],
    [['job', 'download', JOB_ID, '--format', 'zip'], /Allowed choices are tfjs, onnx, h5, pt, pkl, all/],
    [['job', 'frobnicate'], /unknown command 'frobnicate'/],
    [['worker', 'bond', 'lots'], /value 'lots' is invalid for argument 'amount'\. Expected a positive amount of coins such as 0\.5 or 12/],
    [['worker', 'unbond', '-1'], /Expected a positive amount of coins/],
    [['worker', 'bond', '1', '--lease-seconds', '30'], /--lease-seconds is an option of `oblivion worker` \(running a worker\), not of `oblivion worker bond`/],
    [['worker', '--payout-address', '0x1234'], /unknown option '--payout-address'/],
    [['worker', 'claim', '--job', 'seven'], /Expected a job id, a uuid/],
    [['job', 'fund', JOB_ID, '--deadline-hours', 'soon'], /Expected a number of hours from 0\.01 to 87600/],
    [['job', 'refund', 'not-a-job'], /Expected a job id, a uuid/],
    [['--url', 'ftp://example.com', 'job', 'status', JOB_ID], /Expected an http:\/\/ or https:\/\/ URL/],
    [['model', 'list', 'not-a-model', '--price', '1'], /Expected a model id, a uuid/],
    [['model', 'list', JOB_ID], /required option '--price <amount>' not specified/],
    [['model', 'list', JOB_ID, '--price', 'free'], /Expected a positive amount of coins/],
    [['serve', JOB_ID, '--poll-seconds', '0'], /Expected a number of seconds from 0\.5 to 300/],
    [['infer', JOB_ID, '--test-row', '0', '--input', 'x.json'], /option '--test-row <n>' cannot be used with option '--input <file.json>'/],
    [['infer', JOB_ID], /exactly one of --test-row <n> or --input <file.json>/],
    [['infer', 'refund', JOB_ID, '--test-row', '1'], /--test-row is an option of `oblivion infer` \(buying an inference\), not of `oblivion infer refund`/],
    [['infer', 'refund', 'seven'], /Expected a request id, a uuid/],
  ])('%j', async (args, message) => {
    const { code, stderr } = await runCli(['--home', home.dir, ...args])
    // stdout is a pipe here, so the error is a JSON line too.
    expect(JSON.parse(stderr.trim())).toMatchObject({ type: 'error', code: 'CLI_USAGE', message: expect.stringMatching(message) })
    expect(code).toBe(2)
  })

  // util-linux `script` gives the command a terminal (Debian has it in an essential package).
  it.skipIf(!existsSync('/usr/bin/script'))('writes usage errors as text, with a pointer to --help, on a terminal', async () => {
    const command = `${process.execPath} ${BIN} --home ${home.dir} worker --lease-seconds 5; echo "exit $?"`
    const { stdout } = await promisify(execFile)('/usr/bin/script', ['-qc', command, '/dev/null'], { env: cliEnv() })
    expect(stdout).toContain("error: option '--lease-seconds <s>' argument '5' is invalid. Expected a whole number from 10 to 600.")
    expect(stdout).toContain('(add --help for usage)')
    expect(stdout).toContain('exit 2')
  })

  it('refuses a reward that is not a positive whole number of wei', async () => {
    const { code, stderr } = await runCli(['--home', home.dir, 'job', 'create', specFile, '--reward-wei', '0'])
    expect(stderr).toMatch(/Expected a positive whole number of wei/)
    expect(code).toBe(2)
  })

  it('rejects conflicting flags: --dataset with a spec whose dataset is builtin', async () => {
    const { code, stderr } = await runCli(['--url', DEAD_URL, '--home', home.dir, 'job', 'create', specFile, '--dataset', 'x.csv'])
    const error = JSON.parse(stderr.trim()) as { code: string; message: string }
    expect(error.code).toBe('CLI_USAGE')
    expect(error.message).toMatch(/^--dataset uploads a CSV file, but .*spec\.json asks for a "builtin" dataset$/)
    expect(code).toBe(2)
  })

  it('rejects --anon-key for the coordinator, which runs with the service_role key', async () => {
    const { code, stderr } = await runCli(['--url', DEAD_URL, '--home', home.dir, '--anon-key', 'abc', 'coordinator'])
    expect(stderr).toContain('the coordinator does not use --anon-key')
    expect(code).toBe(2)
  })
})

describe('job create with an invalid spec', () => {
  let dir: { dir: string; remove: () => Promise<void> }
  beforeAll(async () => {
    dir = await tempDir('oblivion-cli-spec-')
  })
  afterAll(() => dir.remove())

  it('names every bad field by its path and never contacts the network', async () => {
    const spec = validSpec()
    Object.assign(spec.training as object, { batchSize: 0 })
    Object.assign(spec.model as object, { colour: 'blue' })
    const file = await writeJson(path.join(dir.dir, 'bad-spec.json'), spec)
    // A dead URL and a home without keys: reaching for the network would fail with another error.
    const { code, stdout, stderr } = await runCli(['--url', DEAD_URL, '--home', dir.dir, 'job', 'create', file])
    expect(code).toBe(1)
    expect(stdout).toBe('')
    const [line] = stderr.trim().split('\n')
    const error = JSON.parse(line!) as { type: string; code: string; message: string; details: string[] }
    expect(error).toMatchObject({ type: 'error', code: 'OB003' })
    expect(error.message).toContain('bad-spec.json is not a valid job spec (2 problems)')
    expect(error.details).toEqual(
      expect.arrayContaining([expect.stringMatching(/^spec\.training\.batchSize /), 'spec.model.colour is not a known field']),
    )
  })

  it('says when the file is not JSON', async () => {
    const file = path.join(dir.dir, 'broken.json')
    await import('node:fs/promises').then((fs) => fs.writeFile(file, '{ "version": 1, '))
    const { code, stderr } = await runCli(['--url', DEAD_URL, '--home', dir.dir, 'job', 'create', file])
    expect(code).toBe(1)
    expect(stderr).toContain('CLI_SPEC_FILE')
    expect(stderr).toContain('broken.json is not valid JSON')
  })
})
