import { parseInferenceMarketLogs } from '@oblivion/contracts'
import type { Groth16Proof, VerificationKey } from '@oblivion/model/zk/node'
import { verifyInference } from '@oblivion/model/zk/node'
import type { SupabaseClient } from '@supabase/supabase-js'
import { CliError, requestError } from '../cli/cli-error.ts'
import { callRpc } from '../worker-core/rpc.ts'
import type { BuyerManifest, InferenceInput } from './inference-input.ts'
import { readMarket, REQUEST_STATUS, sendMarketCall, type MarketSession } from './market-session.ts'
import { watchRow } from './row-watch.ts'
import type { InferenceOutput } from './serve-loop.ts'

/** One row of marketplace_models(): a listed model as anyone sees it. */
export interface MarketplaceModel {
  id: string
  name: string
  owner_address: string
  price_wei: string
  chain_id: number
  chain_model_id: string
  verification_key_hash: string
  verification_key: VerificationKey
  manifest: BuyerManifest & Record<string, unknown>
  metrics: Record<string, unknown> | null
  epsilon: number | null
  fulfilled: number
}

export async function findListedModel(supabase: SupabaseClient, modelId: string): Promise<MarketplaceModel> {
  const { data, error } = await supabase.rpc('marketplace_models').eq('id', modelId)
  if (error) throw requestError('could not read the marketplace', error)
  const model = (data as MarketplaceModel[] | null)?.[0]
  if (!model) throw new CliError('CLI_NOT_LISTED', `model ${modelId} is not listed on the marketplace`, { hint: 'its owner lists it with `oblivion model list`' })
  return model
}

export type BuyEvent =
  | { type: 'inference-requested'; requestId: string; chainRequestId: string; commitment: string; priceWei: string; deadline: string; txHash: string; gasUsed: string }
  | { type: 'inference-waiting'; requestId: string; status: string }

export interface InferenceRow {
  id: string
  status: 'pending' | 'fulfilled' | 'failed' | 'refunded'
  output: InferenceOutput | null
  proof: Groth16Proof | null
  public_signals: string[] | null
  fulfil_tx_hash: string | null
  error: string | null
  chain_request_id: string | null
  request_tx_hash: string | null
  refund_tx_hash: string | null
}

export interface InferenceVerdict {
  row: InferenceRow
  output: InferenceOutput
  /** snarkjs' check of the proof against the listed verification key, off chain. */
  proofVerified: boolean
  /** The chain's record: request Fulfilled with the same output, and the fulfil receipt's event. */
  chainVerified: boolean
  /** Why a check failed (empty when both passed). */
  problems: string[]
}

/**
 * The buyer's side: pay for the request on chain (requestInference with the commitment), hand the
 * input and salt to the owner (submit_inference_request: only the buyer and the owner can read it),
 * wait for the answer until the request's deadline, and check it twice: the proof against the
 * listed key off chain, and the chain's own verdict (the contract verified the same proof when it
 * paid the owner).
 */
