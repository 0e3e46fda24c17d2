import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signJwt } from '../../../src/gateway/jwt.ts'
import { BACKENDS } from '../../support/databases.ts'
import { officialClient, startTestGateway, type TestGateway } from '../support/test-gateway.ts'
import { blobBytes, createStorageFixture, fileExists, objectFileOf, PRIVATE_BUCKET } from './storage-fixtures.ts'

type User = Awaited<ReturnType<TestGateway['createUser']>>

describe.each(BACKENDS)('storage access decided by RLS policies (%s)', (backend) => {
  let gw: TestGateway
  let alice: User
  let bob: User
  let aliceFile: string

  beforeAll(async () => {
    gw = await startTestGateway(backend)
    await createStorageFixture(gw)
    alice = await gw.createUser()
    bob = await gw.createUser()
    aliceFile = `${alice.userId}/secret.txt`
    const up = await alice.client.storage.from(PRIVATE_BUCKET).upload(aliceFile, 'alice only')
    expect(up.error).toBeNull()
  })
  afterAll(() => gw?.close())

  const rls = { statusCode: '403', message: 'new row violates row-level security policy' }

  it("refuses another user everything on an object outside their folder", async () => {
    const asBob = bob.client.storage.from(PRIVATE_BUCKET)
    const down = await asBob.download(aliceFile)
    expect(down.data).toBeNull()
    expect(down.error).toMatchObject({ statusCode: '404', message: 'Object not found' })

    const listed = await asBob.list(alice.userId)
    expect(listed.error).toBeNull()
    expect(listed.data).toEqual([])
    expect((await asBob.list()).data).toEqual([]) // not even Alice's folder shows

    expect((await asBob.upload(aliceFile, 'overwritten', { upsert: true })).error).toMatchObject(rls)
    expect((await asBob.update(aliceFile, 'overwritten')).error).toMatchObject({ statusCode: '404' })
    expect((await asBob.upload(`${alice.userId}/planted.txt`, 'planted')).error).toMatchObject(rls)
    expect((await asBob.move(aliceFile, `${bob.userId}/stolen.txt`)).error).toMatchObject({ statusCode: '404' })
    expect((await asBob.copy(aliceFile, `${bob.userId}/stolen.txt`)).error).toMatchObject({ statusCode: '404' })
    expect((await asBob.createSignedUrl(aliceFile, 60)).error).toMatchObject({ statusCode: '404' })
    expect((await asBob.info(aliceFile)).error).toMatchObject({ statusCode: '404' })

    const removed = await asBob.remove([aliceFile])
    expect(removed.error).toBeNull()
    expect(removed.data).toEqual([])

    // Nothing changed for Alice, and Bob's refused upload left no row and no bytes.
    const mine = await alice.client.storage.from(PRIVATE_BUCKET).download(aliceFile)
    expect((await blobBytes(mine.data)).toString()).toBe('alice only')
    expect(await objectFileOf(gw, PRIVATE_BUCKET, `${alice.userId}/planted.txt`)).toBeUndefined()
  })

  it('lets each user work in their own folder', async () => {
    const asBob = bob.client.storage.from(PRIVATE_BUCKET)
    expect((await asBob.upload(`${bob.userId}/mine.txt`, 'bob')).error).toBeNull()
    expect((await asBob.list(bob.userId)).data?.map((e) => e.name)).toEqual(['mine.txt'])
    expect((await asBob.list()).data?.map((e) => e.name)).toEqual([bob.userId])
  })

  it('refuses anon: no upload, no download, an empty list', async () => {
    const anon = gw.anonClient().storage.from(PRIVATE_BUCKET)
    expect((await anon.upload(`${alice.userId}/anon.txt`, 'x')).error).toMatchObject(rls)
    expect((await anon.download(aliceFile)).error).toMatchObject({ statusCode: '404' })
    expect((await anon.list(alice.userId)).data).toEqual([])
  })

  it('refuses missing, expired and forged tokens', async () => {
    const noAuth = await fetch(`${gw.url}/storage/v1/object/${PRIVATE_BUCKET}/${aliceFile}`)
    expect(await noAuth.json()).toMatchObject({ statusCode: '403', code: 'InvalidJWT' })
    const iat = Math.floor(Date.now() / 1000) - 7200
    const expired = signJwt({ sub: alice.userId, role: 'authenticated', iat, exp: iat + 3600 }, gw.keys.jwtSecret)
    const asExpired = officialClient(gw.url, gw.keys.anonKey, expired).storage.from(PRIVATE_BUCKET)
    expect((await asExpired.download(aliceFile)).error).toMatchObject({ statusCode: '403', message: 'JWT expired' })
    const forged = signJwt({ sub: alice.userId, role: 'service_role' }, 'not-the-secret')
    const asForged = officialClient(gw.url, gw.keys.anonKey, forged).storage.from(PRIVATE_BUCKET)
    expect((await asForged.list(alice.userId)).error).toMatchObject({ statusCode: '403', code: 'InvalidJWT' })
  })

  it('lets service_role read, list, overwrite and remove anything (BYPASSRLS)', async () => {
    const service = gw.serviceClient().storage.from(PRIVATE_BUCKET)
    expect((await blobBytes((await service.download(aliceFile)).data)).toString()).toBe('alice only')
    expect((await service.list(alice.userId)).data?.map((e) => e.name)).toEqual(['secret.txt'])
    const coordinator = 'coordinator/model.onnx'
    expect((await service.upload(coordinator, 'weights')).error).toBeNull()
    const { rows } = await gw.db.query(`select owner, owner_id from storage.objects where name = $1`, [coordinator])
    expect(rows[0]).toEqual({ owner: null, owner_id: null })
    expect((await service.upload(aliceFile, 'replaced by the coordinator', { upsert: true })).error).toBeNull()
    const file = await objectFileOf(gw, PRIVATE_BUCKET, aliceFile)
    expect((await service.remove([aliceFile, coordinator])).data).toHaveLength(2)
    expect(fileExists(file)).toBe(false)
  })
})

