import { MultiBar, Presets, type SingleBar } from 'cli-progress'
import type { JobProgress, RoundRow, TaskCounts } from '../job-progress.ts'
import { bytes, clock, count, epsilon, percent, shortId } from './format.ts'
import { jsonLog, type JsonLog } from './json-log.ts'

/** The job commands' output: `job create`, `job status [--watch]`, `job download`. */

/** `job status --json`: the job as one object (also the first and last line of `--watch`). */
export function jobStatusRecord(progress: JobProgress) {
  const { job } = progress
  return {
    id: job.id,
    name: job.spec.name ?? null,
    status: job.status,
    statusReason: job.status_reason,
    round: job.current_round,
    rounds: job.rounds,
    shards: job.shards,
    epsilonSpent: job.privacy_epsilon_spent,
    delta: job.privacy_delta,
    rewardWei: job.reward_wei,
    tasks: { round: progress.roundTasks, total: progress.allTasks },
    roundMetrics: progress.roundsKnown ? progress.rounds.map(roundRecord) : null,
  }
}

function roundRecord(row: RoundRow) {
  return {
    round: row.round,
    status: row.status,
    testAccuracy: row.test_accuracy,
    testLoss: row.test_loss,
    epsilonSpent: row.epsilon_spent,
    tasksCompleted: row.tasks_completed,
    tasksFailed: row.tasks_failed,
    sampleCount: row.sample_count,
  }
}

function taskLine(counts: TaskCounts): string {
  return `${count(counts.completed)} completed, ${count(counts.leased)} training, ${count(counts.queued)} queued, ${count(counts.failed)} failed${
    counts.cancelled > 0 ? `, ${count(counts.cancelled)} cancelled` : ''
  }`
}

export function describeRound(row: RoundRow): string {
  // Until it is aggregated a round's counts are zeros and its metrics empty: nothing to show.
  if (row.status !== 'aggregated') return `round ${row.round} ${row.status}`
  const parts = [`round ${row.round} ${row.status}`]
  if (row.test_accuracy !== null) parts.push(`accuracy ${percent(row.test_accuracy)}`)
  if (row.test_loss !== null) parts.push(`loss ${row.test_loss.toFixed(4)}`)
  if (row.epsilon_spent !== null) parts.push(epsilon(row.epsilon_spent))
  if (row.tasks_completed !== null) parts.push(`${count(row.tasks_completed)} task(s)${row.tasks_failed ? ` (${row.tasks_failed} failed)` : ''}`)
  if (row.sample_count !== null) parts.push(`${count(row.sample_count)} samples`)
  const [head, ...rest] = parts
  return rest.length > 0 ? `${head}: ${rest.join(', ')}` : `${head}`
}

function statusWithReason(progress: JobProgress): string {
  const { job } = progress
  const round = job.current_round > 0 ? ` (round ${job.current_round} of ${job.rounds})` : ` (${job.rounds} round(s) × ${count(job.shards)} shard(s))`
  return `${job.status}${round}${job.status_reason ? ` — ${job.status_reason}` : ''}`
}

/** `job status` on a terminal. */
export function jobStatusText(progress: JobProgress): string {
  const { job } = progress
  const lines = [
    `job ${job.id}${job.spec.name ? `  ${job.spec.name}` : ''}`,
    `  status    ${statusWithReason(progress)}`,
    `  privacy   ${epsilon(job.privacy_epsilon_spent)} spent (δ ${job.privacy_delta})`,
    `  reward    ${job.reward_wei} wei`,
  ]
  if (job.current_round > 0) lines.push(`  round ${job.current_round}   ${taskLine(progress.roundTasks)}`)
  lines.push(`  all tasks ${taskLine(progress.allTasks)}`)
  if (!progress.roundsKnown) lines.push('  rounds    (this network has no job_rounds table yet)')
  else if (progress.rounds.length === 0) lines.push('  rounds    none aggregated yet')
  else for (const row of progress.rounds) lines.push(`  ${describeRound(row)}`)
  return lines.join('\n')
}

/** A change `--watch` received, reduced to what identifies it and what changed. */
export interface WatchedChange {
  table: 'jobs' | 'tasks' | 'job_rounds'
  event: string
  row: Record<string, unknown>
}

export interface JobWatchRenderer {
  /** Live updates are on (the Realtime subscription is confirmed). */
  subscribed(): void
  change(change: WatchedChange): void
  update(progress: JobProgress): void
  finished(progress: JobProgress): void
  notice(message: string): void
  close(): void
}

export function createJobWatchRenderer(options: { json: boolean; stream?: NodeJS.WriteStream }): JobWatchRenderer {
  const stream = options.stream ?? process.stdout
  return options.json ? jobWatchJsonLines(jsonLog(stream)) : jobWatchBar(stream)
}

/** `--watch --json`: the job first, then one line per change, then the job as it ended. */
export function jobWatchJsonLines(log: JsonLog): JobWatchRenderer {
  let first = true
  return {
    subscribed() {
      log.write('subscribed', {})
    },
    change(change) {
      log.write('change', change)
    },
    update(progress) {
      if (!first) return
      first = false
      log.write('job-status', jobStatusRecord(progress))
    },
    finished(progress) {
      log.write('job-finished', jobStatusRecord(progress))
    },
    notice(message) {
      log.write('notice', { message })
    },
    close() {},
  }
}