export async function buyInference(options: {
  supabase: SupabaseClient
  session: MarketSession
  model: MarketplaceModel
  input: InferenceInput
  onEvent(event: BuyEvent): void
}): Promise<InferenceVerdict> {
  const { supabase, session, model, input, onEvent } = options
  if (model.chain_id !== session.target.chain.chainId) {
    throw new CliError('CLI_WRONG_CHAIN', `model ${model.id} is listed on chain ${model.chain_id}, not on chain ${session.target.chain.chainId} (${session.target.chain.source})`)
  }
  const chainModelId = BigInt(model.chain_model_id)
  const onChainModel = await readMarket(session, 'reading the model', () => session.market.getModel(chainModelId))
  if (onChainModel.verificationKeyHash.toLowerCase() !== model.verification_key_hash.toLowerCase()) {
    throw new CliError('CLI_KEY_MISMATCH', `the key listed on chain for model ${chainModelId} is ${onChainModel.verificationKeyHash}, the database says ${model.verification_key_hash}`)
  }
  const receipt = await sendMarketCall(session, 'requestInference', [chainModelId, input.commitment], { value: onChainModel.price, what: `requestInference on model ${chainModelId}` })
  const requested = parseInferenceMarketLogs(receipt.logs, session.target.address).find((e) => e.name === 'InferenceRequested')
  if (!requested) throw new CliError('CLI_REVERTED', `requestInference transaction ${receipt.hash} has no InferenceRequested event`)
  const { requestId: chainRequestId, deadline } = requested.args as { requestId: bigint; deadline: bigint }
  const requestId = await callRpc<string>(supabase, 'submit_inference_request', {
    p_model_id: model.id,
    p_chain_request_id: chainRequestId.toString(),
    p_input_commitment: input.commitment.toString(),
    p_input: { pixels: input.pixels, salt: input.salt.toString() },
    p_buyer_address: session.address.toLowerCase(),
    p_request_tx_hash: receipt.hash.toLowerCase(),
  }).catch((error: unknown) => {
    throw new CliError((error as { code?: string }).code ?? 'CLI_REQUEST', `paid on chain (request ${chainRequestId}, tx ${receipt.hash}) but submit_inference_request failed: ${(error as Error).message}`, {
      hint: 'after the deadline the payment can be refunded on chain',
      cause: error,
    })
  })
  onEvent({
    type: 'inference-requested',
    requestId,
    chainRequestId: chainRequestId.toString(),
    commitment: input.commitment.toString(),
    priceWei: onChainModel.price.toString(),
    deadline: new Date(Number(deadline) * 1000).toISOString(),
    txHash: receipt.hash,
    gasUsed: receipt.gasUsed.toString(),
  })

  // The deadline is chain time; anvil's clock may differ from ours, so measure from the chain's now.
  const latest = await readMarket(session, 'reading the latest block', () => session.provider.getBlock('latest'))
  const timeoutMs = Math.max(1_000, (Number(deadline) - (latest?.timestamp ?? Math.floor(Date.now() / 1000)) + 2) * 1000)
  let lastStatus = ''
  const row = await watchRow<InferenceRow>(supabase, {
    table: 'inference_requests',
    id: requestId,
    read: () => readInferenceRow(supabase, requestId),
    done: (r) => r.status !== 'pending',
    onRow: (r) => {
      if (r.status !== lastStatus) onEvent({ type: 'inference-waiting', requestId, status: r.status })
      lastStatus = r.status
    },
    timeoutMs,
    // The deadline is the chain's: a chain whose clock runs ahead (anvil's evm_increaseTime) ends the wait too.
    expired: async () => ((await session.provider.getBlock('latest').catch(() => null))?.timestamp ?? 0) > Number(deadline),
    pollMs: 1_000,
  })
  if (!row || row.status === 'pending') {
    throw new CliError('CLI_NOT_ANSWERED', `the owner did not answer request ${requestId} by its deadline (${new Date(Number(deadline) * 1000).toISOString()})`, {
      hint: `get the price back with \`oblivion infer refund ${requestId}\``,
    })
  }
  if (row.status !== 'fulfilled' || !row.output || !row.proof || !row.public_signals) {
    throw new CliError('CLI_INFERENCE_FAILED', `the owner refused request ${requestId}: ${row.error ?? row.status}`, {
      hint: `after the deadline (${new Date(Number(deadline) * 1000).toISOString()}) get the price back with \`oblivion infer refund ${requestId}\``,
    })
  }
  return verifyAnswer(session, model, row, chainRequestId, input.commitment)
}

export async function readInferenceRow(supabase: SupabaseClient, requestId: string): Promise<InferenceRow | null> {
  const { data, error } = await supabase
    .from('inference_requests')
    .select('id, status, output, proof, public_signals, fulfil_tx_hash, error, chain_request_id, request_tx_hash, refund_tx_hash')
    .eq('id', requestId)
    .maybeSingle()
  if (error) throw requestError(`could not read inference request ${requestId}`, error)
  return data as InferenceRow | null
}

