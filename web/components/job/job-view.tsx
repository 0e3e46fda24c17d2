'use client'
import Link from 'next/link'
import { coins, measure, shortId, when } from '../../lib/format.ts'
import { jobName, type JobRow } from '../../lib/jobs/job-rows.ts'
import { useJobLive } from '../../lib/jobs/use-job-live.ts'
import { usePublicConfig } from '../../lib/config-context.tsx'
import { Loading, ProblemBox } from '../states.tsx'
import { WalletGate } from '../wallet-gate.tsx'
import { EscrowPanel } from './escrow-panel.tsx'
import { JobStatusBadge } from './job-status.tsx'
import { ModelDownloads } from './model-downloads.tsx'
import { RoundsChart } from './rounds-chart.tsx'
import { RoundsTable } from './rounds-table.tsx'
import { SettlementPanel } from './settlement-panel.tsx'
import { ShardsTable } from './shards-table.tsx'

/** The job page: everything its creator follows, live. */
export function JobView({ jobId, created }: { jobId: string; created: boolean }) {
  const { view, reload } = useJobLive(jobId)
  const { chain } = usePublicConfig()

  switch (view.state) {
    case 'loading':
      return <Loading testId="job-loading">Loading the job…</Loading>
    case 'signed-out':
      return (
        <section className="panel" data-testid="job-signed-out">
          <h1>Job {shortId(jobId)}</h1>
          <p>A job’s progress, escrow and model are visible to its creator only.</p>
          <WalletGate needs={{ session: true }} purpose="see your job" testId="job-gate" />
        </section>
      )
    case 'not-found':
      return (
        <section className="panel" data-testid="job-not-found">
          <h1>Job not found</h1>
          <p>
            No job <span className="mono">{jobId}</span> is visible to you: it does not exist, or it belongs to another account and is not active on the network.
          </p>
          <p>
            Check the link, or go to <Link href="/">your jobs</Link> or <Link href="/jobs/new">create one</Link>.
          </p>
        </section>
      )
    case 'not-yours':
      return <NotYours jobId={jobId} job={view.job} />
    case 'error':
      return <ProblemBox problem={view.problem} onRetry={reload} testId="job-error" />
  }

  const { job, rounds, tasks, model, settlement, workerKinds } = view
  const privacy = job.privacy_delta !== null
  const currentRound = rounds.find((r) => r.round === job.current_round)
  return (
    <article className="job" data-testid="job-page" data-job-id={job.id}>
      <header className="job-header">
        <h1>{jobName(job)}</h1>
        <JobStatusBadge status={job.status} />
      </header>
      {job.status_reason && (
        <p className={job.status === 'failed' ? 'error' : 'notice'} data-testid="job-status-reason">
          {job.status_reason}
        </p>
      )}
      {created && (
        <div className="notice ok" data-testid="job-created-notice">
          Job created{chain ? (job.status === 'created' ? '.' : ' and its escrow funded.') : ' without escrow: the coordinator funds it.'} This page follows it live.
        </div>
      )}
      <dl className="facts summary">
        <dt>Job id</dt>
        <dd className="mono" data-testid="job-id">
          {job.id}
        </dd>
        <dt>Progress</dt>
        <dd data-testid="job-round" data-round={job.current_round}>
          {job.current_round === 0 ? 'not started' : `round ${job.current_round} of ${job.rounds}`}, {job.shards} shard{job.shards === 1 ? '' : 's'} per round
          {currentRound && currentRound.status === 'training' ? ` — ${tasks.filter((t) => t.status === 'completed').length} of ${job.shards} delivered` : ''}
        </dd>
        <dt>Privacy</dt>
        <dd data-testid="job-epsilon">{privacy ? `ε spent ${measure(job.privacy_epsilon_spent)} at δ = ${job.privacy_delta}` : 'no differential privacy'}</dd>
        <dt>Reward</dt>
        <dd>{coins(job.reward_wei)}</dd>
        <dt>Created</dt>
        <dd>{when(job.created_at)}</dd>
        {job.finished_at && (
          <>
            <dt>Finished</dt>
            <dd>{when(job.finished_at)}</dd>
          </>
        )}
      </dl>

      <section className="panel" data-testid="rounds-panel">
        <h2>Rounds</h2>
        <RoundsChart rounds={rounds} privacy={privacy} />
        <RoundsTable rounds={rounds} totalRounds={job.rounds} shards={job.shards} privacy={privacy} />
      </section>

      <section className="panel" data-testid="shards-panel">
        <h2>{job.current_round > 0 ? `Shards of round ${job.current_round}` : 'Shards'}</h2>
        <ShardsTable tasks={tasks} round={job.current_round} workerKinds={workerKinds} />
      </section>

      <ModelDownloads job={job} model={model} />
      <EscrowPanel job={job} settlementState={settlement ? `${settlement.status}:${settlement.tx_hash ?? ''}` : null} />
      <SettlementPanel job={job} settlement={settlement} />
    </article>
  )
}

function NotYours({ jobId, job }: { jobId: string; job: JobRow | null }) {
  return (
    <section className="panel" data-testid="job-not-yours">
      <h1>{job ? jobName(job) : `Job ${shortId(jobId)}`}</h1>
      {job && <JobStatusBadge status={job.status} />}
      <p>
        This job belongs to another account: its progress, escrow and model are visible to its creator only.
        {job ? ' Your workers trained shards of it: their payouts are claimable once it is settled (the browser worker page, or `oblivion worker claim`).' : ''}
      </p>
      <p>
        If you created it, sign in with the wallet you created it with. Otherwise see <Link href="/network">the network</Link> or <Link href="/jobs/new">create your own job</Link>.
      </p>
    </section>
  )
}
