import { encodeProof, parseInferenceMarketLogs } from '@oblivion/contracts'
import { commitInput } from '@oblivion/model/zk'
import type { Prover, ZkModel } from '@oblivion/model/zk/node'
import type { RealtimeChannel, SupabaseClient } from '@supabase/supabase-js'
import { ContractRevertError } from '../chain/contract-call.ts'
import { pendingBlockTime } from '../chain/worker-payouts.ts'
import { callRpc } from '../worker-core/rpc.ts'
import { argmax, dequantize, type FloatModel } from './float-answer.ts'
import { REQUEST_STATUS, sendMarketCall, type MarketSession } from './market-session.ts'

/** A pending request as the model's owner reads it (RLS: owners see their models' requests). */
interface RequestRow {
  id: string
  model_id: string
  status: string
  input: { pixels?: unknown; salt?: unknown } | null
  input_commitment: string
  chain_id: number | null
  chain_request_id: string | null
}

/** What the owner stores with a fulfilled request (record_inference_result's p_output). */
export interface InferenceOutput {
  /** The proved class (public signal 0). */
  predicted: number
  /** The float model's class (ONNX): equal to `predicted` unless quantization changed the answer. */
  floatPredicted: number
  /** Softmax probabilities of the float model. */
  probabilities: number[]
  /** The quantized model's logits, dequantized (integer logits / 2^(2·fracBits)). */
  logits: number[]
}

export type ServeEvent =
  | { type: 'serving'; modelId: string; chainModelId: string; market: string; owner: string }
  | {
      type: 'inference-fulfilled'
      requestId: string
      chainRequestId: string
      predicted: number
      floatPredicted: number
      proveMs: number
      fulfilMs: number
      txHash: string
      gasUsed: string
    }
  | { type: 'inference-refused'; requestId: string; chainRequestId: string | null; reason: string }
  | { type: 'warning'; message: string }

export interface ServeOptions {
  supabase: SupabaseClient
  session: MarketSession
  zkModel: ZkModel
  prover: Prover
  floatModel: FloatModel
  modelId: string
  chainModelId: bigint
  chainId: number
  pollIntervalMs: number
  onEvent(event: ServeEvent): void
}

export interface ServeHandle {
  /** Finish the request in progress, then stop. */
  stop(): Promise<void>
  done: Promise<void>
}

/** A request the owner will not answer, with the reason recorded for the buyer. */
class Refusal extends Error {}

/**
 * `oblivion serve`: answers the model's pending requests one at a time. Realtime on
 * inference_requests wakes it; polling every `pollIntervalMs` catches what a notification missed.
 * Each request is checked against the chain (open, this model, the same commitment, before its
 * deadline) and against the input the buyer revealed (commitInput(pixels, salt) = the commitment),
 * answered by the float model (ONNX) and proved by the quantized circuit, fulfilled on chain,
 * then recorded. A refusal is recorded with its reason (record_inference_failure); the buyer can
 * refund after the deadline. RPC failures leave the request pending for the next pass.
 */
