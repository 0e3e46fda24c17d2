'use client'
import { usePublicConfig } from '../../lib/config-context.tsx'
import { coins, when } from '../../lib/format.ts'
import { FINAL_STATUSES, type JobRow, type SettlementRow } from '../../lib/jobs/job-rows.ts'
import { ChainHash } from '../chain-hash.tsx'
import { Empty } from '../states.tsx'

const STATUS_TEXT: Record<SettlementRow['status'], string> = {
  pending: 'pending — the settle transaction is being sent',
  submitted: 'submitted — waiting to be mined',
  confirmed: 'confirmed on chain',
  failed: 'refused by the contract',
}

/**
 * How the job was paid: the coordinator's settlement (one transaction: a Merkle root of
 * (worker, amount)), the payouts each worker claims after the challenge window, and what is left
 * for the creator.
 */
export function SettlementPanel({ job, settlement }: { job: JobRow; settlement: SettlementRow | null }) {
  const { chain } = usePublicConfig()
  if (job.chain_id === null && !settlement) {
    return (
      <section className="panel" data-testid="settlement-panel">
        <h2>Settlement</h2>
        <Empty testId="settlement-none">{chain ? 'Settled on chain once the job is funded and ends.' : 'No chain: this job is not settled, nobody is paid.'}</Empty>
      </section>
    )
  }
  const total = settlement ? BigInt(settlement.total_wei) : 0n
  const remainder = BigInt(job.reward_wei) - total
  const claimableAt = settlement?.confirmed_at && chain ? new Date(new Date(settlement.confirmed_at).getTime() + chain.challengeWindow * 1000) : null
  return (
    <section className="panel" data-testid="settlement-panel">
      <h2>Settlement</h2>
      {!settlement ? (
        <Empty testId="settlement-waiting">{FINAL_STATUSES.includes(job.status) ? 'The coordinator is settling the job…' : 'The coordinator settles the job on chain in one transaction when it ends.'}</Empty>
      ) : (
        <>
          <dl className="facts">
            <dt>State</dt>
            <dd data-testid="settlement-status" data-status={settlement.status}>
              {STATUS_TEXT[settlement.status] ?? settlement.status}
            </dd>
            {settlement.tx_hash && (
              <>
                <dt>Transaction</dt>
                <dd>
                  <ChainHash value={settlement.tx_hash} testId="settlement-tx" />
                  {settlement.block_number !== null && <span className="muted"> (block {settlement.block_number})</span>}
                </dd>
              </>
            )}
            <dt>Paid to workers</dt>
            <dd data-testid="settlement-total">
              {coins(total)} of {coins(job.reward_wei)}
            </dd>
            {remainder > 0n && settlement.status === 'confirmed' && (
              <>
                <dt>Back to you</dt>
                <dd>
                  {coins(remainder)} <span className="muted">(rounding, refused work, workers without a payout address): withdraw with `oblivion job refund`</span>
                </dd>
              </>
            )}
            {settlement.merkle_root && (
              <>
                <dt>Payout root</dt>
                <dd className="mono hash">{settlement.merkle_root}</dd>
              </>
            )}
            {claimableAt && (
              <>
                <dt>Claimable from</dt>
                <dd>{claimableAt.toLocaleString()}</dd>
              </>
            )}
            {settlement.last_error && (
              <>
                <dt>Error</dt>
                <dd className="field-error">{settlement.last_error}</dd>
              </>
            )}
            <dt>Recorded</dt>
            <dd>{when(settlement.confirmed_at ?? settlement.created_at)}</dd>
          </dl>
          {settlement.payouts.length > 0 ? (
            <table data-testid="settlement-payouts">
              <thead>
                <tr>
                  <th>Worker payout address</th>
                  <th>Amount</th>
                </tr>
              </thead>
              <tbody>
                {settlement.payouts.map((p) => (
                  <tr key={p.address} data-testid={`payout-${p.address}`}>
                    <td>
                      <ChainHash value={p.address} kind="address" />
                    </td>
                    <td>{coins(p.amount_wei)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <Empty testId="settlement-no-payouts">No worker earned a payout: the whole escrow goes back to you.</Empty>
          )}
        </>
      )}
    </section>
  )
}
