import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signJwt, verifyJwt, JwtError } from '../../src/gateway/jwt.ts'
import { startTestGateway, type TestGateway } from './support/test-gateway.ts'

describe('JWT (HS256)', () => {
  const secret = 'a-test-secret-of-enough-length-0123456789'
  it('round-trips claims and rejects a tampered signature, another secret and an expired token', () => {
    const now = Math.floor(Date.now() / 1000)
    const token = signJwt({ sub: 'u1', role: 'authenticated', exp: now + 60 }, secret)
    expect(verifyJwt(token, secret)).toMatchObject({ sub: 'u1', role: 'authenticated' })
    const [h, p, s] = token.split('.')
    const forged = `${h}.${Buffer.from(JSON.stringify({ sub: 'u2', role: 'service_role', exp: now + 60 })).toString('base64url')}.${s}`
    expect(() => verifyJwt(forged, secret)).toThrow(JwtError)
    expect(() => verifyJwt(token, `${secret}x`)).toThrow(/signature/)
    expect(() => verifyJwt(signJwt({ exp: now - 1 }, secret), secret)).toThrow(/expired/)
    expect(() => verifyJwt(`${p}.${h}`, secret)).toThrow(/three/)
    // A hostile header is refused as a JwtError, without echoing it.
    for (const alg of [{ toString: 1 }, 'none', 'HS256\nX-Evil: 1']) {
      const header = Buffer.from(JSON.stringify({ alg })).toString('base64url')
      expect(() => verifyJwt(`${header}.${p}.${s}`, secret)).toThrow(JwtError)
      expect(() => verifyJwt(`${header}.${p}.${s}`, secret)).not.toThrow(/Evil/)
    }
  })
})

describe('gateway', () => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startTestGateway('pglite')
  })
  afterAll(() => gw?.close())

  const port = () => Number(new URL(gw.url).port)
  /** Sends raw bytes and returns what the gateway answered before closing. */
  const raw = (request: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = net.connect(port(), '127.0.0.1', () => socket.end(request))
      let answer = ''
      socket.on('data', (d) => (answer += d.toString()))
      socket.on('close', () => resolve(answer))
      socket.on('error', reject)
    })

  it('answers a request target that is not a URL path with 400, and keeps serving', async () => {
    for (const target of ['//', '///', '//@', '/\\']) {
      expect(await raw(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)).toMatch(/^HTTP\/1\.1 400/)
      expect(await raw(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`)).toMatch(/^HTTP\/1\.1 400/)
    }
    expect((await fetch(`${gw.url}/health`)).status).toBe(200)
  })

  it('survives clients that reset the connection while their upgrade is refused', async () => {
    const upgrade = (path: string) =>
      `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`
    for (let i = 0; i < 200; i++) {
      await new Promise<void>((resolve) => {
        const socket = net.connect(port(), '127.0.0.1', () => {
          socket.write(upgrade(i % 2 ? '/realtime/v1/websocket?apikey=bad' : '/rest/v1/nothing'))
          socket.resetAndDestroy()
          resolve()
        })
        socket.on('error', () => resolve())
      })
    }
    expect((await fetch(`${gw.url}/health`)).status).toBe(200)
  })

  it('answers health, 404 for unknown paths and CORS preflight', async () => {
    expect(await (await fetch(`${gw.url}/health`)).json()).toMatchObject({ status: 'ok' })
    const missing = await fetch(`${gw.url}/nope`)
    expect(missing.status).toBe(404)
    expect(((await missing.json()) as { message: string }).message).toMatch(/rest\/v1/)
    const preflight = await fetch(`${gw.url}/rest/v1/jobs`, { method: 'OPTIONS', headers: { Origin: 'http://localhost:3000' } })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*')
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/apikey/)
  })
})
