import { randomBytes } from 'node:crypto'
import type { SupabaseClient } from '@supabase/supabase-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../src/db/database.ts'
import { anon, service, signUp, type Actor } from './support/actors.ts'
import { BACKENDS, freshDatabase } from './support/databases.ts'
import { startTestGateway, type TestGateway } from './gateway/support/test-gateway.ts'
import { blobBytes } from './gateway/storage/storage-fixtures.ts'

// The inference marketplace (migration 20261122001500): the ZK setup handshake between a model's
// owner and the coordinator, the listing, and paid inference requests, as the CLI, the web app
// and the coordinator call them. Functions through PostgREST-style requests (role + JWT claims,
// one transaction each); the setup files through the gateway's Storage with the official
// supabase-js.

const CHAIN = 8119
const hex = (bytes: number) => `0x${randomBytes(bytes).toString('hex')}`
const circuitHash = () => randomBytes(64).toString('hex')
/** BN254's scalar field: commitments and salts lie below it. */
const FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617n
const INPUT_SIZE = 4
const INPUT_BITS = 8
const NIL = '00000000-0000-0000-0000-000000000000'

/** The public manifest.json of a (tiny) ZK model, as buildZkModel writes it. */
const manifest = (inputSize = INPUT_SIZE) => ({
  format: 'oblivion-zk-model/1',
  shape: [inputSize, 3, 2],
  classes: 2,
  classNames: ['zero', 'one'],
  fracBits: 6,
  inputBits: INPUT_BITS,
  inputPacking: { inputSize, inputBits: INPUT_BITS, valuesPerChunk: 31, chunks: 1, groups: 0 },
  publicSignals: ['predicted', 'inputCommitment'],
})
const verificationKey = { protocol: 'groth16', curve: 'bn128', nPublic: 2, vk_alpha_1: ['1', '2', '1'], IC: [['1', '2', '1']] }
const transcript = () => ({
  contribution: { name: 'oblivion coordinator', contributionHash: randomBytes(64).toString('hex') },
  beacon: { chainId: CHAIN, blockNumber: 42, blockHash: hex(32) },
})
const input = (pixels: unknown[] = [0, 17, 255, 3], salt: unknown = '123456789') => ({ pixels, salt })
const output = (predicted = 1) => ({ predicted, floatPredicted: predicted, probabilities: [0.1, 0.9], logits: [-1.5, 2.25] })
const proof = { pi_a: ['1', '2', '1'], pi_b: [['1', '2'], ['3', '4'], ['1', '0']], pi_c: ['5', '6', '1'], protocol: 'groth16', curve: 'bn128' }

/** The model's artifacts: their paths lead to the job's files and must never reach anon. */
const ARTIFACTS_PATH = 'jobs/11111111-2222-4333-8444-555555555555/model/onnx/model.onnx'

interface MarketplaceModel {
  id: string
  name: string
  owner_address: string
  price_wei: string
  chain_id: number
  chain_model_id: string
  verification_key_hash: string
  verification_key: unknown
  manifest: unknown
  metrics: unknown
  epsilon: number | null
  fulfilled: number
  created_at: string
}
interface RequestRow {
  id: string
  status: string
  input: unknown
  input_commitment: string
  price_wei: string
  chain_id: number
  chain_request_id: string
  buyer_address: string
  output: unknown
  public_signals: unknown
  fulfil_tx_hash: string | null
  fulfilled_at: string | null
  error: string | null
  refund_tx_hash: string | null
}

type User = Actor & { userId: string }

/** A trained model of `owner`'s, as complete_job stores it (with artifacts, metrics and ε). */
async function modelOf(coordinator: Actor, owner: User, name = 'MNIST 14x14 digits'): Promise<string> {
  const [row] = await coordinator.query<{ id: string }>(
    `insert into public.models (owner_id, name, artifacts, metrics, epsilon, delta)
     values ($1::uuid, $2::text, $3::jsonb, '{"test_accuracy": 0.93}', 2.5, 0.00001) returning id`,
    [owner.userId, name, JSON.stringify({ onnx: { files: [{ name: 'model.onnx', path: ARTIFACTS_PATH, cid: 'bafy', bytes: 10 }] } })],
  )
  return row!.id
}