async function verifyAnswer(session: MarketSession, model: MarketplaceModel, row: InferenceRow, chainRequestId: bigint, commitment: bigint): Promise<InferenceVerdict> {
  const output = row.output!
  const problems: string[] = []
  const signals = row.public_signals!
  if (signals.length !== 2 || signals[0] !== String(output.predicted) || signals[1] !== commitment.toString()) {
    problems.push(`the public signals [${signals.join(', ')}] are not [${output.predicted}, our commitment ${commitment}]`)
  }
  const proofVerified = problems.length === 0 && (await verifyInference(model.verification_key, signals, row.proof!))
  if (problems.length === 0 && !proofVerified) problems.push('the proof does not verify against the listed verification key')

  const request = await readMarket(session, 'reading the request', () => session.market.getRequest(chainRequestId))
  let chainVerified = request.status === REQUEST_STATUS.fulfilled && request.output === BigInt(output.predicted)
  if (!chainVerified) problems.push(`the chain records request ${chainRequestId} with status ${request.status} and output ${request.output}, not Fulfilled with ${output.predicted}`)
  const receipt = row.fulfil_tx_hash ? await readMarket(session, 'reading the fulfil receipt', () => session.provider.getTransactionReceipt(row.fulfil_tx_hash!)) : null
  const fulfilled = receipt
    ? parseInferenceMarketLogs(receipt.logs, session.target.address).find(
        (e) => e.name === 'InferenceFulfilled' && (e.args as { requestId: bigint }).requestId === chainRequestId,
      )
    : undefined
  if (!receipt || receipt.status !== 1 || !fulfilled || (fulfilled.args as { output: bigint }).output !== BigInt(output.predicted)) {
    chainVerified = false
    problems.push(`the fulfil transaction ${row.fulfil_tx_hash ?? '(none)'} does not record this answer`)
  }
  return { row, output, proofVerified, chainVerified, problems }
}

/** `oblivion infer refund`: the price back after the deadline, on chain, then in the database. */
export async function refundInference(options: { supabase: SupabaseClient; session: MarketSession; requestId: string }): Promise<{ txHash: string; amountWei: string }> {
  const { supabase, session, requestId } = options
  const row = await readInferenceRow(supabase, requestId)
  if (!row) throw new CliError('CLI_NOT_FOUND', `inference request ${requestId} is not one of yours (or does not exist)`, { hint: 'refund with the identity (--profile) that made the request' })
  if (!row.chain_request_id) throw new CliError('CLI_NOT_FOUND', `inference request ${requestId} has no chain request`)
  const chainRequestId = BigInt(row.chain_request_id)
  const request = await readMarket(session, 'reading the request', () => session.market.getRequest(chainRequestId))
  let txHash: string
  let amountWei: string
  if (request.status === REQUEST_STATUS.refunded) {
    if (row.refund_tx_hash) throw new CliError('CLI_ALREADY_REFUNDED', `request ${requestId} was refunded already (tx ${row.refund_tx_hash})`)
    // Refunded on chain, not recorded (a crash in between): find the transaction and record it.
    const logs = await session.market.queryFilter(session.market.filters.InferenceRefunded(chainRequestId))
    const log = logs.at(-1)
    if (!log) throw new CliError('CLI_REQUEST', `chain request ${chainRequestId} is refunded but no InferenceRefunded event was found`)
    txHash = log.transactionHash
    amountWei = request.price.toString()
  } else {
    const receipt = await sendMarketCall(session, 'refund', [chainRequestId], {
      what: `refund of chain request ${chainRequestId}`,
      explain: {
        NotExpired: (reason) => ({
          message: `request ${requestId} is still open until ${new Date(Number(reason.args?.[0] ?? request.deadline) * 1000).toISOString()}`,
          hint: 'wait for its deadline, then run the command again',
        }),
        WrongStatus: () => ({ message: `chain request ${chainRequestId} is not open (status ${request.status}): nothing to refund` }),
      },
    })
    const refunded = parseInferenceMarketLogs(receipt.logs, session.target.address).find((e) => e.name === 'InferenceRefunded')
    txHash = receipt.hash
    amountWei = ((refunded?.args as { amount?: bigint } | undefined)?.amount ?? request.price).toString()
  }
  await callRpc(supabase, 'record_inference_refund', { p_request_id: requestId, p_refund_tx_hash: txHash.toLowerCase() })
  return { txHash, amountWei }
}