/**
 * `--watch` on a terminal: a bar of the current round's tasks done, with a line above it each
 * time the job's status changes or a round is recorded.
 */
export function jobWatchBar(stream: NodeJS.WriteStream): JobWatchRenderer {
  const bars = new MultiBar(
    {
      stream,
      format: '{label} {bar} {value}/{total} tasks | {detail}',
      barsize: 30,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      gracefulExit: false,
    },
    Presets.shades_classic,
  )
  let bar: SingleBar | undefined
  let lastStatus: string | undefined
  const printedRounds = new Set<string>()
  const line = (text: string) => {
    if (bar) bars.log(`${clock()} ${text}\n`)
    else stream.write(`${clock()} ${text}\n`)
  }
  const render = (progress: JobProgress) => {
    const { job } = progress
    if (job.status !== lastStatus) {
      line(lastStatus === undefined ? `job ${job.id}${job.spec.name ? ` (${job.spec.name})` : ''}: ${statusWithReason(progress)}` : `status ${lastStatus} → ${statusWithReason(progress)}`)
      lastStatus = job.status
    }
    for (const row of progress.rounds) {
      const key = `${row.round}:${row.status}`
      if (printedRounds.has(key)) continue
      printedRounds.add(key)
      line(describeRound(row))
    }
    const payload = {
      label: job.current_round > 0 ? `round ${job.current_round}/${job.rounds}` : 'waiting',
      detail: `${job.status} | ${epsilon(job.privacy_epsilon_spent)}${progress.roundTasks.failed ? ` | ${progress.roundTasks.failed} failed` : ''}`,
    }
    if (!bar) bar = bars.create(job.shards, progress.roundTasks.completed, payload)
    else {
      bar.setTotal(job.shards)
      bar.update(progress.roundTasks.completed, payload)
    }
  }
  return {
    subscribed() {},
    change() {
      // The bar redraws from the snapshot fetched after each burst of changes (update()).
    },
    update: render,
    finished(progress) {
      render(progress)
      const { job } = progress
      line(
        job.status === 'completed'
          ? `job ${shortId(job.id)} completed: ${epsilon(job.privacy_epsilon_spent)}; download it with \`oblivion job download ${job.id}\``
          : `job ${shortId(job.id)} ended ${job.status}${job.status_reason ? `: ${job.status_reason}` : ''}`,
      )
    },
    notice(message) {
      line(message)
    },
    close() {
      if (!bar) return
      bars.update() // writes the lines logged since the last redraw
      bars.stop()
      bar = undefined
    },
  }
}

/** `job create` done; `funding` says what happens next: the escrow is funded on chain now (its lines follow), by a coordinator without escrow, or later. */
export function jobCreatedText(
  job: { id: string; status: string; rounds: number; shards: number; reward_wei: string },
  dataset?: string,
  funding: 'chain' | 'coordinator' | 'later' = 'coordinator',
): string {
  const next = {
    chain: [],
    coordinator: ['  no chain is configured: it waits until a coordinator run with --fund-without-escrow funds it; follow it with:', followJobText(job.id)],
    later: [`  not funded (--no-fund): fund its escrow with \`oblivion job fund ${job.id}\`; follow it with:`, followJobText(job.id)],
  }[funding]
  return [
    `created job ${job.id} (${job.status}: ${job.rounds} round(s) × ${count(job.shards)} shard(s), reward ${job.reward_wei} wei)`,
    ...(dataset ? [`  dataset uploaded to ${dataset}`] : []),
    ...next,
  ].join('\n')
}

export const followJobText = (id: string) => `  oblivion job status ${id} --watch`

/** One file `job download` wrote. */
export interface WrittenFile {
  format: string
  name: string
  file: string
  bytes: number
  cid: string
}

export function downloadSummaryText(written: WrittenFile[], out: string): string {
  const total = written.reduce((sum, f) => sum + f.bytes, 0)
  return [
    `wrote ${written.length} file(s), ${bytes(total)}, each checked against its content id, into ${out}`,
    ...written.map((f) => `  ${f.file}  ${bytes(f.bytes)}  ${f.cid}`),
  ].join('\n')
}

/** `job download`'s progress: a bar of bytes on a terminal, a JSON line per file otherwise. */
export interface DownloadProgress {
  fileWritten(file: WrittenFile): void
  close(): void
}

export function createDownloadProgress(options: { json: boolean; totalBytes: number; stream?: NodeJS.WriteStream }): DownloadProgress {
  const stream = options.stream ?? process.stdout
  if (options.json) {
    const log = jsonLog(stream)
    return {
      fileWritten(file) {
        log.write('file', { ...file })
      },
      close() {},
    }
  }
  const bars = new MultiBar(
    { stream, format: 'downloading {bar} {percentage}% | {file}', barsize: 30, hideCursor: true, clearOnComplete: true, gracefulExit: false },
    Presets.shades_classic,
  )
  const bar = bars.create(Math.max(1, options.totalBytes), 0, { file: '' })
  let done = 0
  return {
    fileWritten(file) {
      done += file.bytes
      bar.update(done, { file: `${file.format}/${file.name}` })
    },
    close() {
      bars.stop()
    },
  }
}
