'use client'
import { useCallback, useEffect, useState } from 'react'
import { cancelEscrow, fundEscrow, readEscrow, type Escrow } from '../../lib/chain/escrow.ts'
import { TransactionProblem } from '../../lib/chain/settlement.ts'
import { usePublicConfig } from '../../lib/config-context.tsx'
import { requestProblem, type Problem } from '../../lib/errors/request-problem.ts'
import { coins, when } from '../../lib/format.ts'
import { FINAL_STATUSES, type JobRow } from '../../lib/jobs/job-rows.ts'
import { useSupabase } from '../../lib/supabase-context.tsx'
import { useWallet } from '../../lib/wallet/wallet-context.tsx'
import { ChainHash } from '../chain-hash.tsx'
import { Loading, ProblemBox } from '../states.tsx'
import { useWalletStep, WalletGate } from '../wallet-gate.tsx'

const DEFAULT_DEADLINE_HOURS = 168

const transactionProblem = (error: unknown): Problem =>
  error instanceof TransactionProblem
    ? { message: error.message, next: error.next, code: error.rejected ? 'TX_REJECTED' : 'TX_FAILED' }
    : { message: `The transaction failed: ${(error as Error).message ?? String(error)}`, next: 'Try again.', code: 'TX_FAILED' }

/**
 * The job's escrow: what the contract holds for it (getJob), and the creator's two actions on it:
 * “Fund escrow” while the job is created and unfunded (a failed or declined funding at creation
 * is retried here), “Cancel” while no work has started (cancelJob refunds the whole escrow; a job
 * without escrow is cancelled in the database).
 */
