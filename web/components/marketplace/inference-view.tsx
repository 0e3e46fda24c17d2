'use client'
import { useCallback, useEffect, useRef, useState } from 'react'
import { readChainNow, readChainRequest, readReceiptStatus, refundInference, type ChainRequest } from '../../lib/chain/market.ts'
import { TransactionProblem } from '../../lib/chain/settlement.ts'
import { usePublicConfig } from '../../lib/config-context.tsx'
import { requestProblem, type Problem } from '../../lib/errors/request-problem.ts'
import { coins, when } from '../../lib/format.ts'
import {
  chainVerdict,
  durationText,
  probabilityBars,
  readPublicSignals,
  requestStage,
  statementProblems,
  type ChainVerdict,
  type ReceiptStatus,
} from '../../lib/marketplace/inference-verdict.ts'
import type { InferenceRequestRow, MarketManifest, MarketModel } from '../../lib/marketplace/market-rows.ts'
import { verifyProof, type OffChainVerdict } from '../../lib/marketplace/proof-verifier.ts'
import { useSupabase } from '../../lib/supabase-context.tsx'
import { useWallet } from '../../lib/wallet/wallet-context.tsx'
import { ChainHash } from '../chain-hash.tsx'
import { ProblemBox } from '../states.tsx'
import { useWalletStep, WalletGate } from '../wallet-gate.tsx'
import { BuySteps } from './buy-steps.tsx'
import { PixelImage } from './pixel-image.tsx'
import { ProbabilityChart } from './probability-chart.tsx'

/** How often a waiting request re-reads the chain's time and the request (a cheap RPC call). */
const CHAIN_CLOCK_MS = 10_000

type OffChain = { state: 'idle' } | { state: 'running' } | { state: 'done'; verdict: OffChainVerdict; problems: string[] } | { state: 'error'; message: string }
type OnChain = { state: 'idle' } | { state: 'reading' } | { state: 'done'; verdict: ChainVerdict; request: ChainRequest; receipt: ReceiptStatus | null } | { state: 'error'; problem: Problem }

const problemOf = (error: unknown, what: string): Problem =>
  error instanceof TransactionProblem
    ? { message: error.message, next: error.next, code: error.rejected ? 'TX_REJECTED' : 'TX_FAILED' }
    : ((error as { problem?: Problem }).problem ?? requestProblem(what, error))

/**
 * One purchased inference, live: waiting for the owner's proof (the row changes by Realtime),
 * then the answer and its two verdicts — Groth16 in this browser (snarkjs, a lazily loaded chunk)
 * against the listing's verification key, and the chain's (getRequest: Fulfilled with the same
 * output and commitment; the fulfil transaction's receipt). A request the owner failed, or did not
 * answer before its deadline, offers the refund (refund on chain, then record_inference_refund).
 */
