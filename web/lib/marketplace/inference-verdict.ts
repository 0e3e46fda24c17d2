import type { ChainRequest } from '../chain/market.ts'
import type { InferenceOutput, InferenceRequestRow } from './market-rows.ts'

/**
 * What a buyer checks once the owner answered, and how the page says it. The proof's public
 * statement is publicSignals = [predicted, inputCommitment] (model/src/zk/circuit.ts): the class
 * must be the one recorded, the commitment the buyer's own. The off-chain verdict is Groth16's
 * (snarkjs in the browser, proof-verifier.ts); the chain's is the market's getRequest (the
 * contract verified the same proof in fulfil) plus the fulfil transaction's receipt.
 */

export interface PublicStatement {
  predicted: number
  inputCommitment: string
}

/** Reads [predicted, inputCommitment]; null when the signals are not that shape. */
export function readPublicSignals(signals: unknown): PublicStatement | null {
  if (!Array.isArray(signals) || signals.length !== 2) return null
  const [predicted, commitment] = signals.map(String)
  if (!/^\d+$/.test(predicted!) || !/^\d+$/.test(commitment!)) return null
  const value = Number(predicted)
  if (!Number.isSafeInteger(value)) return null
  return { predicted: value, inputCommitment: BigInt(commitment!).toString() }
}

/** Problems of the answer itself (before any cryptography): wrong statement, another input, another class. */
export function statementProblems(row: Pick<InferenceRequestRow, 'public_signals' | 'input_commitment' | 'output'>, classes: number): string[] {
  const statement = readPublicSignals(row.public_signals)
  if (!statement) return ['the public signals are not [predicted, inputCommitment]']
  const problems: string[] = []
  if (statement.inputCommitment !== BigInt(row.input_commitment).toString()) problems.push('the proof is about another input (its commitment is not yours)')
  if (statement.predicted < 0 || statement.predicted >= classes) problems.push(`the proven class ${statement.predicted} is not one of the model’s ${classes} classes`)
  if (row.output && row.output.predicted !== statement.predicted) problems.push(`the recorded class ${row.output.predicted} differs from the proven one ${statement.predicted}`)
  return problems
}

export type ReceiptStatus = 'success' | 'reverted' | 'missing'

export interface ChainVerdict {
  ok: boolean
  /** One line per check, in order, for the page's list. */
  checks: { label: string; ok: boolean }[]
}

/** The chain's verdict: the request is Fulfilled with the proven output and the buyer's commitment, and the fulfil transaction succeeded. */
export function chainVerdict(row: Pick<InferenceRequestRow, 'public_signals' | 'input_commitment'>, request: ChainRequest, fulfilReceipt: ReceiptStatus | null): ChainVerdict {
  const statement = readPublicSignals(row.public_signals)
  const checks = [
    { label: `request status on chain: ${request.status}`, ok: request.status === 'fulfilled' },
    { label: `output on chain ${request.output.toString()} = proven class ${statement?.predicted ?? '?'}`, ok: statement !== null && request.output === BigInt(statement.predicted) },
    { label: 'input commitment on chain = yours', ok: request.inputCommitment === BigInt(row.input_commitment) },
    { label: `fulfil transaction: ${fulfilReceipt ?? 'not recorded'}`, ok: fulfilReceipt === 'success' },
  ]
  return { ok: checks.every((c) => c.ok), checks }
}

export interface ProbabilityBar {
  label: string
  probability: number
  /** The proven class (the circuit's argmax). */
  proven: boolean
}

/** The float model's probabilities per class name, for the bar chart; [] without an output. */
export function probabilityBars(output: InferenceOutput | null, classNames: readonly string[]): ProbabilityBar[] {
  if (!output || !Array.isArray(output.probabilities)) return []
  return output.probabilities.map((p, i) => ({ label: classNames[i] ?? String(i), probability: Number.isFinite(p) ? p : 0, proven: i === output.predicted }))
}

/** 0.98765 → `98.8 %`, 0.00012 → `< 0.1 %`. */
export function probabilityText(p: number): string {
  if (!Number.isFinite(p)) return '—'
  if (p > 0 && p < 0.001) return '< 0.1 %'
  return `${(p * 100).toFixed(1)} %`
}

/** Seconds until (positive) or since (negative) a deadline as `4 min 05 s` / `12 s`. */
export function durationText(seconds: number): string {
  const s = Math.max(0, Math.round(Math.abs(seconds)))
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`
}

export type BuyStage = 'paying' | 'recording' | 'waiting' | 'verifying' | 'verified' | 'rejected' | 'failed' | 'expired' | 'refunded'

/** Where a request stands for its buyer, from the row, the chain's time and the request's deadline. */
export function requestStage(row: Pick<InferenceRequestRow, 'status'>, now: number | null, deadline: number | null): BuyStage {
  if (row.status === 'refunded') return 'refunded'
  if (row.status === 'failed') return 'failed'
  if (row.status === 'fulfilled') return 'verifying'
  if (deadline !== null && now !== null && now > deadline) return 'expired'
  return 'waiting'
}