export function EscrowPanel({ job, settlementState }: { job: JobRow; settlementState: string | null }) {
  const { chain } = usePublicConfig()
  const { supabase } = useSupabase()
  const wallet = useWallet()
  const chainStep = useWalletStep({ chain: true })
  const [escrow, setEscrow] = useState<Escrow | null>(null)
  const [readProblem, setReadProblem] = useState<Problem | null>(null)
  const [actionProblem, setActionProblem] = useState<Problem | null>(null)
  const [busy, setBusy] = useState<'fund' | 'cancel' | null>(null)
  const [done, setDone] = useState<{ action: 'fund' | 'cancel'; text: string; tx: string | null } | null>(null)
  const [deadlineHours, setDeadlineHours] = useState(String(DEFAULT_DEADLINE_HOURS))
  const [confirmCancel, setConfirmCancel] = useState(false)

  const read = useCallback(async () => {
    if (!chain) return
    try {
      setEscrow(await readEscrow(chain, job.id))
      setReadProblem(null)
    } catch (error) {
      setReadProblem({ message: `Could not read the escrow from ${chain.name} (${chain.rpcUrl}): ${(error as Error).message}`, next: 'Check that the chain is reachable, then retry.', code: 'CHAIN_UNREACHABLE' })
    }
  }, [chain, job.id])
  // Re-read when the mirror moves the job (funded, started, cancelled) or its settlement.
  useEffect(() => {
    void read()
  }, [read, job.status, job.escrow_tx_hash, job.chain_id, job.started_at, settlementState])

  const ended = FINAL_STATUSES.includes(job.status)
  const unfunded = job.status === 'created' && (!chain || escrow?.status === 'none')
  // Without an escrow a job is cancelled in the database; with one, only before work starts.
  const cancellableInDatabase = (job.status === 'created' || job.status === 'funded') && (!chain || escrow?.status === 'none') && job.started_at === null
  const cancellableOnChain = escrow?.status === 'funded' && !escrow.started && !ended

  const fund = async () => {
    if (!chain || !wallet.wallet) return
    const hours = Number(deadlineHours)
    if (!Number.isFinite(hours) || hours < 1 || hours > 87_600) {
      setActionProblem({ message: 'The deadline must be a number of hours from 1 to 87600.', next: 'Fix it and fund again.', code: 'BAD_DEADLINE' })
      return
    }
    setBusy('fund')
    setActionProblem(null)
    try {
      const tx = await fundEscrow(chain, wallet.wallet.provider, job, hours)
      setDone({ action: 'fund', text: `Escrow of ${coins(job.reward_wei)} funded. The coordinator starts the job once it sees it.`, tx })
      await read()
    } catch (error) {
      setActionProblem(transactionProblem(error))
    } finally {
      setBusy(null)
    }
  }

  const cancel = async () => {
    setBusy('cancel')
    setActionProblem(null)
    setConfirmCancel(false)
    try {
      let tx: string | null = null
      if (cancellableOnChain && chain && wallet.wallet) tx = await cancelEscrow(chain, wallet.wallet.provider, job.id)
      // The database follows at once (the coordinator would mirror JobCancelled too): no new leases.
      const { error } = await supabase.rpc('cancel_job', { p_job_id: job.id, p_reason: tx ? `escrow refunded on chain (tx ${tx})` : 'cancelled by its creator' })
      if (error) throw Object.assign(new Error(error.message), { problem: requestProblem('Could not cancel the job', error) })
      setDone({ action: 'cancel', text: tx ? `Cancelled: the escrow of ${coins(escrow?.escrowWei ?? 0n)} was refunded to the creator’s wallet.` : 'Cancelled.', tx })
      await read()
    } catch (error) {
      setActionProblem((error as { problem?: Problem }).problem ?? transactionProblem(error))
    } finally {
      setBusy(null)
    }
  }

  return (
    <section className="panel" data-testid="escrow-panel">
      <h2>Escrow</h2>
      {!chain ? (
        <p className="muted" data-testid="escrow-none">
          This network runs without a chain: {job.status === 'created' ? 'the job waits for the coordinator to fund it without escrow' : 'the job was funded without escrow'}. Nobody is
          paid.
        </p>
      ) : readProblem ? (
        <ProblemBox problem={readProblem} onRetry={() => void read()} testId="escrow-error" />
      ) : !escrow ? (
        <Loading testId="escrow-loading">Reading the escrow on {chain.name}…</Loading>
      ) : escrow.status === 'none' ? (
        <p data-testid="escrow-status" data-status="none">
          {job.status === 'created'
            ? `Not funded yet: the job starts once ${coins(job.reward_wei)} is escrowed on ${chain.name}.`
            : job.chain_id === null
              ? 'Funded without escrow (local network): nobody is paid.'
              : `No escrow found on ${chain.name} for this job.`}
        </p>
      ) : (
        <dl className="facts" data-testid="escrow-status" data-status={escrow.status}>
          <dt>State</dt>
          <dd>
            {escrow.status}
            {escrow.status === 'funded' && (escrow.started ? ' — work has started (it can no longer be cancelled)' : ' — not started yet')}
            {job.status === 'created' && escrow.status === 'funded' ? ' — waiting for the coordinator to see it' : ''}
          </dd>
          <dt>Held</dt>
          <dd data-testid="escrow-amount">{coins(escrow.escrowWei)}</dd>
          <dt>Deadline</dt>
          <dd>{when(escrow.deadline)}</dd>
          <dt>Creator</dt>
          <dd>
            <ChainHash value={escrow.creator} kind="address" />
          </dd>
          {job.escrow_tx_hash && (
            <>
              <dt>Funded in</dt>
              <dd>
                <ChainHash value={job.escrow_tx_hash} testId="escrow-tx" />
              </dd>
            </>
          )}
          {escrow.status === 'settled' && (
            <>
              <dt>Settled</dt>
              <dd>{when(escrow.settledAt)}</dd>
              <dt>Not yet claimed</dt>
              <dd>{coins(escrow.unclaimedWei)}</dd>
            </>
          )}
        </dl>
      )}

      {/* “Funded, the coordinator starts it once it sees it” is news only until it does. */}
      {done && (done.action === 'cancel' || job.status === 'created') && (
        <div className="notice ok" role="status" data-testid="escrow-done">
          {done.text}
          {done.tx && (
            <>
              {' '}
              Transaction <ChainHash value={done.tx} testId="escrow-done-tx" />.
            </>
          )}
        </div>
      )}
      {actionProblem && <ProblemBox problem={actionProblem} testId="escrow-action-error" />}

      {chain && unfunded && escrow && (
        <div className="actions">
          <WalletGate needs={{ chain: true }} purpose="fund the escrow" testId="fund-gate" />
          <label className="inline" htmlFor="fund-deadline">
            Deadline (hours)
            <input id="fund-deadline" className="short" value={deadlineHours} onChange={(e) => setDeadlineHours(e.target.value)} data-testid="fund-deadline" />
          </label>
          <button type="button" className="button" onClick={() => void fund()} disabled={busy !== null || chainStep !== null} data-testid="fund-escrow">
            {busy === 'fund' ? 'Confirm in your wallet…' : `Fund escrow (${coins(job.reward_wei)})`}
          </button>
        </div>
      )}
      {(cancellableOnChain || cancellableInDatabase) && (
        <div className="actions">
          {cancellableOnChain && <WalletGate needs={{ chain: true }} purpose="cancel the escrow" testId="cancel-gate" />}
          {!confirmCancel ? (
            <button
              type="button"
              className="button secondary"
              onClick={() => setConfirmCancel(true)}
              disabled={busy !== null || (cancellableOnChain && chainStep !== null)}
              data-testid="cancel-job"
            >
              {busy === 'cancel' ? 'Cancelling…' : cancellableOnChain ? 'Cancel and refund the escrow' : 'Cancel job'}
            </button>
          ) : (
            <span className="confirm" data-testid="cancel-confirm">
              Cancel this job{cancellableOnChain ? ` and refund ${coins(escrow!.escrowWei)}` : ''}? This cannot be undone.{' '}
              <button type="button" className="button warn" onClick={() => void cancel()} data-testid="cancel-job-confirm">
                Yes, cancel
              </button>{' '}
              <button type="button" className="link" onClick={() => setConfirmCancel(false)}>
                Keep it
              </button>
            </span>
          )}
        </div>
      )}
    </section>
  )
}