export function InferenceView({ row, model, manifest }: { row: InferenceRequestRow; model: MarketModel; manifest: MarketManifest }) {
  const { chain } = usePublicConfig()
  const { supabase } = useSupabase()
  const wallet = useWallet()
  const walletStep = useWalletStep({ session: true, chain: true })
  const [request, setRequest] = useState<ChainRequest | null>(null)
  const [offset, setOffset] = useState(0)
  const [now, setNow] = useState(() => Math.floor(Date.now() / 1000))
  const [offChain, setOffChain] = useState<OffChain>({ state: 'idle' })
  const [onChain, setOnChain] = useState<OnChain>({ state: 'idle' })
  const [refunding, setRefunding] = useState(false)
  const [refundProblem, setRefundProblem] = useState<Problem | null>(null)
  const [refundTx, setRefundTx] = useState<string | null>(null)

  // The request on chain (its deadline), and the chain's clock against ours (anvil's may run ahead).
  const readRequest = useCallback(async () => {
    if (!chain?.market || !row.chain_request_id) return
    try {
      const [r, chainNow] = await Promise.all([readChainRequest(chain, row.chain_request_id), readChainNow(chain)])
      setRequest(r)
      setOffset(chainNow - Math.floor(Date.now() / 1000))
    } catch {
      // The verdict panel reports an unreachable chain; the countdown waits.
    }
  }, [chain, row.chain_request_id])
  useEffect(() => {
    void readRequest()
  }, [readRequest, row.status])

  const pending = row.status === 'pending' || row.status === 'failed'
  useEffect(() => {
    if (!pending) return
    const timer = setInterval(() => setNow(Math.floor(Date.now() / 1000)), 1000)
    // The chain's clock and the request's state, now and then: the refund opens by the chain's time.
    const chainTimer = setInterval(() => void readRequest(), CHAIN_CLOCK_MS)
    return () => {
      clearInterval(timer)
      clearInterval(chainTimer)
    }
  }, [pending, readRequest])

  // A request just bought (or opened from the list) comes into view.
  const sectionRef = useRef<HTMLElement>(null)
  useEffect(() => {
    sectionRef.current?.scrollIntoView({ behavior: 'smooth', block: 'start' })
  }, [row.id])
  const chainNow = now + offset
  const deadline = request?.deadline ?? null

  // Off chain: Groth16 in the browser, once the proof is there.
  useEffect(() => {
    if (row.status !== 'fulfilled' || !row.proof || !row.public_signals) return
    let live = true
    setOffChain({ state: 'running' })
    const problems = statementProblems(row, manifest.classes)
    verifyProof(model.verification_key, row.public_signals.map(String), row.proof).then(
      (verdict) => live && setOffChain({ state: 'done', verdict, problems }),
      (error: unknown) => live && setOffChain({ state: 'error', message: (error as Error).message ?? String(error) }),
    )
    return () => {
      live = false
    }
  }, [row.id, row.status, row.proof, row.public_signals, row.input_commitment, row.output, model.verification_key, manifest.classes])

  // On chain: the market's record of the request and the fulfil transaction's receipt.
  // Read once per answer: the row object changes on every Realtime patch, its fulfil transaction does not.
  const rowRef = useRef(row)
  rowRef.current = row
  const readVerdict = useCallback(async () => {
    const row = rowRef.current
    if (row.status !== 'fulfilled') return
    if (!chain?.market || !row.chain_request_id) {
      setOnChain({ state: 'error', problem: { message: 'This network’s configuration names no InferenceMarket, so the chain cannot be asked.', next: 'Start the network with `npm start`.', code: 'NO_MARKET' } })
      return
    }
    setOnChain({ state: 'reading' })
    try {
      const [r, receipt] = await Promise.all([readChainRequest(chain, row.chain_request_id), row.fulfil_tx_hash ? readReceiptStatus(chain, row.fulfil_tx_hash) : Promise.resolve(null)])
      setOnChain({ state: 'done', request: r, receipt: receipt?.status ?? null, verdict: chainVerdict(row, r, receipt?.status ?? null) })
    } catch (error) {
      setOnChain({ state: 'error', problem: { message: `Could not read the request from ${chain.name}: ${(error as Error).message}`, next: 'Check that the chain is reachable, then retry.', code: 'CHAIN_UNREACHABLE' } })
    }
  }, [chain])
  useEffect(() => {
    void readVerdict()
  }, [readVerdict, row.status, row.fulfil_tx_hash])

  const baseStage = requestStage(row, deadline === null ? null : chainNow, deadline)
  const verifiedBoth =
    offChain.state === 'done' && offChain.verdict.ok && offChain.problems.length === 0 && onChain.state === 'done' && onChain.verdict.ok
  const rejected = (offChain.state === 'done' && (!offChain.verdict.ok || offChain.problems.length > 0)) || (onChain.state === 'done' && !onChain.verdict.ok)
  const stage = row.status === 'fulfilled' ? (verifiedBoth ? 'verified' : rejected ? 'rejected' : 'verifying') : refundTx ? 'refunded' : baseStage
  const refundable = (row.status === 'pending' || row.status === 'failed') && request?.status === 'open'
  const refundOpen = refundable && deadline !== null && chainNow > deadline

  const refund = async () => {
    if (!chain || !wallet.wallet || !row.chain_request_id) return
    setRefunding(true)
    setRefundProblem(null)
    try {
      const tx = refundTx ?? (await refundInference(chain, wallet.wallet.provider, row.chain_request_id))
      setRefundTx(tx)
      const { error } = await supabase.rpc('record_inference_refund', { p_request_id: row.id, p_refund_tx_hash: tx })
      if (error) throw Object.assign(new Error(error.message), { problem: requestProblem(`Refunded on chain (tx ${tx}), but the network did not record it`, error) })
      await readRequest()
    } catch (error) {
      setRefundProblem(problemOf(error, 'Could not refund'))
    } finally {
      setRefunding(false)
    }
  }

  const statement = readPublicSignals(row.public_signals)
  const proven = statement?.predicted ?? null
  const className = (k: number) => manifest.classNames[k] ?? String(k)
  const bars = probabilityBars(row.output, manifest.classNames)
  const maxPixel = 2 ** manifest.inputBits - 1

  return (
    <section ref={sectionRef} className="panel inference-view" data-testid="inference-view" data-request-id={row.id} data-status={row.status} data-stage={stage}>
      <div className="panel-header">
        <h2>
          Request #{row.chain_request_id ?? '?'} <span className="muted">· {when(row.created_at)}</span>
        </h2>
        <span className={`badge status-${row.status === 'fulfilled' ? (stage === 'verified' ? 'completed' : stage === 'rejected' ? 'failed' : 'running') : row.status === 'pending' ? 'running' : row.status === 'refunded' ? 'created' : 'failed'}`} data-testid="inference-status">
          {stage === 'verified' ? 'verified' : stage === 'rejected' ? 'proof rejected' : stage === 'expired' ? 'expired · refundable' : row.status}
        </span>
      </div>
      <BuySteps
        stage={stage}
        details={{
          pay: row.request_tx_hash ? (
            <>
              {coins(row.price_wei)} paid in <ChainHash value={row.request_tx_hash} testId="request-tx" />
            </>
          ) : undefined,
          record: 'Only the model’s owner can read your pixels and salt.',
          prove:
            row.status === 'pending' && deadline !== null
              ? chainNow <= deadline
                ? `The owner’s machine proves the answer; it has ${durationText(deadline - chainNow)} left before you may refund.`
                : `The deadline passed ${durationText(chainNow - deadline)} ago without an answer.`
              : row.status === 'failed'
                ? row.error
                : row.status === 'fulfilled' && row.fulfilled_at
                  ? `Answered ${when(row.fulfilled_at)}.`
                  : undefined,
        }}
      />

      {row.status === 'fulfilled' && (
        <div className="result-grid">
          <div className="predicted" data-testid="predicted-class" data-value={proven ?? ''}>
            <span className="label">Predicted</span>
            <span className="digit">{proven === null ? '?' : className(proven)}</span>
            {row.output && row.output.floatPredicted !== row.output.predicted && (
              <span className="hint" data-testid="float-differs">
                The float model says {className(row.output.floatPredicted)}; the proof covers the quantized model’s {proven === null ? '?' : className(proven)}.
              </span>
            )}
          </div>
          <div>{bars.length > 0 ? <ProbabilityChart bars={bars} /> : <p className="muted">The owner recorded no probabilities.</p>}</div>
          <div className="verdicts">
            <div className={`verdict ${offChain.state === 'done' ? (offChain.verdict.ok && offChain.problems.length === 0 ? 'ok' : 'bad') : offChain.state === 'error' ? 'bad' : ''}`} data-testid="offchain-verdict" data-state={offChain.state} data-ok={offChain.state === 'done' ? String(offChain.verdict.ok && offChain.problems.length === 0) : ''}>
              <strong>In your browser</strong>
              {offChain.state === 'done' ? (
                <span>
                  {offChain.verdict.ok ? `Groth16 proof valid for the listed key (${offChain.verdict.ms.toFixed(0)} ms).` : 'The proof does NOT verify against the listed key.'}
                  {offChain.problems.map((p) => (
                    <span key={p} className="field-error">
                      {' '}
                      {p}.
                    </span>
                  ))}
                </span>
              ) : offChain.state === 'error' ? (
                <span>The proof could not be checked: {offChain.message}. Reload the page to try again.</span>
              ) : (
                <span className="muted">Verifying the proof (snarkjs)…</span>
              )}
            </div>
            <div className={`verdict ${onChain.state === 'done' ? (onChain.verdict.ok ? 'ok' : 'bad') : onChain.state === 'error' ? 'bad' : ''}`} data-testid="chain-verdict" data-state={onChain.state} data-ok={onChain.state === 'done' ? String(onChain.verdict.ok) : ''}>
              <strong>On chain</strong>
              {onChain.state === 'done' ? (
                <>
                  <span>{onChain.verdict.ok ? 'The market verified the same proof and paid the owner.' : 'The chain does not confirm this answer.'}</span>
                  <ul className="checks">
                    {onChain.verdict.checks.map((c) => (
                      <li key={c.label} className={c.ok ? 'ok' : 'bad'}>
                        {c.ok ? '✓' : '✗'} {c.label}
                      </li>
                    ))}
                  </ul>
                </>
              ) : onChain.state === 'error' ? (
                <ProblemBox problem={onChain.problem} onRetry={() => void readVerdict()} testId="chain-verdict-error" />
              ) : (
                <span className="muted">Reading the request from the market…</span>
              )}
              {row.fulfil_tx_hash && (
                <span className="tx-line" data-testid="fulfil-receipt" data-status={onChain.state === 'done' ? (onChain.receipt ?? 'missing') : ''}>
                  fulfil transaction <ChainHash value={row.fulfil_tx_hash} testId="fulfil-tx" />
                </span>
              )}
            </div>
          </div>
        </div>
      )}

      {(row.status === 'failed' || row.status === 'pending' || row.status === 'refunded') && (
        <div className="refund" data-testid="refund-panel">
          {row.status === 'failed' && (
            <div className="error" role="alert" data-testid="inference-error">
              <strong>The owner could not answer: {row.error ?? 'no reason given'}.</strong>{' '}
              {refundOpen ? 'Refund the price below.' : deadline !== null ? `You can refund the price after the deadline (${durationText(Math.max(0, deadline - chainNow))} from now).` : ''}
            </div>
          )}
          {row.status === 'refunded' || request?.status === 'refunded' ? (
            <div className="notice ok" data-testid="refund-done">
              Refunded: {coins(row.price_wei)} went back to your wallet
              {(row.refund_tx_hash ?? refundTx) && (
                <>
                  {' '}
                  in <ChainHash value={(row.refund_tx_hash ?? refundTx)!} testId="refund-tx" />
                </>
              )}
              .
            </div>
          ) : (
            refundable &&
            (refundOpen || row.status === 'failed') && (
              <>
                {refundOpen && <WalletGate needs={{ session: true, chain: true }} purpose="refund" testId="refund-gate" />}
                <div className="actions">
                  <button type="button" className="button warn" onClick={() => void refund()} disabled={!refundOpen || refunding || walletStep !== null} data-testid="refund-inference">
                    {refunding ? 'Confirm in your wallet…' : refundOpen ? `Refund ${coins(row.price_wei)}` : `Refund opens in ${durationText(Math.max(0, (deadline ?? chainNow) - chainNow))}`}
                  </button>
                </div>
              </>
            )
          )}
          {refundProblem && <ProblemBox problem={refundProblem} testId="refund-problem" />}
        </div>
      )}

      <div className="statement-grid">
        <div data-testid="committed-input">
          <h3>Your committed input</h3>
          {row.input ? (
            <div className="committed">
              <PixelImage pixels={row.input.pixels} max={maxPixel} size={112} label="The pixels you committed to" />
              <dl className="facts compact">
                <dt>Commitment</dt>
                <dd className="mono hash" data-testid="input-commitment">
                  {row.input_commitment}
                </dd>
                <dt>Salt</dt>
                <dd className="mono hash">{row.input.salt}</dd>
              </dl>
            </div>
          ) : (
            <p className="muted">Commitment {row.input_commitment}</p>
          )}
        </div>
        <div data-testid="public-signals">
          <h3>Public signals</h3>
          {row.public_signals ? (
            <table className="signals">
              <tbody>
                {row.public_signals.map((value, i) => (
                  <tr key={i}>
                    <th>{['predicted', 'inputCommitment'][i] ?? `signal ${i}`}</th>
                    <td className="mono hash">{String(value)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p className="muted">They come with the proof.</p>
          )}
        </div>
      </div>
      {row.proof && (
        <details className="proof-json" data-testid="proof-json">
          <summary>Proof (Groth16, snarkjs JSON)</summary>
          <pre>{JSON.stringify(row.proof, null, 2)}</pre>
        </details>
      )}
    </section>
  )
}
