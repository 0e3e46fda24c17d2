import { execFile, spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { readMigrationFiles } from '../src/migrate/migration-files.ts'
import { officialClient } from './gateway/support/test-gateway.ts'

const run = promisify(execFile)
const START = path.resolve(import.meta.dirname, '../src/cli/start.ts')
const TSX = path.resolve(import.meta.dirname, '../../node_modules/.bin/tsx')
const dirs: string[] = []
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))))

async function tempHome() {
  const home = await mkdtemp(path.join(os.tmpdir(), 'oblivion-start-'))
  dirs.push(home)
  return home
}

describe('npm start', () => {
  it('--prepare-only brings up the embedded database, applies every migration once and keeps the data', async () => {
    const home = await tempHome()
    const env = { ...process.env, DATABASE_URL: '' }
    const versions = (await readMigrationFiles()).map((f) => f.version)
    const first = JSON.parse((await run(TSX, [START, '--prepare-only', '--json', '--home', home], { env })).stdout)
    expect(first).toMatchObject({ kind: 'pglite', bootstrapped: true, migrations: { applied: versions, alreadyApplied: [] } })
    expect(first.stats.workers.registered).toBe(0)
    const second = JSON.parse((await run(TSX, [START, '--prepare-only', '--json', '--home', home], { env })).stdout)
    expect(second.migrations).toEqual({ applied: [], alreadyApplied: versions })
  }, 60_000)

  it('serves the gateway with the printed URL and anon key, keeps the service key private, and stops on Ctrl-C', async () => {
    const home = await tempHome()
    const child = spawn(TSX, [START, '--json', '--home', home, '--port', '0'], { env: { ...process.env, DATABASE_URL: '' } })
    const stderr: string[] = []
    child.stderr.on('data', (d: Buffer) => stderr.push(d.toString()))
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    const firstLine = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve)
      void exited.then((code) => reject(new Error(`npm start exited with ${code}: ${stderr.join('')}`)))
    })
    const ready = JSON.parse(firstLine) as { url: string; anonKey: string; keysFile: string }
    const keys = JSON.parse(await readFile(ready.keysFile, 'utf8')) as { anonKey: string; serviceRoleKey: string }
    expect(ready.anonKey).toBe(keys.anonKey)
    expect(firstLine).not.toContain(keys.serviceRoleKey)
    expect((await stat(ready.keysFile)).mode & 0o777).toBe(0o600)

    const client = officialClient(ready.url, ready.anonKey)
    const { data, error } = await client.rpc('network_stats')
    expect(error).toBeNull()
    expect(data).toMatchObject({ workers: { registered: 0 }, jobs: { total: 0 } })

    child.kill('SIGINT')
    expect(await exited).toBe(0)
  }, 90_000)

  it('rejects unknown options with the help text and exit code 2', async () => {
    const error = await run(TSX, [START, '--frobnicate']).then(() => undefined, (e: { code: number; stderr: string }) => e)
    expect(error?.code).toBe(2)
    expect(error?.stderr).toMatch(/Unknown option '--frobnicate'[\s\S]*Usage: npm start/)
  })
})