export function startServing(options: ServeOptions): ServeHandle {
  const { supabase, session, zkModel, onEvent } = options
  const manifest = zkModel.manifest
  let stopping = false
  let wake: (() => void) | null = null
  let dirty = false
  const wakeUp = () => {
    dirty = true
    wake?.()
    wake = null
  }
  /** Requests whose answer failed on our side (RPC down): not retried before this time. */
  const retryAt = new Map<string, number>()

  const channel: RealtimeChannel = supabase
    .channel(`serve-${options.modelId}`)
    .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'inference_requests', filter: `model_id=eq.${options.modelId}` }, () => wakeUp())
    .subscribe()

  async function pass(): Promise<void> {
    const { data, error } = await supabase
      .from('inference_requests')
      .select('id, model_id, status, input, input_commitment, chain_id, chain_request_id')
      .eq('model_id', options.modelId)
      .eq('status', 'pending')
      .order('created_at')
      .limit(20)
    if (error) throw new Error(`could not read the pending requests: ${error.message}`)
    for (const row of data as RequestRow[]) {
      if (stopping) return
      if ((retryAt.get(row.id) ?? 0) > Date.now()) continue
      try {
        await answer(row)
        retryAt.delete(row.id)
      } catch (failure) {
        if (failure instanceof Refusal) {
          await callRpc(supabase, 'record_inference_failure', { p_request_id: row.id, p_error: failure.message.slice(0, 500) })
          onEvent({ type: 'inference-refused', requestId: row.id, chainRequestId: row.chain_request_id, reason: failure.message })
        } else {
          retryAt.set(row.id, Date.now() + 5_000)
          onEvent({ type: 'warning', message: `request ${row.id}: not answered yet (${(failure as Error).message}); retrying in 5 s` })
        }
      }
    }
  }

  async function answer(row: RequestRow): Promise<void> {
    if (row.chain_id !== options.chainId || !row.chain_request_id) throw new Refusal(`the request is not on chain ${options.chainId} (the chain this model is listed on)`)
    const chainRequestId = BigInt(row.chain_request_id)
    const request = await session.market.getRequest(chainRequestId)
    if (request.status !== REQUEST_STATUS.open) throw new Refusal(`chain request ${chainRequestId} is not open (status ${request.status})`)
    if (request.modelId !== options.chainModelId) throw new Refusal(`chain request ${chainRequestId} is for chain model ${request.modelId}, not ${options.chainModelId}`)
    if (request.inputCommitment.toString() !== row.input_commitment) {
      throw new Refusal(`chain request ${chainRequestId} commits to ${request.inputCommitment}, not to the request's ${row.input_commitment}`)
    }
    const now = (await pendingBlockTime(session.provider)) ?? Math.floor(Date.now() / 1000)
    if (BigInt(now) > request.deadline) throw new Refusal(`chain request ${chainRequestId} is past its deadline (${new Date(Number(request.deadline) * 1000).toISOString()})`)
    const { pixels, salt } = parseInput(row, manifest.inputPacking.inputSize)
    let commitment: bigint
    try {
      commitment = commitInput(manifest.inputPacking, pixels, salt)
    } catch (error) {
      throw new Refusal(`the input is not one the circuit accepts: ${(error as Error).message}`)
    }
    if (commitment !== request.inputCommitment) throw new Refusal(`the input and salt commit to ${commitment}, not to the request's ${request.inputCommitment}`)

    const probabilities = await options.floatModel.probabilities(dequantize(pixels, manifest.fracBits))
    const proved = await options.prover.prove(pixels, salt, { expectedCommitment: commitment })
    const fulfilStarted = performance.now()
    let receipt
    try {
      receipt = await sendMarketCall(session, 'fulfil', [chainRequestId, BigInt(proved.predicted), encodeProof(proved.proof)], { what: `fulfil of chain request ${chainRequestId}` })
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause
      if (cause instanceof ContractRevertError) throw new Refusal(`the market refused the answer: ${cause.reason.shown}`)
      throw error
    }
    const fulfilMs = performance.now() - fulfilStarted
    if (!parseInferenceMarketLogs(receipt.logs, session.target.address).some((e) => e.name === 'InferenceFulfilled')) {
      throw new Error(`fulfil transaction ${receipt.hash} has no InferenceFulfilled event`)
    }
    const logitScale = 2 ** (2 * manifest.fracBits)
    const output: InferenceOutput = {
      predicted: proved.predicted,
      floatPredicted: argmax(probabilities),
      probabilities,
      logits: proved.logits.map((z) => z / logitScale),
    }
    await callRpc(supabase, 'record_inference_result', {
      p_request_id: row.id,
      p_output: output,
      p_proof: proved.proof,
      p_public_signals: proved.publicSignals,
      p_fulfil_tx_hash: receipt.hash.toLowerCase(),
    })
    onEvent({
      type: 'inference-fulfilled',
      requestId: row.id,
      chainRequestId: chainRequestId.toString(),
      predicted: output.predicted,
      floatPredicted: output.floatPredicted,
      proveMs: Math.round(proved.witnessMs + proved.proveMs),
      fulfilMs: Math.round(fulfilMs),
      txHash: receipt.hash,
      gasUsed: receipt.gasUsed.toString(),
    })
  }

  const done = (async () => {
    while (!stopping) {
      dirty = false
      try {
        await pass()
      } catch (failure) {
        onEvent({ type: 'warning', message: `${(failure as Error).message}; retrying in ${options.pollIntervalMs / 1000} s` })
      }
      if (stopping) break
      if (dirty) continue
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.pollIntervalMs)
        wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
    await supabase.removeChannel(channel).catch(() => {})
  })()

  return {
    done,
    async stop() {
      stopping = true
      wakeUp()
      await done
    },
  }
}

function parseInput(row: RequestRow, inputSize: number): { pixels: number[]; salt: bigint } {
  const pixels = row.input?.pixels
  const salt = row.input?.salt
  if (!Array.isArray(pixels) || pixels.length !== inputSize || !pixels.every((p) => Number.isInteger(p))) {
    throw new Refusal(`the request's input must hold ${inputSize} integer pixels`)
  }
  if (typeof salt !== 'string' || !/^[0-9]+$/.test(salt)) throw new Refusal("the request's salt must be a decimal string")
  return { pixels: pixels as number[], salt: BigInt(salt) }
}
