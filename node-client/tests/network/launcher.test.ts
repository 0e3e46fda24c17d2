import { readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import path from 'node:path'
import { connectInferenceMarket, connectOblivionSettlement, readChainConfig } from '@oblivion/contracts'
import { JsonRpcProvider, Network, parseEther } from 'ethers'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { NetworkProcess } from '../../../sample_job/src/local-processes.ts'
import { officialClient } from '../../../supabase/tests/gateway/support/test-gateway.ts'
import { tempDir } from '../support/run-cli.ts'
import { liveProcessGroups, printed, readyLine, serviceGroups, startLauncher, stopLaunchers, type ReadyLine } from './support/launcher.ts'

/**
 * `npm start` as a person runs it, with real processes: the database, gateway and chain child,
 * the coordinator, a CLI worker and the marketplace's sample model, on free ports in a temporary
 * home (web and visualizer off: they have tests of their own, and a Next build takes a minute).
 */
const HEADLESS = ['--port', '0', '--chain-port', '0', '--no-web', '--no-visualizer'] // (the port first: the restart replaces it)

let home: { dir: string; remove: () => Promise<void> }
/** The first start's gateway port: a restart on the same home takes it again, as `npm start` (54321) does. */
let firstPort: string
beforeAll(async () => {
  home = await tempDir('oblivion-launcher-')
})
afterEach(stopLaunchers)
afterAll(() => home?.remove())

async function ready(proc: NetworkProcess): Promise<ReadyLine> {
  return (await proc.waitFor(readyLine, 150_000)) as unknown as ReadyLine
}

describe('npm start: the local network launcher', () => {
  it('brings up the database, gateway, chain, coordinator and a bonded worker, lists each with its URL, lists and serves the sample model, and stops them all on Ctrl-C', async () => {
    const launcher = startLauncher(['--home', home.dir, '--workers', '1', '--json', ...HEADLESS])
    const status = await ready(launcher)
    firstPort = new URL(status.gateway.url).port
    const byName = Object.fromEntries(status.services.map((s) => [s.name, s]))
    expect(status.services.map((s) => s.name)).toEqual(['database', 'gateway', 'chain', 'coordinator', 'worker cli-1', 'web', 'visualizer', 'marketplace'])
    expect(byName.gateway).toMatchObject({ state: 'ready', url: status.gateway.url, log: path.join(home.dir, 'logs/network.log') })
    expect(status.gateway.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(byName.chain).toMatchObject({ state: 'ready', url: status.chain!.rpcUrl })
    expect(byName.coordinator).toMatchObject({ state: 'ready', log: path.join(home.dir, 'logs/coordinator.log') })
    expect(byName['worker cli-1']).toMatchObject({ state: 'ready', log: path.join(home.dir, 'logs/cli-1.log') })
    expect(byName.web).toMatchObject({ state: 'skipped', notes: 'off (--no-web)' })
    expect(byName.visualizer).toMatchObject({ state: 'skipped' })
    // Ready without the marketplace: it is prepared in the background.
    expect(byName.marketplace).toMatchObject({ state: 'starting', log: path.join(home.dir, 'logs/marketplace.log') })
    for (const s of status.services.filter((s) => s.state === 'ready')) expect(s.readyMs).toBeGreaterThan(0)
    // The coordinator and the worker write their JSON lines to their logs.
    expect(await readFile(path.join(home.dir, 'logs/cli-1.log'), 'utf8')).toContain('"type":"registered"')

    // The worker registered with its payout address (dev account 4), which bonded 1 coin on chain.
    const chain = (await readChainConfig(home.dir))!
    const payout = chain.accounts[4]!.address
    const keys = JSON.parse(await readFile(path.join(home.dir, 'gateway.json'), 'utf8')) as { serviceRoleKey: string }
    const { data: workers, error } = await officialClient(status.gateway.url, keys.serviceRoleKey).from('workers').select('name, kind, payout_address')
    expect(error).toBeNull()
    expect(workers).toEqual([{ name: 'cli-1', kind: 'cli', payout_address: payout.toLowerCase() }])
    const provider = new JsonRpcProvider(chain.rpcUrl, undefined, { staticNetwork: Network.from(chain.chainId), cacheTimeout: -1 })
    expect((await connectOblivionSettlement(chain.settlement, provider).bondOf(payout)).bonded).toBe(parseEther('1'))

    // The marketplace: the worker trained the mnist-zk sample job, dev account 2 listed its model
    // (the coordinator contributed to the setup) and `oblivion serve` answers for it.
    const market = await launcher.waitFor((line) => line.type === 'marketplace-ready', 300_000)
    expect(market).toMatchObject({ priceWei: parseEther('0.01').toString(), listedNow: true, url: null, service: { name: 'marketplace', state: 'ready' } })
    const { data: models } = await officialClient(status.gateway.url, keys.serviceRoleKey).from('models').select('id, listed, chain_model_id, owner_address')
    expect(models).toEqual([{ id: market.modelId, listed: true, chain_model_id: market.chainModelId, owner_address: chain.accounts[2]!.address.toLowerCase() }])
    const listing = await connectInferenceMarket(chain.market!.address, provider).getModel(BigInt(market.chainModelId as string))
    expect({ owner: listing.owner, active: listing.active, price: listing.price }).toEqual({ owner: chain.accounts[2]!.address, active: true, price: parseEther('0.01') })
    expect(await readFile(path.join(home.dir, 'logs/marketplace.log'), 'utf8')).toContain('"type":"serving"')
    provider.destroy()

    // A worker that dies is reported; the rest keeps running.
    const worker = byName['worker cli-1']!
    process.kill(worker.pid!, 'SIGKILL')
    const exited = await launcher.waitFor((line) => line.type === 'service-exited', 20_000)
    expect(exited).toMatchObject({ fatal: false, service: { name: 'worker cli-1', state: 'exited' } })
    expect(liveProcessGroups([byName.coordinator!.pid!, byName.gateway!.pid!])).toHaveLength(2)

    const groups = [...serviceGroups(status, launcher.child.pid!), (market.service as { pid: number }).pid]
    launcher.child.kill('SIGINT')
    expect(await launcher.exited).toBe(0)
    expect(launcher.lines.at(-1)).toMatchObject({ type: 'stopped', exitCode: 0 })
    expect(liveProcessGroups(groups)).toEqual([])
  })

  it('restarts on the same home without bonding or listing again, and prints the status table', async () => {
    // The CLI keeps sessions per gateway host and port (credentials/<profile>.json): the model's
    // owner is the identity the first start signed in with on that port.
    const launcher = startLauncher(['--home', home.dir, '--workers', '1', ...HEADLESS.filter((_, i) => i > 1), '--port', firstPort])
    await launcher.waitFor((line) => line.type === 'text' && String(line.text).startsWith('Ctrl-C stops everything'), 150_000)
    const text = printed(launcher) // (lines as printed, less their indentation)
    expect(text).toMatch(/^service +state +URL \/ notes +log$/m)
    expect(text).toMatch(/^gateway +ready [\d.]+ s +http:\/\/127\.0\.0\.1:\d+ +\S*logs\/network\.log$/m)
    expect(text).toMatch(/^chain +ready [\d.]+ s +http:\/\/127\.0\.0\.1:\d+ /m)
    expect(text).toMatch(/^worker cli-1 +ready [\d.]+ s +paid at 0x15d3…6a65 \(dev account 4\),.*\S*logs\/cli-1\.log$/m)
    expect(text).toMatch(/bond\s+1\s+SHM/)
    expect(text).not.toMatch(/bonded\s+now/)
    expect(text).toMatch(/^web +skipped +off \(--no-web\)$/m)
    expect(text).toMatch(/^anon key +eyJ/m)
    expect(text).toContain('(reused)') // the contract deployed by the first start
    // The first start's listing is still on chain: only `oblivion serve` starts.
    const market = await launcher.waitFor((line) => line.type === 'text' && /^(Marketplace ready|The marketplace failed)/.test(String(line.text)), 60_000)
    expect(market.text, printed(launcher)).toMatch(/^Marketplace ready/)
    expect(printed(launcher)).toMatch(/^Marketplace ready in [\d.]+ s: sample model #1 listed at 0\.01 SHM, serving \(model [0-9a-f-]{36}\); listed on an earlier start$/m)
    launcher.child.kill('SIGINT')
    expect(await launcher.exited).toBe(0)
    expect(printed(launcher)).toMatch(/stopped marketplace\nstopped worker cli-1\nstopped coordinator\nstopped database/)
  })

  it('stops everything with exit code 1 when the database, gateway and chain process dies', async () => {
    const other = await tempDir('oblivion-launcher-')
    try {
      const launcher = startLauncher(['--home', other.dir, '--workers', '1', '--json', '--port', '0', '--no-chain', '--no-web', '--no-visualizer'])
      const status = await ready(launcher)
      expect(status.chain).toBeNull()
      expect(status.services.find((s) => s.name === 'worker cli-1')).toMatchObject({ state: 'ready', notes: 'unpaid (no chain)' })
      const groups = serviceGroups(status, launcher.child.pid!)
      process.kill(status.services.find((s) => s.name === 'gateway')!.pid!, 'SIGKILL')
      expect(await launcher.exited).toBe(1)
      expect(launcher.lines.find((line) => line.type === 'service-exited')).toMatchObject({ fatal: true })
      expect(liveProcessGroups(groups)).toEqual([])
    } finally {
      await other.remove()
    }
  })

  it('names the service that did not start, with the end of its log, and exits 1', async () => {
    const busy: Server = createServer()
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
    const { port } = busy.address() as { port: number }
    const other = await tempDir('oblivion-launcher-')
    try {
      const launcher = startLauncher(['--home', other.dir, '--json', '--port', String(port), '--no-chain', '--workers', '0', '--no-web', '--no-visualizer'])
      expect(await launcher.exited).toBe(1)
      const error = JSON.parse(launcher.stderr().trim().split('\n').at(-1)!) as { type: string; code: string; service: string; log: string; logTail: string }
      expect(error).toMatchObject({ type: 'error', code: 'NETWORK_SERVICE_FAILED', service: 'gateway', log: path.join(other.dir, 'logs/network.log') })
      expect(error.logTail).toContain(`port ${port} on 127.0.0.1 is in use`)
    } finally {
      busy.close()
      await other.remove()
    }
  })

  it('rejects bad options with exit code 2 and explains every option with --help', async () => {
    for (const args of [['--frobnicate'], ['--workers', '7'], ['--workers', 'two'], ['--port', '70000'], ['--no-web', '--web-port', '3000'], ['--reset', '--database-url', 'postgres://localhost/x']]) {
      const launcher = startLauncher(args)
      expect(await launcher.exited, args.join(' ')).toBe(2)
      expect(launcher.stderr()).toContain('See npm start -- --help.')
    }
    const help = startLauncher(['--help'])
    expect(await help.exited).toBe(0)
    const text = printed(help)
    for (const option of ['--home', '--port', '--chain-port', '--no-chain', '--database-url', '--reset', '--workers', '--web-port', '--no-web', '--visualizer-port', '--no-visualizer', '--no-marketplace', '--prepare-only', '--json', '--help']) {
      expect(text).toContain(option)
    }
  })
})
