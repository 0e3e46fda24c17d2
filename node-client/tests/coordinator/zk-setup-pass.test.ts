import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type TestGateway } from '../../../supabase/tests/gateway/support/test-gateway.ts'
import type { CoordinatorEvent } from '../../src/coordinator/coordinator-events.ts'
import { contributeToZkSetups } from '../../src/coordinator/zk-setup-pass.ts'

/**
 * The coordinator's half of a marketplace model's setup, through a real gateway. The happy path
 * (contribution + block-hash beacon, checked by the owner) runs in tests/e2e/marketplace.test.ts.
 */
let gw: TestGateway

beforeAll(async () => {
  gw = await startTestGateway('pglite')
})

afterAll(async () => {
  await gw?.close()
})

async function requestSetup(): Promise<string> {
  const owner = await gw.createUser()
  const { rows } = await gw.db.query<{ id: string }>(`insert into public.models (owner_id, name) values ($1, 'zk test model') returning id`, [owner.userId])
  const { data, error } = await owner.client.rpc('request_zk_setup', { p_model_id: rows[0]!.id, p_circuit_hash: 'a'.repeat(128), p_constraints: 3328 })
  expect(error).toBeNull()
  return data as string
}

const setupRow = async (id: string) =>
  (await gw.db.query<{ status: string; error: string | null }>('select status, error from public.zk_setups where id = $1', [id])).rows[0]!

describe('the zk-setup pass', () => {
  it('without a chain fails each awaiting setup with the reason: there is no public beacon', async () => {
    const id = await requestSetup()
    const events: CoordinatorEvent[] = []
    await contributeToZkSetups(gw.serviceClient(), undefined, (e) => events.push(e))
    expect(await setupRow(id)).toMatchObject({ status: 'failed', error: expect.stringContaining('no public beacon') })
    expect(events).toContainEqual(expect.objectContaining({ type: 'zk-setup-failed', setupId: id }))
  })

  it('waits for an initial zkey that is not uploaded yet, and fails a setup whose upload is not a zkey', async () => {
    const id = await requestSetup()
    const chain = { chainId: 31337, provider: { getBlock: async () => ({ number: 7, hash: `0x${'1'.repeat(64)}` }) } } as never
    const events: CoordinatorEvent[] = []
    await contributeToZkSetups(gw.serviceClient(), chain, (e) => events.push(e))
    expect(await setupRow(id)).toMatchObject({ status: 'awaiting_contribution' })
    expect(events).toEqual([])

    const service = gw.serviceClient()
    const { error } = await service.storage.from('artifacts').upload(`zk-setups/${id}/initial.zkey`, new TextEncoder().encode('not a zkey'))
    expect(error).toBeNull()
    await contributeToZkSetups(service, chain, (e) => events.push(e))
    expect(await setupRow(id)).toMatchObject({ status: 'failed', error: expect.stringContaining('is not a zkey snarkjs can contribute to') })
  })
})
