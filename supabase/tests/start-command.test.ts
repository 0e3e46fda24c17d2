import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { readMigrationFiles } from '../src/migrate/migration-files.ts'

const run = promisify(execFile)
const START = path.resolve(import.meta.dirname, '../src/cli/start.ts')
const TSX = path.resolve(import.meta.dirname, '../../node_modules/.bin/tsx')
const dirs: string[] = []
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))))

describe('npm start (the database part)', () => {
  it('brings up the embedded database, applies every migration once and keeps the data', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'oblivion-start-'))
    dirs.push(dataDir)
    const env = { ...process.env, DATABASE_URL: '' }
    const versions = (await readMigrationFiles()).map((f) => f.version)
    const first = JSON.parse((await run(TSX, [START, '--json', '--data-dir', dataDir], { env })).stdout)
    expect(first).toMatchObject({ kind: 'pglite', bootstrapped: true, migrations: { applied: versions, alreadyApplied: [] } })
    expect(first.stats.workers.registered).toBe(0)
    const second = JSON.parse((await run(TSX, [START, '--json', '--data-dir', dataDir], { env })).stdout)
    expect(second.migrations).toEqual({ applied: [], alreadyApplied: versions })
  }, 60_000)

  it('rejects unknown options with the help text and exit code 2', async () => {
    const error = await run(TSX, [START, '--frobnicate']).then(() => undefined, (e: { code: number; stderr: string }) => e)
    expect(error?.code).toBe(2)
    expect(error?.stderr).toMatch(/Unknown option '--frobnicate'[\s\S]*Usage: npm start/)
  })
})
