import { execFile, spawn } from 'node:child_process'
import { access, mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import { readChainConfig } from '@oblivion/contracts'
import { JsonRpcProvider, Network } from 'ethers'
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

interface Ready {
  url: string
  anonKey: string
  keysFile: string
  chain: null | { rpcUrl: string; chainId: number; settlement: string; validator: string; deployment: string; configFile: string; stateFile: string }
}

/** `npm start -- --json …` until its ready line; stop() sends Ctrl-C and gives the exit code. */
async function startNetwork(args: string[]) {
  const child = spawn(TSX, [START, '--json', '--port', '0', ...args], { env: { ...process.env, DATABASE_URL: '' } })
  const stderr: string[] = []
  child.stderr.on('data', (d: Buffer) => stderr.push(d.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const firstLine = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve)
    void exited.then((code) => reject(new Error(`npm start exited with ${code}: ${stderr.join('')}`)))
  })
  return {
    firstLine,
    ready: JSON.parse(firstLine) as Ready,
    async stop() {
      child.kill('SIGINT')
      return exited
    },
  }
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

  it('serves the gateway with the printed URL and anon key, keeps the service key private, and stops on Ctrl-C; --no-chain leaves the chain out', async () => {
    const home = await tempHome()
    // --no-chain: the chain has a test of its own below.
    const network = await startNetwork(['--home', home, '--no-chain'])
    const { ready, firstLine } = network
    expect(ready.chain).toBeNull()
    await expect(access(path.join(home, 'chain.json'))).rejects.toThrow()
    const keys = JSON.parse(await readFile(ready.keysFile, 'utf8')) as { anonKey: string; serviceRoleKey: string }
    expect(ready.anonKey).toBe(keys.anonKey)
    expect(firstLine).not.toContain(keys.serviceRoleKey)
    expect((await stat(ready.keysFile)).mode & 0o777).toBe(0o600)

    const client = officialClient(ready.url, ready.anonKey)
    const { data, error } = await client.rpc('network_stats')
    expect(error).toBeNull()
    expect(data).toMatchObject({ workers: { registered: 0 }, jobs: { total: 0 } })

    expect(await network.stop()).toBe(0)
  }, 90_000)

  it('brings up the local chain with the settlement contract, records it in chain.json, and reuses it on restart', async () => {
    const home = await tempHome()
    const first = await startNetwork(['--home', home, '--chain-port', '0'])
    const chain = first.ready.chain!
    expect(chain).toMatchObject({ chainId: 8119, deployment: 'deployed', configFile: path.join(home, 'chain.json') })
    expect(chain.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect((await stat(chain.configFile)).mode & 0o777).toBe(0o600)
    const config = (await readChainConfig(home))!
    expect(config).toMatchObject({ rpcUrl: chain.rpcUrl, chainId: 8119, settlement: chain.settlement, validator: { address: chain.validator } })
    expect(config.accounts).toHaveLength(10)
    // The ready line names addresses only: the dev keys stay in chain.json.
    expect(first.firstLine).not.toContain(config.validator.privateKey.slice(2))

    const provider = new JsonRpcProvider(chain.rpcUrl, undefined, { staticNetwork: Network.from(8119), cacheTimeout: -1 })
    const code = await provider.getCode(chain.settlement)
    expect(code.length).toBeGreaterThan(2)
    provider.destroy()
    expect(await first.stop()).toBe(0)
    await access(chain.stateFile)

    const second = await startNetwork(['--home', home, '--chain-port', '0'])
    expect(second.ready.chain).toMatchObject({ settlement: chain.settlement, deployment: 'reused' })
    const again = new JsonRpcProvider(second.ready.chain!.rpcUrl, undefined, { staticNetwork: Network.from(8119), cacheTimeout: -1 })
    expect(await again.getCode(chain.settlement)).toBe(code)
    again.destroy()
    expect(await second.stop()).toBe(0)
  }, 90_000)

  it('rejects unknown options with the help text and exit code 2', async () => {
    const error = await run(TSX, [START, '--frobnicate']).then(() => undefined, (e: { code: number; stderr: string }) => e)
    expect(error?.code).toBe(2)
    expect(error?.stderr).toMatch(/Unknown option '--frobnicate'[\s\S]*Usage: npm start/)
  })
})
