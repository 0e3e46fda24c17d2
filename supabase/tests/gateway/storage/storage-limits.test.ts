import { randomBytes, randomUUID } from 'node:crypto'
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS } from '../../support/databases.ts'
import { startTestGateway, type TestGateway } from '../support/test-gateway.ts'
import { blobBytes, createStorageFixture, fileExists, objectFileOf, PRIVATE_BUCKET } from './storage-fixtures.ts'

type User = Awaited<ReturnType<TestGateway['createUser']>>

const UPLOAD_LIMIT = 1024 * 1024

describe.each(BACKENDS)('storage limits and the disk (%s)', (backend) => {
  let gw: TestGateway
  let alice: User

  beforeAll(async () => {
    gw = await startTestGateway(backend, { limits: { uploadBytes: UPLOAD_LIMIT } })
    await createStorageFixture(gw)
    await gw.db.exec(`
      insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
      values ('pictures', 'pictures', false, 1000, array['image/png', 'image/svg+xml']);
      create policy "Users upload pictures" on storage.objects for insert to authenticated
        with check (bucket_id = 'pictures');
    `)
    alice = await gw.createUser()
  })
  afterAll(() => gw?.close())

  const objectCount = async () =>
    Number((await gw.db.query<{ n: number }>(`select count(*)::int as n from storage.objects`)).rows[0]?.n)
  const diskFileCount = async () => {
    let n = 0
    for (const shard of await readdir(path.join(gw.storageDir, 'objects'))) {
      n += (await readdir(path.join(gw.storageDir, 'objects', shard))).length
    }
    return n
  }
  const tmpFiles = () => readdir(path.join(gw.storageDir, 'tmp'))

  it('refuses a multipart body padded with endless fields, and header-breaking cacheControl or type', async () => {
    const [rowsBefore, filesBefore] = [await objectCount(), await diskFileCount()]
    const post = (name: string, form: FormData) =>
      fetch(`${gw.url}/storage/v1/object/${PRIVATE_BUCKET}/${alice.userId}/${name}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${alice.accessToken}` },
        body: form,
      })
    const padded = new FormData()
    for (let i = 0; i < 40; i++) padded.append(`pad${i}`, 'x'.repeat(60 * 1024)) // 2.4 MB of fields
    padded.append('file', new Blob([new Uint8Array(10)]), 'f.bin')
    const paddedAnswer = await post('padded.bin', padded)
    expect(paddedAnswer.status).toBe(400)
    expect(((await paddedAnswer.json()) as { message: string }).message).toMatch(/besides the file/)

    const badCache = new FormData()
    badCache.append('cacheControl', 'max-age=1\r\nSet-Cookie: x=1')
    badCache.append('file', new Blob([new Uint8Array(10)]), 'f.bin')
    expect((await post('bad-cache.bin', badCache)).status).toBe(400)

    // FormData cleans a Blob's type, so a hostile client writes the part header itself.
    const body = Buffer.concat([
      Buffer.from('--b0undary\r\nContent-Disposition: form-data; name="file"; filename="f.bin"\r\nContent-Type: text/plain; x='),
      Buffer.from([0xff, 0x0b]),
      Buffer.from('\r\n\r\nhello\r\n--b0undary--\r\n'),
    ])
    const badType = await fetch(`${gw.url}/storage/v1/object/${PRIVATE_BUCKET}/${alice.userId}/bad-type.bin`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${alice.accessToken}`, 'Content-Type': 'multipart/form-data; boundary=b0undary' },
      body,
    })
    expect(badType.status).toBe(400)

    expect(await objectCount()).toBe(rowsBefore)
    expect(await diskFileCount()).toBe(filesBefore)
  })

  it('answers 413 to uploads over the install limit, raw, multipart or streamed, and stores nothing', async () => {
    const files = alice.client.storage.from(PRIVATE_BUCKET)
    const [rowsBefore, filesBefore] = [await objectCount(), await diskFileCount()]
    const big = randomBytes(2 * UPLOAD_LIMIT)

    const raw = await files.upload(`${alice.userId}/big.bin`, big)
    expect(raw.error).toMatchObject({ status: 413, statusCode: '413' })
    expect(raw.error?.message).toMatch(/exceeded the maximum allowed size/)

    const multipart = await files.upload(`${alice.userId}/big-blob.bin`, new Blob([big]))
    expect(multipart.error).toMatchObject({ status: 413, statusCode: '413' })

    // No Content-Length: the limit is enforced while the body streams to disk.
    const chunks = Array.from({ length: 32 }, () => randomBytes(UPLOAD_LIMIT / 16))
    const streamed = await files.upload(`${alice.userId}/big-stream.bin`, Readable.from(chunks))
    expect(streamed.error).toMatchObject({ status: 413, statusCode: '413' })

    expect(await objectCount()).toBe(rowsBefore)
    expect(await diskFileCount()).toBe(filesBefore)
    expect(await tmpFiles()).toEqual([])

    // Right at the limit is fine.
    const fits = randomBytes(UPLOAD_LIMIT)
    expect((await files.upload(`${alice.userId}/fits.bin`, fits)).error).toBeNull()
    expect((await blobBytes((await files.download(`${alice.userId}/fits.bin`)).data)).equals(fits)).toBe(true)
  })

  it("enforces a bucket's file_size_limit and allowed_mime_types as storage-api does", async () => {
    const pictures = alice.client.storage.from('pictures')
    const tooBig = await pictures.upload('big.png', randomBytes(1001), { contentType: 'image/png' })
    expect(tooBig.error).toMatchObject({ status: 400, statusCode: '413' })
    const tooBigBlob = await pictures.upload('big-blob.png', new Blob([randomBytes(1001)], { type: 'image/png' }))
    expect(tooBigBlob.error).toMatchObject({ statusCode: '413' })

    const wrongType = await pictures.upload('notes.txt', 'hello', { contentType: 'text/plain' })
    expect(wrongType.error).toMatchObject({ statusCode: '415', message: 'mime type text/plain is not supported' })
    const wrongBlob = await pictures.upload('notes-blob.txt', new Blob(['hello'], { type: 'text/html' }))
    expect(wrongBlob.error).toMatchObject({ statusCode: '415', message: 'mime type text/html is not supported' })

    expect((await pictures.upload('ok.png', randomBytes(1000), { contentType: 'image/png' })).error).toBeNull()
    expect((await pictures.upload('ok.svg', new Blob(['<svg/>'], { type: 'image/svg+xml' }))).error).toBeNull()
    const { rows } = await gw.db.query(`select name from storage.objects where bucket_id = 'pictures' order by name`)
    expect(rows).toEqual([{ name: 'ok.png' }, { name: 'ok.svg' }])
    expect(await tmpFiles()).toEqual([])
  })

  it('refuses path traversal and absolute names; nothing is written outside the storage folder', async () => {
    const outside = path.dirname(gw.storageDir)
    const before = new Set(await readdir(outside))
    const post = (encodedName: string) =>
      fetch(`${gw.url}/storage/v1/object/${PRIVATE_BUCKET}/${encodedName}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${alice.accessToken}`, 'Content-Type': 'text/plain' },
        body: 'escape attempt',
      })
    for (const name of [`${alice.userId}%2F..%2F..%2F..%2Fescape.txt`, '%2Fetc%2Fescape.txt', `${alice.userId}/.%2Fx.txt`, `${alice.userId}//x.txt`]) {
      const res = await post(name)
      expect(res.status).toBe(400)
      expect(await res.json()).toMatchObject({ statusCode: '400', code: 'InvalidKey' })
    }
    // supabase-js leaves "../" for fetch to resolve: the request then names no object at all.
    const files = alice.client.storage.from(PRIVATE_BUCKET)
    expect((await files.upload('../escape.txt', 'x')).error).not.toBeNull()
    expect((await files.upload(`${alice.userId}/../../escape.txt`, 'x')).error).not.toBeNull()
    await files.upload(`${alice.userId}/inside.txt`, 'inside')
    const moved = await files.move(`${alice.userId}/inside.txt`, `${alice.userId}/../../../escape.txt`)
    expect(moved.error).toMatchObject({ statusCode: '400', code: 'InvalidKey' })

    // The folder is the system's temp folder: test files running alongside make and remove
    // their own oblivion-* folders there meanwhile; anything else new would be an escape.
    const appeared = (await readdir(outside)).filter((name) => !before.has(name) && !name.startsWith('oblivion-'))
    expect(appeared).toEqual([])
    expect((await readdir(gw.storageDir)).sort()).toEqual(['objects', 'tmp'])
    const { rows } = await gw.db.query(`select name from storage.objects where name like '%escape%'`)
    expect(rows).toEqual([])
  })

  it('answers 413 to JSON bodies over the JSON limit', async () => {
    const res = await fetch(`${gw.url}/storage/v1/object/${PRIVATE_BUCKET}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${alice.accessToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ prefixes: Array.from({ length: 60_000 }, (_, i) => `${alice.userId}/file-${i}.txt`) }),
    })
    expect(res.status).toBe(413)
    expect(await res.json()).toMatchObject({ statusCode: '413', error: 'Payload too large' })
  })

  it('removes unreferenced object files at start and keeps the referenced ones', async () => {
    const files = alice.client.storage.from(PRIVATE_BUCKET)
    await files.upload(`${alice.userId}/kept.txt`, 'kept')
    const kept = await objectFileOf(gw, PRIVATE_BUCKET, `${alice.userId}/kept.txt`)
    const orphanVersion = randomUUID()
    const orphan = path.join(gw.storageDir, 'objects', orphanVersion.slice(0, 2), orphanVersion)
    await mkdir(path.dirname(orphan), { recursive: true })
    await writeFile(orphan, 'bytes of a transaction that never committed')
    await writeFile(path.join(gw.storageDir, 'tmp', 'cut-off-upload.part'), 'partial')

    await gw.restart()
    expect(fileExists(orphan)).toBe(false)
    expect(fileExists(kept)).toBe(true)
    expect(await tmpFiles()).toEqual([])
    expect((await blobBytes((await files.download(`${alice.userId}/kept.txt`)).data)).toString()).toBe('kept')
  })
})