let chainModelCounter = 0
const listArgs = (modelId: string, overrides: Record<string, unknown> = {}) => ({
  p_model_id: modelId,
  p_chain_id: CHAIN,
  p_chain_model_id: String(++chainModelCounter),
  p_owner_address: hex(20),
  p_price_wei: '1000000000000000',
  p_verification_key: verificationKey,
  p_verification_key_hash: hex(32),
  p_manifest: manifest(),
  p_list_tx_hash: hex(32),
  ...overrides,
})

let chainRequestCounter = 0
const commitment = () => (BigInt(`0x${randomBytes(31).toString('hex')}`) % FIELD).toString()
const submitArgs = (modelId: string, overrides: Record<string, unknown> = {}) => ({
  p_model_id: modelId,
  p_chain_request_id: String(++chainRequestCounter),
  p_input_commitment: commitment(),
  p_input: input(),
  p_buyer_address: hex(20),
  p_request_tx_hash: hex(32),
  ...overrides,
})

describe.each(BACKENDS)('marketplace functions on %s', (backend) => {
  let db: Database
  let coordinator: Actor
  let owner: User
  let buyer: User
  let stranger: User

  beforeAll(async () => {
    db = await freshDatabase(backend)
    coordinator = service(db)
    owner = await signUp(db)
    buyer = await signUp(db)
    stranger = await signUp(db)
  })
  afterAll(() => db?.close())

  const setupOf = async (id: string) =>
    (await coordinator.query<{ status: string; transcript: unknown; error: string | null; updated_at: Date; created_at: Date }>(
      'select * from public.zk_setups where id = $1::uuid', [id]))[0]!
  const requestOf = async (id: string) => (await coordinator.query<RequestRow>('select * from public.inference_requests where id = $1::uuid', [id]))[0]!
  const marketplace = async (who: Actor = anon(db)) => who.rpc<MarketplaceModel>('marketplace_models')
  const requestSetup = async (modelId: string, by: Actor = owner) =>
    (await by.rpc<{ request_zk_setup: string }>('request_zk_setup', { p_model_id: modelId, p_circuit_hash: circuitHash(), p_constraints: 2400 }))[0]!.request_zk_setup
  /** A listed model of the owner's; returns its id and its listing arguments. */
  async function listedModel(overrides: Record<string, unknown> = {}) {
    const modelId = await modelOf(coordinator, owner)
    const args = listArgs(modelId, overrides)
    await owner.rpc('list_model', args)
    return { modelId, args }
  }
  const submit = async (modelId: string, overrides: Record<string, unknown> = {}, by: Actor = buyer) =>
    (await by.rpc<{ submit_inference_request: string }>('submit_inference_request', submitArgs(modelId, overrides)))[0]!.submit_inference_request
  /** The result of `requestId` (its public signals follow the request's commitment). */
  const resultArgs = async (requestId: string, overrides: Record<string, unknown> = {}) => ({
    p_request_id: requestId,
    p_output: output(1),
    p_proof: proof,
    p_public_signals: ['1', (await requestOf(requestId)).input_commitment],
    p_fulfil_tx_hash: hex(32),
    ...overrides,
  })

  describe('grants', () => {
    const everyCall = (): [string, Record<string, unknown>][] => [
      ['request_zk_setup', { p_model_id: NIL, p_circuit_hash: circuitHash(), p_constraints: 1 }],
      ['record_zk_contribution', { p_setup_id: NIL, p_transcript: transcript() }],
      ['fail_zk_setup', { p_setup_id: NIL, p_error: 'no initial.zkey' }],
      ['list_model', listArgs(NIL)],
      ['set_model_listing', { p_model_id: NIL, p_listed: false, p_price_wei: '1' }],
      ['submit_inference_request', submitArgs(NIL)],
      ['record_inference_result', { p_request_id: NIL, p_output: output(), p_proof: proof, p_public_signals: ['1', '2'], p_fulfil_tx_hash: hex(32) }],
      ['record_inference_failure', { p_request_id: NIL, p_error: 'no' }],
      ['record_inference_refund', { p_request_id: NIL, p_refund_tx_hash: hex(32) }],
    ]

    it('anon may call marketplace_models and nothing else of the marketplace', async () => {
      expect(await marketplace()).toBeInstanceOf(Array)
      for (const [name, args] of everyCall()) {
        await expect(anon(db).rpc(name, args), name).rejects.toMatchObject({ code: '42501' })
      }
    })

    it('the coordinator\'s functions are refused to signed-in users', async () => {
      for (const [name, args] of everyCall().filter(([name]) => ['record_zk_contribution', 'fail_zk_setup'].includes(name))) {
        for (const caller of [owner, buyer]) await expect(caller.rpc(name, args), name).rejects.toMatchObject({ code: '42501' })
      }
    })
  })

  describe('zk setups', () => {
    it('only the model\'s owner requests a setup, with a snarkjs circuit hash and a constraint count', async () => {
      const modelId = await modelOf(coordinator, owner)
      await expect(stranger.rpc('request_zk_setup', { p_model_id: modelId, p_circuit_hash: circuitHash(), p_constraints: 10 }))
        .rejects.toMatchObject({ code: 'OB040', message: `Model ${modelId} is not one of your models` })
      await expect(owner.rpc('request_zk_setup', { p_model_id: modelId, p_circuit_hash: `0x${'ab'.repeat(32)}`, p_constraints: 10 }))
        .rejects.toMatchObject({ code: 'OB002', detail: 'p_circuit_hash' })
      await expect(owner.rpc('request_zk_setup', { p_model_id: modelId, p_circuit_hash: circuitHash(), p_constraints: 0 }))
        .rejects.toMatchObject({ code: 'OB002', detail: 'p_constraints' })

      const id = await requestSetup(modelId)
      expect(await setupOf(id)).toMatchObject({ status: 'awaiting_contribution', transcript: null })
      // The owner reads its setup (RLS); nobody else does.
      expect(await owner.query('select id, status from public.zk_setups where id = $1::uuid', [id])).toEqual([{ id, status: 'awaiting_contribution' }])
      expect(await stranger.query('select id from public.zk_setups')).toEqual([])
    })

    it('is in the Realtime publication, so the owner waits for its setup without polling', async () => {
      const { rows } = await db.query(
        `select 1 from pg_catalog.pg_publication_tables where pubname = 'supabase_realtime' and schemaname = 'public' and tablename = 'zk_setups'`)
      expect(rows).toHaveLength(1)
    })

    it('record_zk_contribution makes an awaiting setup ready with its transcript, once', async () => {
      const id = await requestSetup(await modelOf(coordinator, owner))
      const before = await setupOf(id)
      await expect(coordinator.rpc('record_zk_contribution', { p_setup_id: id, p_transcript: { contribution: { name: 'x' } } }))
        .rejects.toMatchObject({ code: 'OB002', detail: 'p_transcript' })
      await expect(coordinator.rpc('record_zk_contribution', { p_setup_id: id, p_transcript: { ...transcript(), beacon: { chainId: CHAIN, blockNumber: 1, blockHash: '0x12' } } }))
        .rejects.toMatchObject({ code: 'OB002', detail: 'p_transcript' })
      const recorded = transcript()
      await coordinator.rpc('record_zk_contribution', { p_setup_id: id, p_transcript: recorded })
      const ready = await setupOf(id)
      expect(ready).toMatchObject({ status: 'ready', transcript: recorded, error: null })
      expect(ready.updated_at.getTime()).toBeGreaterThanOrEqual(before.updated_at.getTime())
      await expect(coordinator.rpc('record_zk_contribution', { p_setup_id: id, p_transcript: transcript() }))
        .rejects.toMatchObject({ code: 'OB043', message: expect.stringContaining('is ready') })
      expect((await setupOf(id)).transcript).toEqual(recorded)
      await expect(coordinator.rpc('record_zk_contribution', { p_setup_id: NIL, p_transcript: transcript() }))
        .rejects.toMatchObject({ code: 'OB042' })
    })

    it('fail_zk_setup fails an awaiting setup with the reason, idempotently; a newer request supersedes an awaiting one', async () => {
      const modelId = await modelOf(coordinator, owner)
      const first = await requestSetup(modelId)
      const second = await requestSetup(modelId)
      expect(await setupOf(first)).toMatchObject({ status: 'failed', error: expect.stringContaining('superseded') })
      await expect(coordinator.rpc('fail_zk_setup', { p_setup_id: second, p_error: ' ' })).rejects.toMatchObject({ code: 'OB002', detail: 'p_reason' })
      await coordinator.rpc('fail_zk_setup', { p_setup_id: second, p_error: 'initial.zkey is not for circuit hash …' })
      await coordinator.rpc('fail_zk_setup', { p_setup_id: second, p_error: 'again' })
      expect(await setupOf(second)).toMatchObject({ status: 'failed', error: 'initial.zkey is not for circuit hash …' })
      await expect(coordinator.rpc('record_zk_contribution', { p_setup_id: second, p_transcript: transcript() })).rejects.toMatchObject({ code: 'OB043' })

      const ready = await requestSetup(modelId)
      await coordinator.rpc('record_zk_contribution', { p_setup_id: ready, p_transcript: transcript() })
      await expect(coordinator.rpc('fail_zk_setup', { p_setup_id: ready, p_error: 'late' })).rejects.toMatchObject({ code: 'OB043' })
    })
  })

  describe('listing', () => {
    it('only the owner lists its model, and every field is checked with a message that names it', async () => {
      const modelId = await modelOf(coordinator, owner)
      await expect(stranger.rpc('list_model', listArgs(modelId))).rejects.toMatchObject({ code: 'OB040' })
      const bad: [Record<string, unknown>, string, RegExp][] = [
        [{ p_owner_address: '0x1234' }, 'p_owner_address', /^Invalid p_owner_address: "0x1234" is not 0x and 40 lower-case hex digits/],
        [{ p_owner_address: hex(20).toUpperCase().replace('0X', '0x') }, 'p_owner_address', /lower-case hex/],
        [{ p_verification_key_hash: 'abc' }, 'p_verification_key_hash', /^Invalid p_verification_key_hash: "abc" is not 0x and 64 lower-case hex digits/],
        [{ p_list_tx_hash: `0x${'g'.repeat(64)}` }, 'p_list_tx_hash', /p_list_tx_hash/],
        [{ p_chain_model_id: '0' }, 'p_chain_model_id', /decimal string/],
        [{ p_chain_model_id: 'model-1' }, 'p_chain_model_id', /decimal string/],
        [{ p_chain_id: 0 }, 'p_chain_id', /chain id/],
        [{ p_price_wei: (2n ** 96n).toString() }, 'p_price_wei', /2\^96 - 1/],
        [{ p_verification_key: { protocol: 'plonk', nPublic: 2 } }, 'p_verification_key', /groth16/],
        [{ p_verification_key: { ...verificationKey, nPublic: 3 } }, 'p_verification_key', /2 public signals/],
        [{ p_manifest: { format: 'something-else' } }, 'p_manifest', /manifest\.json/],
        [{ p_manifest: { ...manifest(), inputPacking: { inputSize: 0, inputBits: 8 } } }, 'p_manifest', /inputSize/],
      ]
      for (const [change, detail, message] of bad) {
        await expect(owner.rpc('list_model', listArgs(modelId, change)), detail).rejects.toMatchObject({ code: 'OB002', detail, message: expect.stringMatching(message) })
      }
      expect(await marketplace()).not.toContainEqual(expect.objectContaining({ id: modelId }))
    })

    it('a listed model shows on the marketplace to anyone, without its private columns', async () => {
      const { modelId, args } = await listedModel()
      const [stored] = await coordinator.query('select listed, weights_commitment, owner_address, list_tx_hash from public.models where id = $1::uuid', [modelId])
      expect(stored).toEqual({ listed: true, weights_commitment: args.p_verification_key_hash, owner_address: args.p_owner_address, list_tx_hash: args.p_list_tx_hash })

      for (const who of [anon(db), stranger]) {
        const seen = (await marketplace(who)).find((m) => m.id === modelId)
        expect(seen).toEqual({
          id: modelId, name: 'MNIST 14x14 digits', owner_address: args.p_owner_address, price_wei: args.p_price_wei,
          chain_id: CHAIN, chain_model_id: args.p_chain_model_id, verification_key_hash: args.p_verification_key_hash,
          verification_key: verificationKey, manifest: manifest(), metrics: { test_accuracy: 0.93 }, epsilon: 2.5,
          fulfilled: 0, created_at: expect.anything(),
        })
        const text = JSON.stringify(seen)
        for (const secret of [owner.userId, ARTIFACTS_PATH, 'artifacts', 'owner_id', 'job_id', 'list_tx_hash']) expect(text).not.toContain(secret)
      }
    })

    it('one chain model belongs to one model; listing again replaces the listing', async () => {
      const { args } = await listedModel()
      const other = await modelOf(coordinator, owner, 'another model')
      await expect(owner.rpc('list_model', listArgs(other, { p_chain_model_id: args.p_chain_model_id })))
        .rejects.toMatchObject({ code: 'OB002', detail: 'p_chain_model_id', message: expect.stringContaining('is already listed') })
      const relisted = listArgs(args.p_model_id, { p_price_wei: '5' })
      await owner.rpc('list_model', relisted)
      expect((await marketplace()).find((m) => m.id === args.p_model_id)).toMatchObject({ chain_model_id: relisted.p_chain_model_id, price_wei: '5' })
    })

    it('set_model_listing hides and shows the model and changes its price, for its owner only', async () => {
      const { modelId } = await listedModel()
      await expect(stranger.rpc('set_model_listing', { p_model_id: modelId, p_listed: false, p_price_wei: '1' })).rejects.toMatchObject({ code: 'OB040' })
      await owner.rpc('set_model_listing', { p_model_id: modelId, p_listed: false, p_price_wei: '7' })
      expect((await marketplace()).map((m) => m.id)).not.toContain(modelId)
      await expect(buyer.rpc('submit_inference_request', submitArgs(modelId))).rejects.toMatchObject({ code: 'OB041' })
      await owner.rpc('set_model_listing', { p_model_id: modelId, p_listed: true, p_price_wei: null })
      expect((await marketplace()).find((m) => m.id === modelId)).toMatchObject({ price_wei: '7' })

      const unlisted = await modelOf(coordinator, owner)
      await expect(owner.rpc('set_model_listing', { p_model_id: unlisted, p_listed: true, p_price_wei: '1' }))
        .rejects.toMatchObject({ code: 'OB041', message: expect.stringContaining('never listed on chain') })
    })
  })

  describe('inference requests', () => {
    let modelId: string
    let price: string
    beforeAll(async () => {
      const listed = await listedModel()
      modelId = listed.modelId
      price = listed.args.p_price_wei
    })

    it('submit_inference_request records a pending request with the model\'s price and chain', async () => {
      const args = submitArgs(modelId)
      const [row] = await buyer.rpc<{ submit_inference_request: string }>('submit_inference_request', args)
      const id = row!.submit_inference_request
      expect(await requestOf(id)).toMatchObject({
        status: 'pending', input: args.p_input, input_commitment: args.p_input_commitment, price_wei: price, chain_id: CHAIN,
        chain_request_id: args.p_chain_request_id, buyer_address: args.p_buyer_address,
      })
    })

    it('checks the model, the pixels against the manifest, the salt, the commitment and the addresses', async () => {
      await expect(buyer.rpc('submit_inference_request', submitArgs(await modelOf(coordinator, owner)))).rejects.toMatchObject({ code: 'OB041' })
      await expect(anon(db).rpc('submit_inference_request', submitArgs(modelId))).rejects.toMatchObject({ code: '42501' })
      const bad: [Record<string, unknown>, string, RegExp][] = [
        [{ p_input: input([1, 2, 3]) }, 'p_input.pixels', /exactly 4 quantized pixels \(manifest\.inputPacking\.inputSize\), got 3 of them/],
        [{ p_input: input([1, 2, 3, 4, 5]) }, 'p_input.pixels', /exactly 4/],
        [{ p_input: { salt: '1' } }, 'p_input.pixels', /exactly 4/],
        [{ p_input: input([1, 2.5, 3, 4]) }, 'p_input.pixels[1]', /p_input\.pixels\[1\] is 2\.5; the circuit takes integers from 0 to 255/],
        [{ p_input: input([1, 2, -3, 4]) }, 'p_input.pixels[2]', /integers/],
        [{ p_input: input([1, 2, 3, 256]) }, 'p_input.pixels[3]', /from 0 to 255/],
        [{ p_input: input([1, 2, '3', 4]) }, 'p_input.pixels[2]', /integers/],
        [{ p_input: input(undefined, 12) }, 'p_input.salt', /decimal string/],
        [{ p_input: input(undefined, '0x12') }, 'p_input.salt', /not a decimal number below the BN254 scalar field/],
        [{ p_input: input(undefined, FIELD.toString()) }, 'p_input.salt', /BN254/],
        [{ p_input: { ...input(), extra: 1 } }, 'p_input.extra', /not a known field/],
        [{ p_input_commitment: '0x1234' }, 'p_input_commitment', /not a decimal number/],
        [{ p_input_commitment: '012' }, 'p_input_commitment', /not a decimal number/],
        [{ p_chain_request_id: '0' }, 'p_chain_request_id', /decimal string/],
        [{ p_buyer_address: 'me' }, 'p_buyer_address', /not 0x and 40 lower-case hex digits/],
        [{ p_request_tx_hash: hex(31) }, 'p_request_tx_hash', /64 lower-case hex/],
      ]
      for (const [change, detail, message] of bad) {
        await expect(buyer.rpc('submit_inference_request', submitArgs(modelId, change)), detail)
          .rejects.toMatchObject({ code: 'OB002', detail, message: expect.stringMatching(message) })
      }
    })

    it('refuses a chain request that is already recorded', async () => {
      const args = submitArgs(modelId)
      await buyer.rpc('submit_inference_request', args)
      await expect(stranger.rpc('submit_inference_request', { ...args, p_input_commitment: commitment() }))
        .rejects.toMatchObject({ code: 'OB046', detail: 'p_chain_request_id', message: expect.stringContaining('is already recorded') })
    })

    it('the buyer and the model\'s owner read the request with its input; nobody else does', async () => {
      const id = await submit(modelId)
      for (const reader of [buyer, owner]) {
        expect(await reader.query('select id, input from public.inference_requests where id = $1::uuid', [id])).toEqual([{ id, input: input() }])
      }
      expect(await stranger.query('select id from public.inference_requests where id = $1::uuid', [id])).toEqual([])
    })

    it('record_inference_result: only the model\'s owner, only from pending, public signals of this request', async () => {
      const id = await submit(modelId)
      await expect(buyer.rpc('record_inference_result', await resultArgs(id))).rejects.toMatchObject({ code: 'OB044' })
      await expect(stranger.rpc('record_inference_result', await resultArgs(id))).rejects.toMatchObject({ code: 'OB044' })
      await expect(owner.rpc('record_inference_result', await resultArgs(id, { p_public_signals: ['1', '999'] })))
        .rejects.toMatchObject({ code: 'OB002', detail: 'p_public_signals' })
      await expect(owner.rpc('record_inference_result', await resultArgs(id, { p_public_signals: ['0', (await requestOf(id)).input_commitment] })))
        .rejects.toMatchObject({ code: 'OB002', detail: 'p_public_signals' })
      await expect(owner.rpc('record_inference_result', await resultArgs(id, { p_output: { predicted: 1 } })))
        .rejects.toMatchObject({ code: 'OB002', detail: 'p_output' })
      await expect(owner.rpc('record_inference_result', await resultArgs(id, { p_proof: { protocol: 'plonk' } })))
        .rejects.toMatchObject({ code: 'OB002', detail: 'p_proof' })
      await expect(owner.rpc('record_inference_result', await resultArgs(id, { p_fulfil_tx_hash: 'tx' })))
        .rejects.toMatchObject({ code: 'OB002', detail: 'p_fulfil_tx_hash' })

      const args = await resultArgs(id)
      await owner.rpc('record_inference_result', args)
      const fulfilled = await requestOf(id)
      expect(fulfilled).toMatchObject({ status: 'fulfilled', output: output(1), public_signals: args.p_public_signals, fulfil_tx_hash: args.p_fulfil_tx_hash })
      expect(fulfilled.fulfilled_at).not.toBeNull()
      await owner.rpc('record_inference_result', args) // the same call again (a retry): nothing changes
      await expect(owner.rpc('record_inference_result', await resultArgs(id))).rejects.toMatchObject({ code: 'OB045', message: expect.stringContaining('is fulfilled') })
      await expect(owner.rpc('record_inference_failure', { p_request_id: id, p_error: 'late' })).rejects.toMatchObject({ code: 'OB045' })
      await expect(buyer.rpc('record_inference_refund', { p_request_id: id, p_refund_tx_hash: hex(32) }))
        .rejects.toMatchObject({ code: 'OB045', message: expect.stringContaining('only a pending or failed request is refunded') })
    })

    it('record_inference_failure: the model\'s owner fails a pending request with the reason; then no result', async () => {
      const id = await submit(modelId)
      await expect(buyer.rpc('record_inference_failure', { p_request_id: id, p_error: 'no' })).rejects.toMatchObject({ code: 'OB044' })
      await expect(owner.rpc('record_inference_failure', { p_request_id: id, p_error: '' })).rejects.toMatchObject({ code: 'OB002', detail: 'p_reason' })
      await owner.rpc('record_inference_failure', { p_request_id: id, p_error: 'the input does not open the commitment' })
      await owner.rpc('record_inference_failure', { p_request_id: id, p_error: 'again' })
      expect(await requestOf(id)).toMatchObject({ status: 'failed', error: 'the input does not open the commitment' })
      await expect(owner.rpc('record_inference_result', await resultArgs(id))).rejects.toMatchObject({ code: 'OB045' })
    })

    it('record_inference_refund: only the buyer, from pending or failed', async () => {
      const pending = await submit(modelId)
      await expect(owner.rpc('record_inference_refund', { p_request_id: pending, p_refund_tx_hash: hex(32) })).rejects.toMatchObject({ code: 'OB044' })
      await expect(buyer.rpc('record_inference_refund', { p_request_id: pending, p_refund_tx_hash: '0x' })).rejects.toMatchObject({ code: 'OB002', detail: 'p_refund_tx_hash' })
      const tx = hex(32)
      await buyer.rpc('record_inference_refund', { p_request_id: pending, p_refund_tx_hash: tx })
      await buyer.rpc('record_inference_refund', { p_request_id: pending, p_refund_tx_hash: tx }) // a retry
      expect(await requestOf(pending)).toMatchObject({ status: 'refunded', refund_tx_hash: tx })
      await expect(buyer.rpc('record_inference_refund', { p_request_id: pending, p_refund_tx_hash: hex(32) })).rejects.toMatchObject({ code: 'OB045' })
      await expect(owner.rpc('record_inference_result', await resultArgs(pending))).rejects.toMatchObject({ code: 'OB045' })

      const failed = await submit(modelId)
      await owner.rpc('record_inference_failure', { p_request_id: failed, p_error: 'prover crashed' })
      await buyer.rpc('record_inference_refund', { p_request_id: failed, p_refund_tx_hash: hex(32) })
      expect((await requestOf(failed)).status).toBe('refunded')
    })

    it('marketplace_models counts the fulfilled requests only', async () => {
      const { modelId: fresh } = await listedModel()
      const fulfilledCount = async () => (await marketplace()).find((m) => m.id === fresh)!.fulfilled
      expect(await fulfilledCount()).toBe(0)
      for (let i = 0; i < 2; i++) {
        const id = await submit(fresh)
        await owner.rpc('record_inference_result', await resultArgs(id))
      }
      await submit(fresh) // pending
      await owner.rpc('record_inference_failure', { p_request_id: await submit(fresh), p_error: 'x' })
      expect(await fulfilledCount()).toBe(2)
    })
  })
})

