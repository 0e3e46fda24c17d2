import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PublicConfig } from '../src/public-config.ts'
import { DIST_DIR, ensureVisualizerBuilt, isVisualizerBuilt, serveVisualizer, type VisualizerServer } from '../src/serve.ts'

const config: PublicConfig = {
  supabaseUrl: 'http://127.0.0.1:54321',
  anonKey: 'anon.key.value',
  chain: { chainId: 8119, name: 'Oblivion local (anvil)', rpcUrl: 'http://127.0.0.1:8545', settlement: '0x' + '1'.repeat(40), challengeWindow: 60 },
  webUrl: 'http://127.0.0.1:3000',
  visualizerUrl: null,
}

describe('serveVisualizer', () => {
  let dist: string
  let server: VisualizerServer
  beforeAll(async () => {
    dist = await mkdtemp(path.join(os.tmpdir(), 'oblivion-visualizer-dist-'))
    await mkdir(path.join(dist, 'assets'))
    await writeFile(path.join(dist, 'index.html'), '<!doctype html><title>wall</title>')
    await writeFile(path.join(dist, 'assets', 'index-abc123.js'), 'console.log(1)')
    await writeFile(path.join(path.dirname(dist), 'secret.txt'), 'outside dist')
    server = await serveVisualizer({ port: 0, config, distDir: dist })
  })
  afterAll(async () => {
    await server?.close()
    await rm(dist, { recursive: true, force: true })
  })

  it('answers /config.json with the public configuration, never cached', async () => {
    const response = await fetch(`${server.url}/config.json`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('application/json')
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(await response.json()).toEqual(config)
  })

  it('serves the page for / and for any path without an extension, and hashed assets for good', async () => {
    for (const pathname of ['/', '/?synthetic=500', '/network/anything']) {
      const page = await fetch(`${server.url}${pathname}`)
      expect(page.status, pathname).toBe(200)
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
      expect(await page.text()).toContain('<title>wall</title>')
    }
    const asset = await fetch(`${server.url}/assets/index-abc123.js`)
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(asset.headers.get('cache-control')).toContain('immutable')
    expect(await asset.text()).toBe('console.log(1)')
    const head = await fetch(`${server.url}/assets/index-abc123.js`, { method: 'HEAD' })
    expect(head.headers.get('content-length')).toBe('14')
  })

  it('refuses what is not a file of the build, and writes', async () => {
    expect((await fetch(`${server.url}/assets/missing.js`)).status).toBe(404)
    expect((await fetch(`${server.url}/%2e%2e/secret.txt`)).status).toBe(404)
    expect((await fetch(`${server.url}/%E0%A4%A`)).status).toBe(400)
    const post = await fetch(`${server.url}/config.json`, { method: 'POST', body: '{}' })
    expect(post.status).toBe(405)
    expect(post.headers.get('allow')).toBe('GET, HEAD')
  })

  it('says how to build it when there is no build', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'oblivion-visualizer-empty-'))
    const bare = await serveVisualizer({ port: 0, config, distDir: empty })
    try {
      const page = await fetch(bare.url)
      expect(page.status).toBe(503)
      expect(await page.text()).toContain('npm run build -w visualizer')
      expect((await fetch(`${bare.url}/config.json`)).status).toBe(200)
    } finally {
      await bare.close()
      await rm(empty, { recursive: true, force: true })
    }
  })

  it('names the port when it is taken', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as { port: number }).port
    try {
      await expect(serveVisualizer({ port, config, distDir: dist })).rejects.toThrow(`127.0.0.1:${port}: the port is in use`)
    } finally {
      blocker.close()
    }
  })
})

describe('ensureVisualizerBuilt', () => {
  it('builds visualizer/dist when it is stale, then leaves a current build alone', async () => {
    await ensureVisualizerBuilt()
    expect(await isVisualizerBuilt()).toBe(true)
    const again = await ensureVisualizerBuilt()
    expect(again).toEqual({ built: false, distDir: DIST_DIR, seconds: 0 })
    const index = await readFile(path.join(DIST_DIR, 'index.html'), 'utf8')
    expect(index).toMatch(/<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js">/)
  })
})
