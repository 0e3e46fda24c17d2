import { stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CliError } from '../../src/cli/cli-error.ts'
import { checkReachable, connectAsUser, resolveAnonKey, resolveServiceRoleKey } from '../../src/cli/connection.ts'
import { fileLock, fileSessionStorage } from '../../src/cli/credential-store.ts'
import { DEAD_URL, runCli, tempDir } from '../support/run-cli.ts'

const JOB_ID = '0b6f3c8e-5d1a-4f0e-9c3b-2a7d8e9f1a2b'

async function rejection(promise: Promise<unknown>): Promise<CliError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(CliError)
  return error as CliError
}

describe('finding the keys', () => {
  let home: { dir: string; remove: () => Promise<void> }
  beforeEach(async () => {
    home = await tempDir('oblivion-cli-keys-')
  })
  afterEach(() => home.remove())

  it('takes --anon-key first, then <home>/gateway.json', async () => {
    await writeFile(path.join(home.dir, 'gateway.json'), JSON.stringify({ jwtSecret: 's', anonKey: 'from-file', serviceRoleKey: 'service' }))
    expect(await resolveAnonKey({ url: DEAD_URL, home: home.dir, anonKey: 'from-flag' })).toBe('from-flag')
    expect(await resolveAnonKey({ url: DEAD_URL, home: home.dir })).toBe('from-file')
    expect(await resolveServiceRoleKey(home.dir, {})).toBe('service')
    expect(await resolveServiceRoleKey(home.dir, { SUPABASE_SERVICE_ROLE_KEY: 'from-env' })).toBe('from-env')
  })

  it('says where it looked and what to do when there is no anon key', async () => {
    const error = await rejection(resolveAnonKey({ url: DEAD_URL, home: home.dir }))
    expect(error.code).toBe('CLI_NO_ANON_KEY')
    expect(error.message).toBe(`no anon key for the network at ${DEAD_URL}`)
    expect(error.options.hint).toContain('pass --anon-key, set SUPABASE_ANON_KEY')
    expect(error.options.hint).toContain(path.join(home.dir, 'gateway.json'))
  })

  it('tells the coordinator where the service_role key comes from', async () => {
    const error = await rejection(resolveServiceRoleKey(home.dir, {}))
    expect(error.code).toBe('CLI_NO_SERVICE_KEY')
    expect(error.message).toBe(
      'the coordinator needs the service_role key: run it on the machine that ran `npm start` or set SUPABASE_SERVICE_ROLE_KEY',
    )
  })

  it('refuses a gateway.json that is not the object npm start writes', async () => {
    await writeFile(path.join(home.dir, 'gateway.json'), '[1, 2]')
    const error = await rejection(resolveAnonKey({ url: DEAD_URL, home: home.dir }))
    expect(error.code).toBe('CLI_BAD_GATEWAY_FILE')
  })

  it('reports a gateway that is not running as such, before signing in', async () => {
    const error = await rejection(checkReachable(DEAD_URL, 'key'))
    expect(error.code).toBe('CLI_UNREACHABLE')
    expect(error.message).toBe(`could not reach the network at ${DEAD_URL}: is \`npm start\` running?`)
    const connect = await rejection(connectAsUser({ url: DEAD_URL, home: home.dir, anonKey: 'key' }, { profile: 'cli' }))
    expect(connect.code).toBe('CLI_UNREACHABLE')
  })

  it('the CLI prints those errors with their code and hint, and exits 1', async () => {
    const noKey = await runCli(['--url', DEAD_URL, '--home', home.dir, 'job', 'status', JOB_ID])
    expect(noKey.code).toBe(1)
    expect(JSON.parse(noKey.stderr.trim())).toMatchObject({ type: 'error', code: 'CLI_NO_ANON_KEY' })
    const noService = await runCli(['--url', DEAD_URL, '--home', home.dir, 'coordinator'])
    expect(noService.code).toBe(1)
    expect(noService.stderr).toContain('the coordinator needs the service_role key')
    const down = await runCli(['--url', DEAD_URL, '--home', home.dir, '--anon-key', 'k', 'job', 'status', JOB_ID])
    expect(down.code).toBe(1)
    expect(JSON.parse(down.stderr.trim())).toMatchObject({ code: 'CLI_UNREACHABLE', message: `could not reach the network at ${DEAD_URL}: is \`npm start\` running?` })
  })
})

describe('the session file', () => {
  let home: { dir: string; remove: () => Promise<void> }
  beforeEach(async () => {
    home = await tempDir('oblivion-cli-session-')
  })
  afterEach(() => home.remove())

  it('keeps entries across instances in a file only its owner can read', async () => {
    const file = path.join(home.dir, 'credentials', 'cli.json')
    await fileSessionStorage(file).setItem('sb-key', 'session-json')
    expect(await fileSessionStorage(file).getItem('sb-key')).toBe('session-json')
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    await fileSessionStorage(file).removeItem('sb-key')
    expect(await fileSessionStorage(file).getItem('sb-key')).toBeNull()
  })

  it('lets one holder at a time run under the lock, across callers', async () => {
    const lock = fileLock(path.join(home.dir, 'credentials', 'cli.json.lock'))
    const order: string[] = []
    const hold = (name: string) =>
      lock('auth', -1, async () => {
        order.push(`${name} in`)
        await new Promise((r) => setTimeout(r, 30))
        order.push(`${name} out`)
      })
    await Promise.all([hold('a'), hold('b')])
    expect(order).toEqual(expect.arrayContaining(['a in', 'a out', 'b in', 'b out']))
    expect(order.indexOf(`${order[0]!.split(' ')[0]} out`)).toBe(1)
  })

  it('times out with isAcquireTimeout, as supabase-js expects of a lock', async () => {
    const lock = fileLock(path.join(home.dir, 'held.lock'))
    let release!: () => void
    const holding = lock('auth', -1, () => new Promise<void>((r) => (release = r)))
    await new Promise((r) => setTimeout(r, 20))
    const error = await lock('auth', 50, async () => 'never').catch((e: unknown) => e)
    expect((error as { isAcquireTimeout?: boolean }).isAcquireTimeout).toBe(true)
    release()
    await holding
  })
})
