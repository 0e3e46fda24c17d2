import { getBytes, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS } from '../../support/databases.ts'
import { startTestGateway, type TestGateway } from '../support/test-gateway.ts'
import { countRows, freshNonce, jwtPayload, signedSiwe, siweMessage } from './auth-helpers.ts'

const MINUTE = 60_000

describe.each(BACKENDS)('Sign-In with Ethereum on %s', (backend) => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startTestGateway(backend, { siweDomains: ['oblivion.example'] })
  })
  afterAll(() => gw?.close())

  const signIn = (credentials: { message: string; signature: string }) =>
    gw.anonClient().auth.signInWithWeb3({ chain: 'ethereum', ...credentials })

  /** Signs in with a refused message and checks: the code, and that no session was made. */
  async function expectRefused(credentials: { message: string; signature: string }, code: string) {
    const before = await countRows(gw, 'auth.sessions')
    const { data, error } = await signIn(credentials)
    expect(error, `expected ${code}`).not.toBeNull()
    expect(error).toMatchObject({ name: 'AuthApiError', status: 400, code })
    expect(data.session).toBeNull()
    expect(await countRows(gw, 'auth.sessions')).toBe(before)
    return error!
  }

  it('signs a wallet in: a session, a web3 user keyed by the address, GoTrue claims', async () => {
    const wallet = Wallet.createRandom()
    const { data, error } = await signIn(await signedSiwe(wallet))
    expect(error).toBeNull()
    const session = data.session!
    expect(session).toMatchObject({ token_type: 'bearer', expires_in: 3600 })
    expect(session.refresh_token).toEqual(expect.any(String))
    expect(session.expires_at).toBeGreaterThan(Date.now() / 1000)
    const address = wallet.address.toLowerCase()
    expect(data.user).toMatchObject({
      aud: 'authenticated',
      role: 'authenticated',
      is_anonymous: false,
      app_metadata: { provider: 'web3', providers: ['web3'] },
      user_metadata: { custom_claims: { address, chain: 'ethereum', network: 8119, domain: 'localhost:3000' } },
    })
    expect(data.user!.identities).toEqual([expect.objectContaining({ provider: 'web3', id: `web3:ethereum:${address}` })])

    const claims = jwtPayload(session.access_token)
    expect(claims).toMatchObject({
      iss: `${gw.url}/auth/v1`,
      sub: data.user!.id,
      aud: 'authenticated',
      role: 'authenticated',
      aal: 'aal1',
      is_anonymous: false,
      app_metadata: { provider: 'web3' },
      user_metadata: { custom_claims: { address } },
    })
    expect(claims.exp).toBe((claims.iat as number) + 3600)
    expect(claims.amr).toEqual([{ method: 'web3', timestamp: expect.any(Number) }])
    expect(claims.session_id).toEqual(expect.stringMatching(/^[0-9a-f-]{36}$/))

    const { data: fetched, error: userError } = await gw.anonClient().auth.getUser(session.access_token)
    expect(userError).toBeNull()
    expect(fetched.user!.id).toBe(data.user!.id)
  })

  it('gives the same user to the same wallet on every sign-in (new nonce each time)', async () => {
    const wallet = Wallet.createRandom()
    const first = await signIn(await signedSiwe(wallet))
    const second = await signIn(await signedSiwe(wallet))
    expect(second.error).toBeNull()
    expect(second.data.user!.id).toBe(first.data.user!.id)
    expect(second.data.session!.refresh_token).not.toBe(first.data.session!.refresh_token)
    expect(await countRows(gw, 'auth.identities', `provider_id = $1`, [`web3:ethereum:${wallet.address.toLowerCase()}`])).toBe(1)
    const other = await signIn(await signedSiwe(Wallet.createRandom()))
    expect(other.data.user!.id).not.toBe(first.data.user!.id)
  })

  it('two first sign-ins of one wallet at once make one user', async () => {
    const wallet = Wallet.createRandom()
    const results = await Promise.all([signIn(await signedSiwe(wallet)), signIn(await signedSiwe(wallet)), signIn(await signedSiwe(wallet))])
    for (const r of results) expect(r.error).toBeNull()
    expect(new Set(results.map((r) => r.data.user!.id)).size).toBe(1)
    expect(await countRows(gw, 'auth.users', `id = $1::uuid`, [results[0]!.data.user!.id])).toBe(1)
  })

  it('works through the client building and signing the message itself (EIP-1193 wallet)', async () => {
    const wallet = Wallet.createRandom()
    const seen: string[] = []
    const eip1193 = {
      async request({ method, params }: { method: string; params?: unknown[] }) {
        if (method === 'eth_requestAccounts') return [wallet.address]
        if (method === 'eth_chainId') return '0x1fb7'
        if (method === 'personal_sign') {
          const [hexMessage, account] = params as [string, string]
          expect(account.toLowerCase()).toBe(wallet.address.toLowerCase())
          seen.push(Buffer.from(getBytes(hexMessage)).toString('utf8'))
          return wallet.signMessage(getBytes(hexMessage))
        }
        throw new Error(`unexpected wallet call ${method}`)
      },
    }
    const { data, error } = await gw.anonClient().auth.signInWithWeb3({
      chain: 'ethereum',
      wallet: eip1193 as never,
      statement: 'Sign in to Oblivion',
      options: { url: 'http://localhost:3000/login', signInWithEthereum: { nonce: freshNonce() } },
    })
    expect(error).toBeNull()
    expect(seen[0]).toContain('Chain ID: 8119')
    expect(data.user!.user_metadata).toMatchObject({ custom_claims: { address: wallet.address.toLowerCase(), network: 8119 } })
  })

  it('accepts a configured https site (siweDomains)', async () => {
    const wallet = Wallet.createRandom()
    const { error } = await signIn(await signedSiwe(wallet, { domain: 'oblivion.example', uri: 'https://oblivion.example/login' }))
    expect(error).toBeNull()
  })

  it('refuses a replayed message, also when both copies arrive at once', async () => {
    const wallet = Wallet.createRandom()
    const credentials = await signedSiwe(wallet)
    expect((await signIn(credentials)).error).toBeNull()
    const error = await expectRefused(credentials, 'web3_nonce_reused')
    expect(error.message).toMatch(/already used/)

    const racing = await signedSiwe(wallet)
    const results = await Promise.all([signIn(racing), signIn(racing), signIn(racing)])
    expect(results.filter((r) => r.error === null)).toHaveLength(1)
    for (const r of results.filter((r) => r.error)) expect(r.error).toMatchObject({ code: 'web3_nonce_reused' })
  })

  it('refuses a domain that is not the URI host, and a URI host that is not allowed', async () => {
    const wallet = Wallet.createRandom()
    await expectRefused(await signedSiwe(wallet, { domain: 'evil.example' }), 'web3_domain_mismatch')
    await expectRefused(await signedSiwe(wallet, { domain: 'evil.example', uri: 'https://evil.example/login' }), 'web3_uri_not_allowed')
    await expectRefused(await signedSiwe(wallet, { domain: 'oblivion.example', uri: 'http://oblivion.example/login' }), 'web3_uri_not_allowed')
  })

  it('refuses messages outside their time window', async () => {
    const wallet = Wallet.createRandom()
    const now = Date.now()
    await expectRefused(await signedSiwe(wallet, { issuedAt: new Date(now - 11 * MINUTE) }), 'web3_message_expired')
    await expectRefused(await signedSiwe(wallet, { issuedAt: new Date(now + 11 * MINUTE) }), 'web3_message_not_yet_valid')
    await expectRefused(await signedSiwe(wallet, { expirationTime: new Date(now - 1000) }), 'web3_message_expired')
    await expectRefused(await signedSiwe(wallet, { notBefore: new Date(now + MINUTE) }), 'web3_message_not_yet_valid')
    // Within the window: a message issued 5 minutes ago still passes.
    expect((await signIn(await signedSiwe(wallet, { issuedAt: new Date(now - 5 * MINUTE) }))).error).toBeNull()
  })

  it('refuses a tampered signature and a signature by another wallet', async () => {
    const wallet = Wallet.createRandom()
    const { message, signature } = await signedSiwe(wallet)
    const flipped = signature.slice(0, 20) + (signature[20] === 'a' ? 'b' : 'a') + signature.slice(21)
    await expectRefused({ message, signature: flipped }, 'web3_signature_invalid')
    await expectRefused({ message, signature: await Wallet.createRandom().signMessage(message) }, 'web3_signature_invalid')
    // The same text with one character changed no longer matches its signature.
    await expectRefused({ message: message.replace('Sign in to Oblivion', 'Sign in to Oblivium'), signature }, 'web3_signature_invalid')
    // And the untouched pair still works: nothing above consumed its nonce.
    expect((await signIn({ message, signature })).error).toBeNull()
  })

  it('refuses malformed messages and signatures as validation_failed', async () => {
    const wallet = Wallet.createRandom()
    const fields = {
      domain: 'localhost:3000',
      address: wallet.address,
      uri: 'http://localhost:3000/login',
      chainId: 1,
      issuedAt: new Date(),
    }
    const sign = async (message: string) => ({ message, signature: await wallet.signMessage(message) })
    const noNonce = await expectRefused(await sign(siweMessage(fields)), 'validation_failed')
    expect(noNonce.message).toMatch(/Nonce/)
    await expectRefused(await sign(siweMessage({ ...fields, nonce: 'short1' })), 'validation_failed')
    await expectRefused(await sign(siweMessage({ ...fields, nonce: freshNonce() }).replace('Version: 1', 'Version: 2')), 'validation_failed')
    await expectRefused(await sign(siweMessage({ ...fields, nonce: freshNonce() }).replace('\nURI:', '\nurl:')), 'validation_failed')
    await expectRefused(await sign(`${siweMessage({ ...fields, nonce: freshNonce() })}\nextra line`), 'validation_failed')
    await expectRefused(await sign(siweMessage({ ...fields, nonce: freshNonce() }).replaceAll('\n', '\r\n')), 'validation_failed')
    await expectRefused(await sign('x'.repeat(100)), 'validation_failed')
    await expectRefused({ message: siweMessage({ ...fields, nonce: freshNonce() }), signature: '0x1234' }, 'validation_failed')
  })
})
