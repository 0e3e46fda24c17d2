import { randomBytes } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signJwt } from '../../../src/gateway/jwt.ts'
import { BACKENDS } from '../../support/databases.ts'
import { startTestGateway, type TestGateway } from '../support/test-gateway.ts'
import {
  blobBytes,
  createStorageFixture,
  fileExists,
  objectFileOf,
  PRIVATE_BUCKET,
  PUBLIC_BUCKET,
} from './storage-fixtures.ts'

type User = Awaited<ReturnType<TestGateway['createUser']>>

describe.each(BACKENDS)('storage objects through supabase-js (%s)', (backend) => {
  let gw: TestGateway
  let alice: User

  beforeAll(async () => {
    gw = await startTestGateway(backend)
    await createStorageFixture(gw)
    alice = await gw.createUser()
  })
  afterAll(() => gw?.close())

  const files = () => alice.client.storage.from(PRIVATE_BUCKET)

  it('uploads 8 MiB of random bytes and downloads them back byte for byte, with storage-api metadata', async () => {
    const bytes = randomBytes(8 * 1024 * 1024)
    const name = `${alice.userId}/weights.bin`
    const up = await files().upload(name, bytes, { contentType: 'application/octet-stream', cacheControl: '60' })
    expect(up.error).toBeNull()
    expect(up.data).toMatchObject({ path: name, fullPath: `${PRIVATE_BUCKET}/${name}` })
    expect(up.data?.id).toMatch(/^[0-9a-f-]{36}$/)

    const down = await files().download(name)
    expect(down.error).toBeNull()
    expect((await blobBytes(down.data)).equals(bytes)).toBe(true)

    const { rows } = await gw.db.query<{ owner: string; owner_id: string; metadata: Record<string, unknown> }>(
      `select owner, owner_id, metadata from storage.objects where bucket_id = $1 and name = $2`,
      [PRIVATE_BUCKET, name],
    )
    expect(rows[0]).toMatchObject({ owner: alice.userId, owner_id: alice.userId })
    expect(rows[0]?.metadata).toMatchObject({
      size: bytes.length,
      contentLength: bytes.length,
      mimetype: 'application/octet-stream',
      cacheControl: 'max-age=60',
      httpStatusCode: 200,
    })
    expect(rows[0]?.metadata.eTag).toMatch(/^"[0-9a-f]{32}"$/)
  })

  it('streams downloads with Content-Type, Content-Length, ETag and Cache-Control', async () => {
    const name = `${alice.userId}/headers.txt`
    await files().upload(name, 'hello headers', { contentType: 'text/plain' })
    const res = await fetch(`${gw.url}/storage/v1/object/authenticated/${PRIVATE_BUCKET}/${name}`, {
      headers: { Authorization: `Bearer ${alice.accessToken}` },
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/plain')
    expect(res.headers.get('content-length')).toBe('13')
    expect(res.headers.get('cache-control')).toBe('max-age=3600')
    const etag = res.headers.get('etag')
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/)
    expect(await res.text()).toBe('hello headers')
    const again = await fetch(`${gw.url}/storage/v1/object/authenticated/${PRIVATE_BUCKET}/${name}`, {
      headers: { Authorization: `Bearer ${alice.accessToken}`, 'If-None-Match': etag! },
    })
    expect(again.status).toBe(304)
  })

  it('uploads a Blob as multipart/form-data with its content type and user metadata', async () => {
    const name = `${alice.userId}/notes/readme.md`
    const blob = new Blob(['# multipart\n'], { type: 'text/markdown' })
    const up = await files().upload(name, blob, { metadata: { purpose: 'docs' } })
    expect(up.error).toBeNull()
    const info = await files().info(name)
    expect(info.error).toBeNull()
    expect(info.data).toMatchObject({ name, size: 12, contentType: 'text/markdown', metadata: { purpose: 'docs' } })
    expect((await blobBytes((await files().download(name)).data)).toString()).toBe('# multipart\n')
    expect((await files().exists(name)).data).toBe(true)
    expect((await files().exists(`${alice.userId}/notes/missing.md`)).data).toBe(false)
  })

  it('round-trips a multi-MiB multipart Blob whose bytes straddle the parser\'s chunk edges', async () => {
    // Random bytes contain CRLFs and dashes; 3 MiB spans many socket chunks.
    const bytes = randomBytes(3 * 1024 * 1024 + 7)
    const name = `${alice.userId}/blob.bin`
    expect((await files().upload(name, new Blob([bytes]))).error).toBeNull()
    expect((await blobBytes((await files().download(name)).data)).equals(bytes)).toBe(true)
  })

  it('keeps exactly one version on disk after concurrent upserts of one name', async () => {
    const name = `${alice.userId}/raced.txt`
    const bodies = Array.from({ length: 6 }, (_, i) => `version ${i}`)
    const results = await Promise.all(bodies.map((body) => files().upload(name, body, { upsert: true })))
    expect(results.map((r) => r.error)).toEqual(bodies.map(() => null))
    const final = (await blobBytes((await files().download(name)).data)).toString()
    expect(bodies).toContain(final)
    const { rows } = await gw.db.query<{ n: number }>(`select count(*)::int as n from storage.objects where name = $1`, [name])
    expect(rows[0]?.n).toBe(1)
    const { rows: versions } = await gw.db.query<{ version: string }>(`select version from storage.objects`)
    let onDisk = 0
    for (const shard of await readdir(`${gw.storageDir}/objects`)) onDisk += (await readdir(`${gw.storageDir}/objects/${shard}`)).length
    expect(onDisk).toBe(versions.length) // every superseded version's bytes were removed
  })

  it('refuses a duplicate upload with 409 unless x-upsert, and update replaces the bytes', async () => {
    const name = `${alice.userId}/dup.txt`
    expect((await files().upload(name, 'first')).error).toBeNull()
    const firstFile = await objectFileOf(gw, PRIVATE_BUCKET, name)

    const dup = await files().upload(name, 'second')
    expect(dup.error).toMatchObject({ statusCode: '409', message: 'The resource already exists' })
    expect((await blobBytes((await files().download(name)).data)).toString()).toBe('first')

    expect((await files().upload(name, 'second', { upsert: true })).error).toBeNull()
    expect((await blobBytes((await files().download(name)).data)).toString()).toBe('second')
    expect(fileExists(firstFile)).toBe(false) // the superseded bytes are gone

    expect((await files().update(name, 'third')).error).toBeNull()
    expect((await blobBytes((await files().download(name)).data)).toString()).toBe('third')

    const missing = await files().update(`${alice.userId}/never-uploaded.txt`, 'x')
    expect(missing.error).toMatchObject({ statusCode: '404', message: 'Object not found' })
  })

  it('lists one level with folders first, limit/offset and sortBy, as storage-api answers', async () => {
    const base = `${alice.userId}/listing`
    for (const name of ['b.txt', 'a.txt', 'c.txt', 'sub/x.txt', 'sub/y.txt', 'other/z.txt']) {
      expect((await files().upload(`${base}/${name}`, name)).error).toBeNull()
    }
    const all = await files().list(base)
    expect(all.error).toBeNull()
    expect(all.data?.map((e) => e.name)).toEqual(['other', 'sub', 'a.txt', 'b.txt', 'c.txt'])
    const folder = all.data?.find((e) => e.name === 'sub')
    expect(folder).toMatchObject({ id: null, metadata: null, updated_at: null })
    const file = all.data?.find((e) => e.name === 'a.txt')
    expect(file?.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(file?.metadata).toMatchObject({ size: 5, mimetype: 'text/plain;charset=UTF-8' })

    const page = await files().list(base, { limit: 2, offset: 2 })
    expect(page.data?.map((e) => e.name)).toEqual(['a.txt', 'b.txt'])
    const desc = await files().list(base, { sortBy: { column: 'name', order: 'desc' } })
    expect(desc.data?.map((e) => e.name)).toEqual(['sub', 'other', 'c.txt', 'b.txt', 'a.txt'])
    const searched = await files().list(base, { search: 'b' })
    expect(searched.data?.map((e) => e.name)).toEqual(['b.txt'])
    expect((await files().list(`${base}/sub`)).data?.map((e) => e.name)).toEqual(['x.txt', 'y.txt'])
  })

  it('removes objects: the rows go, downloads answer 404 and the bytes leave the disk', async () => {
    const names = [`${alice.userId}/rm/one.txt`, `${alice.userId}/rm/two.txt`]
    for (const name of names) await files().upload(name, name)
    const diskFiles = await Promise.all(names.map((name) => objectFileOf(gw, PRIVATE_BUCKET, name)))
    expect(diskFiles.every(fileExists)).toBe(true)

    const removed = await files().remove(names)
    expect(removed.error).toBeNull()
    expect(removed.data?.map((o) => o.name).sort()).toEqual(names)
    for (const name of names) {
      const down = await files().download(name)
      expect(down.data).toBeNull()
      expect(down.error).toMatchObject({ statusCode: '404', message: 'Object not found' })
    }
    expect(diskFiles.some(fileExists)).toBe(false)
  })

  it('moves and copies objects', async () => {
    const from = `${alice.userId}/mv/from.txt`
    await files().upload(from, 'moving bytes')
    expect((await files().move(from, `${alice.userId}/mv/to.txt`)).error).toBeNull()
    expect((await files().download(from)).error).toMatchObject({ statusCode: '404' })
    expect((await blobBytes((await files().download(`${alice.userId}/mv/to.txt`)).data)).toString()).toBe('moving bytes')

    const copied = await files().copy(`${alice.userId}/mv/to.txt`, `${alice.userId}/mv/copy.txt`)
    expect(copied.error).toBeNull()
    expect(copied.data).toEqual({ path: `${PRIVATE_BUCKET}/${alice.userId}/mv/copy.txt` })
    await files().remove([`${alice.userId}/mv/to.txt`])
    expect((await blobBytes((await files().download(`${alice.userId}/mv/copy.txt`)).data)).toString()).toBe('moving bytes')
  })

  it('serves signed URLs without auth and refuses expired, tampered and other-path tokens', async () => {
    const name = `${alice.userId}/signed/report.csv`
    await files().upload(name, 'a,b\n1,2\n', { contentType: 'text/csv' })
    const signed = await files().createSignedUrl(name, 60)
    expect(signed.error).toBeNull()
    const url = signed.data!.signedUrl
    const res = await fetch(url) // no apikey, no Authorization
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/csv')
    expect(await res.text()).toBe('a,b\n1,2\n')

    const token = new URL(url).searchParams.get('token')!
    const tampered = url.replace(token, `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`)
    const tamperedRes = await fetch(tampered)
    expect(tamperedRes.status).toBe(400)
    expect(await tamperedRes.json()).toMatchObject({ statusCode: '400', error: 'InvalidJWT' })

    const otherPath = url.replace('report.csv', 'other.csv')
    const otherRes = await fetch(otherPath)
    expect(await otherRes.json()).toMatchObject({ statusCode: '400', error: 'InvalidSignature' })

    const past = Math.floor(Date.now() / 1000) - 120
    const expiredToken = signJwt({ url: `${PRIVATE_BUCKET}/${name}`, iat: past - 60, exp: past }, gw.keys.jwtSecret)
    const expiredRes = await fetch(url.replace(token, expiredToken))
    expect(await expiredRes.json()).toMatchObject({ statusCode: '400', message: 'jwt expired' })

    const many = await files().createSignedUrls([name, `${alice.userId}/signed/missing.csv`], 60)
    expect(many.error).toBeNull()
    expect(many.data?.[0]?.error).toBeNull()
    expect(await (await fetch(many.data![0]!.signedUrl!)).text()).toBe('a,b\n1,2\n')
    expect(many.data?.[1]).toMatchObject({ signedUrl: null })
    expect(many.data?.[1]?.error).toMatch(/does not exist/)
  })

  it('creates signed upload URLs only where the signer may write, usable without auth, owned by the signer', async () => {
    const name = `${alice.userId}/uploads/artifact.bin`
    const signed = await files().createSignedUploadUrl(name)
    expect(signed.error).toBeNull()
    const anon = gw.anonClient().storage.from(PRIVATE_BUCKET)
    const up = await anon.uploadToSignedUrl(name, signed.data!.token, Buffer.from('signed upload'))
    expect(up.error).toBeNull()
    expect(up.data).toMatchObject({ path: name, fullPath: `${PRIVATE_BUCKET}/${name}` })
    expect((await blobBytes((await files().download(name)).data)).toString()).toBe('signed upload')
    const { rows } = await gw.db.query(`select owner_id from storage.objects where name = $1`, [name])
    expect(rows).toEqual([{ owner_id: alice.userId }])

    // Not an upsert: the same link cannot overwrite.
    expect((await anon.uploadToSignedUrl(name, signed.data!.token, Buffer.from('again'))).error).toMatchObject({ statusCode: '409' })
    // A link for one path does not upload another, and a download link does not upload at all.
    const other = await anon.uploadToSignedUrl(`${alice.userId}/uploads/other.bin`, signed.data!.token, Buffer.from('x'))
    expect(other.error).toMatchObject({ statusCode: '400', message: expect.stringMatching(/signature/) })
    const downloadLink = await files().createSignedUrl(name, 60)
    const downloadToken = new URL(downloadLink.data!.signedUrl).searchParams.get('token')!
    expect((await anon.uploadToSignedUrl(`${alice.userId}/uploads/via-download.bin`, downloadToken, Buffer.from('x'))).error).not.toBeNull()
    // Someone who may not write there cannot get a link.
    const bob = await gw.createUser()
    expect((await bob.client.storage.from(PRIVATE_BUCKET).createSignedUploadUrl(`${alice.userId}/uploads/b.bin`)).error).toMatchObject({
      statusCode: '403',
    })
  })

  it('serves public URLs for the public bucket only', async () => {
    const name = `${alice.userId}/avatar.txt`
    const pub = alice.client.storage.from(PUBLIC_BUCKET)
    expect((await pub.upload(name, 'public bytes')).error).toBeNull()
    const publicRes = await fetch(pub.getPublicUrl(name).data.publicUrl)
    expect(publicRes.status).toBe(200)
    expect(await publicRes.text()).toBe('public bytes')

    const privateName = `${alice.userId}/private.txt`
    await files().upload(privateName, 'private bytes')
    const privateRes = await fetch(files().getPublicUrl(privateName).data.publicUrl)
    expect(privateRes.status).toBe(400)
    expect(await privateRes.json()).toMatchObject({ statusCode: '404', error: 'Bucket not found' })
  })

  it('keeps names with spaces and symbols intact and refuses non-ASCII names as storage-api does', async () => {
    const name = `${alice.userId}/odd names/report (v2) & final+1.txt`
    expect((await files().upload(name, 'odd')).error).toBeNull()
    expect((await blobBytes((await files().download(name)).data)).toString()).toBe('odd')
    expect((await files().list(`${alice.userId}/odd names`)).data?.map((e) => e.name)).toEqual(['report (v2) & final+1.txt'])
    const accented = await files().upload(`${alice.userId}/résumé.txt`, 'x')
    expect(accented.error).toMatchObject({ statusCode: '400', code: 'InvalidKey' })
  })
})