describe.each(BACKENDS)('storage buckets (%s)', (backend) => {
  let gw: TestGateway
  let user: User

  beforeAll(async () => {
    gw = await startTestGateway(backend)
    user = await gw.createUser()
  })
  afterAll(() => gw?.close())

  it('lets service_role create, read, update, empty and delete a bucket', async () => {
    const storage = gw.serviceClient().storage
    const created = await storage.createBucket('models', { public: false, fileSizeLimit: '1MB', allowedMimeTypes: ['application/*'] })
    expect(created).toEqual({ data: { name: 'models' }, error: null })
    expect((await storage.createBucket('models', { public: false })).error).toMatchObject({
      statusCode: '409',
      message: 'The resource already exists',
    })
    const bucket = await storage.getBucket('models')
    expect(bucket.data).toMatchObject({ id: 'models', name: 'models', public: false, file_size_limit: 1_000_000, allowed_mime_types: ['application/*'] })
    expect((await storage.listBuckets()).data?.map((b) => b.id)).toContain('models')

    expect((await storage.updateBucket('models', { public: true, fileSizeLimit: null, allowedMimeTypes: null })).error).toBeNull()
    expect((await storage.getBucket('models')).data).toMatchObject({ public: true, file_size_limit: null, allowed_mime_types: null })

    expect((await storage.from('models').upload('a/one.bin', 'x')).error).toBeNull()
    const file = await objectFileOf(gw, 'models', 'a/one.bin')
    expect((await storage.deleteBucket('models')).error).toMatchObject({ statusCode: '409' })
    expect((await storage.emptyBucket('models')).data).toEqual({ message: 'Successfully emptied' })
    expect(fileExists(file)).toBe(false)
    expect((await storage.deleteBucket('models')).data).toEqual({ message: 'Successfully deleted' })
    expect((await storage.getBucket('models')).error).toMatchObject({ statusCode: '404', message: 'Bucket not found' })
  })

  it('refuses an authenticated user without a bucket policy', async () => {
    await gw.serviceClient().storage.createBucket('team', { public: false })
    const storage = user.client.storage
    expect((await storage.createBucket('mine', { public: true })).error).toMatchObject({
      statusCode: '403',
      message: 'new row violates row-level security policy',
    })
    expect((await storage.listBuckets()).data).toEqual([])
    expect((await storage.getBucket('team')).error).toMatchObject({ statusCode: '404' })
    expect((await storage.updateBucket('team', { public: true })).error).toMatchObject({ statusCode: '404' })
    expect((await storage.emptyBucket('team')).error).toMatchObject({ statusCode: '404' })
    expect((await storage.deleteBucket('team')).error).toMatchObject({ statusCode: '404' })
    const { rows } = await gw.db.query(`select public from storage.buckets where id = 'team'`)
    expect(rows).toEqual([{ public: false }])
  })

  it('lets a bucket policy grant users bucket creation, owned by them', async () => {
    await gw.db.exec(`
      create policy "Users create buckets they own" on storage.buckets for insert to authenticated
        with check (owner_id = (select auth.uid())::text);
      create policy "Users see their buckets" on storage.buckets for select to authenticated
        using (owner_id = (select auth.uid())::text);
    `)
    const storage = user.client.storage
    expect((await storage.createBucket('user-made', { public: false })).error).toBeNull()
    expect((await storage.listBuckets()).data?.map((b) => b.id)).toEqual(['user-made'])
    const { rows } = await gw.db.query(`select owner from storage.buckets where id = 'user-made'`)
    expect(rows).toEqual([{ owner: user.userId }])
  })
})
