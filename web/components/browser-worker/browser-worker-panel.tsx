'use client'
import type { TaskPhase } from '@oblivion/node-client/worker-core'
import { usePublicConfig } from '../../lib/config-context.tsx'
import { coins, shortId } from '../../lib/format.ts'
import { useWallet } from '../../lib/wallet/wallet-context.tsx'
import { ProblemBox } from '../states.tsx'
import { StakeNotice } from './stake-notice.tsx'
import type { BrowserWorker, CurrentTask } from './use-browser-worker.ts'
import { useStake } from './use-stake.ts'
import { useWorkerEarnings } from './use-worker-earnings.ts'

/** Share of a task's wall time each phase takes (measured on MNIST shards: training dominates). */
const PHASE_SPAN: Record<TaskPhase, [number, number]> = {
  download: [0, 0.1],
  train: [0.1, 0.9],
  upload: [0.9, 0.95],
  complete: [0.95, 1],
}

const PHASE_WORDS: Record<TaskPhase, string> = {
  download: 'downloading the model and data',
  train: 'training',
  upload: 'uploading the update',
  complete: 'delivering',
}

function taskProgress(task: CurrentTask): number {
  const [from, to] = PHASE_SPAN[task.phase]
  return from + (to - from) * Math.min(1, Math.max(0, task.fraction))
}

function statusLine(worker: BrowserWorker, stakeShort: boolean): string {
  const task = worker.task
  switch (worker.status) {
    case 'off':
      return 'Off.'
    case 'starting':
      return 'Starting: loading TF.js and registering the worker…'
    case 'idle':
      // claim_task skips the jobs the bond does not cover: say so rather than just "waiting".
      return stakeShort ? 'Idle: the open paid jobs need a larger bond than yours (see below) — bond to train them.' : 'Idle: waiting for work.'
    case 'training':
      return task ? `Training task ${task.taskId} of job ${shortId(task.jobId)}, round ${task.round}, shard ${task.shardIndex}` : 'Training…'
    case 'stopping':
      return task ? `Stopping after task ${task.taskId} of job ${shortId(task.jobId)} is delivered…` : 'Stopping…'
    case 'paused':
      return 'Paused: the tab was hidden, so the running task was given back. It resumes when you come back to this tab.'
    case 'failed':
      return 'Stopped on an error.'
  }
}

/**
 * The browser worker's panel: the toggle, what it is doing (with the task's real progress from
 * the worker core's events), what it delivered, its earnings and the wallet's stake.
 */
export function BrowserWorkerPanel({ worker }: { worker: BrowserWorker }) {
  const config = usePublicConfig()
  const { account } = useWallet()
  const address = worker.ready ? account : null
  const delivered = worker.completed.length
  const { earnings, problem: earningsProblem } = useWorkerEarnings(address, delivered)
  const { stake, problem: stakeProblem, reload: reloadStake } = useStake(address, delivered)
  const on = worker.enabled
  const last = worker.completed.at(-1)
  const meanRate = delivered > 0 ? worker.completed.reduce((sum, t) => sum + t.samplesPerSecond, 0) / delivered : null

  return (
    <section className="panel" aria-labelledby="browser-worker-title">
      <div className="worker-head">
        <h2 id="browser-worker-title">Browser worker</h2>
        <button
          type="button"
          role="switch"
          aria-checked={on}
          className={on ? 'button' : 'button secondary'}
          disabled={!worker.ready && !on}
          onClick={on ? worker.disable : worker.enable}
          data-testid="browser-worker-toggle"
        >
          {on ? 'On: click to stop' : 'Off: click to train'}
        </button>
      </div>
      {!worker.ready && (
        <p className="notice" data-testid="browser-worker-sign-in">
          Connect your wallet and sign in to run the browser worker: it is paid at your wallet’s address.
        </p>
      )}

      <p data-testid="browser-worker-status" data-status={worker.status} aria-live="polite">
        {statusLine(worker, stake !== null && !stake.covered)}
        {worker.status === 'stopping' && worker.task && (
          <>
            {' '}
            <button type="button" className="link" onClick={worker.stopNow} data-testid="browser-worker-stop-now">
              Stop now and give the task back
            </button>
          </>
        )}
      </p>
      {worker.task && (
        <div className="task-progress">
          <progress max={1} value={taskProgress(worker.task)} data-testid="browser-worker-progress" data-phase={worker.task.phase} data-fraction={worker.task.fraction.toFixed(3)} />
          <span className="muted">
            {PHASE_WORDS[worker.task.phase]} {Math.round(worker.task.fraction * 100)} %{worker.task.loss !== undefined ? ` · loss ${worker.task.loss.toFixed(4)}` : ''}
            {worker.task.attempt > 1 ? ` · attempt ${worker.task.attempt}` : ''}
          </span>
        </div>
      )}
      {worker.problem && <ProblemBox problem={{ message: worker.problem, next: 'Turn the worker on again to retry.' }} testId="browser-worker-problem" />}
      {worker.backend === 'cpu' && (
        <p className="notice" data-testid="browser-worker-backend">
          Training on TF.js’ cpu backend, about 5× slower than WebAssembly: {worker.backendFallback ?? 'WebAssembly is not available'}.
        </p>
      )}
      {worker.notice && (
        <p className="notice" data-testid="browser-worker-notice">
          {worker.notice}
        </p>
      )}

      <div className="grid">
        <div className="stat">
          <div className="value" data-testid="browser-worker-tasks-done">
            {delivered}
          </div>
          <div className="label">tasks delivered from this tab{worker.failed ? ` (${worker.failed} failed)` : ''}</div>
        </div>
        <div className="stat">
          <div className="value" data-testid="browser-worker-samples-per-second" data-value={last ? Math.round(last.samplesPerSecond) : ''}>
            {last ? Math.round(last.samplesPerSecond).toLocaleString('en-US') : '—'}
          </div>
          <div className="label">
            samples/s training{meanRate !== null && delivered > 1 ? `, ${Math.round(meanRate).toLocaleString('en-US')} on average` : ''}
            {worker.backend ? ` (${worker.backend})` : ''}
          </div>
        </div>
        <div className="stat" data-testid="browser-worker-earnings">
          <div className="value" data-testid="earnings-pending" data-wei={earnings ? String(earnings.pendingWei) : ''}>
            {earnings ? coins(earnings.pendingWei) : '—'}
          </div>
          <div className="label">
            pending: {earnings ? `${earnings.pendingTasks} accepted task(s) of ${earnings.pendingJobs} job(s) not settled yet` : 'loading'}
          </div>
          <div className="label" data-testid="earnings-settled" data-wei={earnings ? String(earnings.settledWei) : ''}>
            settled: {earnings ? `${coins(earnings.settledWei)} from ${earnings.settledJobs} job(s)` : '—'}
            {earnings && earnings.unpaidTasks > 0 ? ` · ${earnings.unpaidTasks} task(s) of unpaid (local) jobs` : ''}
          </div>
        </div>
      </div>
      {earningsProblem && <ProblemBox problem={earningsProblem} testId="earnings-problem" />}

      {config.chain && address && stake && <StakeNotice stake={stake} onBonded={() => void reloadStake()} />}
      {stakeProblem && <ProblemBox problem={stakeProblem} testId="stake-problem" />}
    </section>
  )
}
