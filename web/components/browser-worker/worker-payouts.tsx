'use client'
import Link from 'next/link'
import type { WorkerPayout } from '@oblivion/node-client/chain'
import { usePublicConfig } from '../../lib/config-context.tsx'
import { coins, shortHex, shortId, when } from '../../lib/format.ts'
import { Empty, Loading, ProblemBox } from '../states.tsx'
import { useWorkerPayouts } from './use-worker-payouts.ts'

function stateWords(payout: WorkerPayout, chainTime: number | null): string {
  switch (payout.state) {
    case 'claimable':
      return 'claimable now'
    case 'claimed':
      return 'claimed'
    case 'waiting': {
      const left = chainTime !== null && payout.claimableAt !== null ? Math.max(0, payout.claimableAt - chainTime) : null
      return `claimable at ${when(payout.claimableAt)}${left !== null ? ` (in ${left} s, when the challenge window closes)` : ''}`
    }
    case 'not-on-chain':
      return 'not settled on chain with this payout list (disputed?)'
    case 'invalid':
      return 'its payout list does not reproduce the Merkle root: it cannot be claimed'
  }
}

/**
 * "Your payouts": every confirmed settlement paying the signed-in wallet, with its state on
 * chain, and a Claim button for those past their challenge window.
 */
export function WorkerPayouts({ address, refreshKey }: { address: string | null; refreshKey: unknown }) {
  const config = usePublicConfig()
  const { payouts, chainTime, problem, claiming, outcome, claim, reload } = useWorkerPayouts(address, refreshKey)

  let body
  if (!config.chain) body = <Empty testId="payouts-no-chain">This network runs without a chain: nobody is paid.</Empty>
  else if (!address) body = <Empty testId="payouts-sign-in">Connect your wallet and sign in to see your payouts.</Empty>
  else if (problem) body = <ProblemBox problem={problem} onRetry={() => void reload()} testId="payouts-problem" />
  else if (!payouts) body = <Loading testId="payouts-loading">Reading your settlements…</Loading>
  else if (payouts.length === 0) body = <Empty testId="payouts-empty">No settled job pays {shortHex(address)} yet. Jobs are settled when they end.</Empty>
  else
    body = (
      <table>
        <thead>
          <tr>
            <th>Job</th>
            <th>Amount</th>
            <th>State</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {payouts.map((payout) => (
            <tr key={payout.jobId} data-testid="payout-row" data-job-id={payout.jobId} data-state={payout.state} data-amount-wei={String(payout.amountWei)}>
              <td>
                <Link href={`/jobs/${payout.jobId}`} className="mono">
                  {shortId(payout.jobId)}
                </Link>
              </td>
              <td>{coins(payout.amountWei)}</td>
              <td data-testid="payout-state">{stateWords(payout, chainTime)}</td>
              <td>
                {payout.state === 'claimable' && (
                  <button type="button" className="button" disabled={claiming !== null} onClick={() => void claim(payout)} data-testid="payout-claim" data-job-id={payout.jobId}>
                    {claiming === payout.jobId ? 'Claiming…' : 'Claim'}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    )

  return (
    <section className="panel" aria-labelledby="payouts-title">
      <h2 id="payouts-title">Your payouts</h2>
      {body}
      {outcome?.txHash && (
        <p className="notice" data-testid="claim-tx" data-tx-hash={outcome.txHash}>
          Claimed the payout of job {shortId(outcome.jobId)}: transaction <span className="mono">{outcome.txHash}</span>
        </p>
      )}
      {outcome?.problem && <ProblemBox problem={outcome.problem} testId="claim-problem" />}
    </section>
  )
}