// ------------------------------------------------------------------ storage

const RLS = { statusCode: '403', message: 'new row violates row-level security policy' }
const NOT_FOUND = { statusCode: '404', message: 'Object not found' }

async function rpc<T>(client: SupabaseClient, fn: string, args: Record<string, unknown>): Promise<T> {
  const { data, error } = await client.rpc(fn, args)
  if (error) throw new Error(`${fn}: ${error.message}`)
  return data as T
}

describe.each(BACKENDS)('the zk-setups storage folder and the public marketplace through supabase-js (%s)', (backend) => {
  let gw: TestGateway
  let coordinator: SupabaseClient
  let owner: Awaited<ReturnType<TestGateway['createUser']>>
  let stranger: Awaited<ReturnType<TestGateway['createUser']>>
  let modelId: string

  beforeAll(async () => {
    gw = await startTestGateway(backend)
    coordinator = gw.serviceClient()
    owner = await gw.createUser()
    stranger = await gw.createUser()
    const { rows } = await gw.db.query<{ id: string }>(
      `insert into public.models (owner_id, name) values ($1::uuid, 'digits') returning id`, [owner.userId])
    modelId = rows[0]!.id
  })
  afterAll(() => gw?.close())

  const newSetup = (by = owner) => rpc<string>(by.client, 'request_zk_setup', { p_model_id: modelId, p_circuit_hash: circuitHash(), p_constraints: 2400 })

  it('the owner uploads initial.zkey to its awaiting setup and reads the setup\'s folder; others cannot', async () => {
    const setup = await newSetup()
    const initial = `zk-setups/${setup}/initial.zkey`
    const mine = owner.client.storage.from('artifacts')
    expect((await stranger.client.storage.from('artifacts').upload(initial, 'forged zkey')).error).toMatchObject(RLS)
    expect((await gw.anonClient().storage.from('artifacts').upload(initial, 'forged zkey')).error).toMatchObject(RLS)
    expect((await mine.upload(initial, 'initial zkey bytes')).error).toBeNull()

    // The coordinator reads it, contributes, and uploads final.zkey.
    expect((await blobBytes((await coordinator.storage.from('artifacts').download(initial)).data)).toString()).toBe('initial zkey bytes')
    expect((await coordinator.storage.from('artifacts').upload(`zk-setups/${setup}/final.zkey`, 'final zkey bytes')).error).toBeNull()
    await rpc(coordinator, 'record_zk_contribution', { p_setup_id: setup, p_transcript: transcript() })

    expect((await blobBytes((await mine.download(`zk-setups/${setup}/final.zkey`)).data)).toString()).toBe('final zkey bytes')
    expect((await blobBytes((await mine.download(initial)).data)).toString()).toBe('initial zkey bytes')
    expect((await mine.list(`zk-setups/${setup}`)).data?.map((o) => o.name).sort()).toEqual(['final.zkey', 'initial.zkey'])
    for (const client of [stranger.client, gw.anonClient()]) {
      expect((await client.storage.from('artifacts').download(`zk-setups/${setup}/final.zkey`)).error).toMatchObject(NOT_FOUND)
      expect((await client.storage.from('artifacts').list(`zk-setups/${setup}`)).data).toEqual([])
    }
  })

  it('refuses initial.zkey once the setup is no longer awaiting, other names, and overwrites', async () => {
    const setup = await newSetup()
    const bucket = owner.client.storage.from('artifacts')
    for (const key of [
      `zk-setups/${setup}/final.zkey`,
      `zk-setups/${setup}/initial.zkey.bak`,
      `zk-setups/${setup}/sub/initial.zkey`,
      `zk-setups/${setup.toUpperCase()}/initial.zkey`,
      `zk-setups/00000000-0000-4000-8000-000000000000/initial.zkey`,
    ]) {
      expect((await bucket.upload(key, 'x')).error, key).toMatchObject(RLS)
    }
    expect((await bucket.upload(`zk-setups/${setup}/initial.zkey`, 'first')).error).toBeNull()
    expect((await bucket.upload(`zk-setups/${setup}/initial.zkey`, 'second', { upsert: true })).error).not.toBeNull()

    const failed = await newSetup()
    await rpc(coordinator, 'fail_zk_setup', { p_setup_id: failed, p_error: 'gave up' })
    expect((await bucket.upload(`zk-setups/${failed}/initial.zkey`, 'late')).error).toMatchObject(RLS)
  })

  it('anon lists the marketplace through supabase-js, and nothing else', async () => {
    const { error: refused } = await gw.anonClient().rpc('submit_inference_request', submitArgs(modelId))
    expect(refused).toMatchObject({ code: '42501' })
    await rpc(owner.client, 'list_model', listArgs(modelId))
    const models = await rpc<MarketplaceModel[]>(gw.anonClient(), 'marketplace_models', {})
    expect(models.map((m) => m.id)).toEqual([modelId])
    expect(Object.keys(models[0]!).sort()).toEqual([
      'chain_id', 'chain_model_id', 'created_at', 'epsilon', 'fulfilled', 'id', 'manifest', 'metrics', 'name', 'owner_address',
      'price_wei', 'verification_key', 'verification_key_hash',
    ])
  })
})
