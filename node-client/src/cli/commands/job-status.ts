import type { RealtimePostgresChangesPayload, SupabaseClient } from '@supabase/supabase-js'
import { EXIT, type ExitCode } from '../cli-error.ts'
import { connectAsUser, disconnect, JOB_PROFILE } from '../connection.ts'
import type { GlobalOptions } from '../global-options.ts'
import { fetchJobProgress, isFinalStatus, type JobProgress } from '../job-progress.ts'
import { createJobWatchRenderer, jobStatusRecord, jobStatusText, type JobWatchRenderer, type WatchedChange } from '../render/job-renderer.ts'
import { jsonLog } from '../render/json-log.ts'
import { onStopSignals } from './stop-signals.ts'

export interface JobStatusOptions extends GlobalOptions {
  jobId: string
  watch: boolean
}

/**
 * `oblivion job status <id> [--watch]`. Without --watch: the job once. With it: follows the job
 * until it ends; exit 0 if it completed, 1 if it failed, was cancelled or expired.
 */
export async function runJobStatusCommand(options: JobStatusOptions): Promise<ExitCode> {
  const { supabase } = await connectAsUser(options, { profile: JOB_PROFILE })
  try {
    if (!options.watch) {
      const progress = await fetchJobProgress(supabase, options.jobId)
      if (options.json) jsonLog().write('job-status', jobStatusRecord(progress))
      else process.stdout.write(`${jobStatusText(progress)}\n`)
      return EXIT.ok
    }
    const renderer = createJobWatchRenderer({ json: options.json })
    try {
      const final = await watchJob(supabase, options.jobId, renderer)
      if (!final) return EXIT.interrupted
      renderer.finished(final)
      return final.job.status === 'completed' ? EXIT.ok : EXIT.error
    } finally {
      renderer.close()
    }
  } finally {
    await disconnect(supabase)
  }
}

/** Changes arriving together (a round's tasks, an aggregation) are read back as one snapshot. */
const SETTLE_MS = 200
/**
 * Realtime makes the watch fast; polling makes it correct (a change missed while a socket
 * reconnects is still seen within this long).
 */
const POLL_MS = 15_000
/** Polling interval while the subscription is down. */
const POLL_WITHOUT_REALTIME_MS = 2_000

function reduceChange(table: WatchedChange['table'], payload: RealtimePostgresChangesPayload<Record<string, unknown>>): WatchedChange {
  const row = (payload.eventType === 'DELETE' ? payload.old : payload.new) as Record<string, unknown>
  const pick = (...keys: string[]) => Object.fromEntries(keys.filter((k) => k in row).map((k) => [k, row[k]]))
  switch (table) {
    case 'jobs':
      return { table, event: payload.eventType, row: pick('id', 'status', 'status_reason', 'current_round', 'privacy_epsilon_spent', 'tasks_failed') }
    case 'tasks':
      return { table, event: payload.eventType, row: pick('id', 'round', 'shard_index', 'status', 'attempts', 'last_error') }
    case 'job_rounds':
      return { table, event: payload.eventType, row }
  }
}

/**
 * Subscribes to the job's row, its tasks and its rounds (postgres_changes, filtered to this job),
 * re-reads the job after each burst of changes and renders it, until the job reaches a final
 * status. Resolves with the final state, or undefined when stopped with Ctrl-C.
 */
export async function watchJob(supabase: SupabaseClient, jobId: string, renderer: JobWatchRenderer): Promise<JobProgress | undefined> {
  let progress = await fetchJobProgress(supabase, jobId)
  renderer.update(progress)
  if (isFinalStatus(progress.job.status)) return progress

  return new Promise<JobProgress | undefined>((resolve, reject) => {
    let settled = false
    let refreshTimer: NodeJS.Timeout | undefined
    let pollTimer: NodeJS.Timeout | undefined
    let pollMs = POLL_MS
    let refreshing = false
    let again = false

    const finish = (result: JobProgress | undefined, error?: unknown) => {
      if (settled) return
      settled = true
      clearTimeout(refreshTimer)
      clearTimeout(pollTimer)
      stopListening()
      void supabase.removeChannel(channel).finally(() => (error === undefined ? resolve(result) : reject(error)))
    }
    const refresh = async () => {
      if (settled) return
      if (refreshing) {
        again = true
        return
      }
      refreshing = true
      try {
        progress = await fetchJobProgress(supabase, jobId)
        if (settled) return
        if (isFinalStatus(progress.job.status)) return finish(progress)
        renderer.update(progress)
      } catch (error) {
        return finish(undefined, error)
      } finally {
        refreshing = false
      }
      if (again) {
        again = false
        void refresh()
      }
      schedulePoll()
    }
    const scheduleRefresh = () => {
      // Not pushed back by later changes: a busy job (changes every few ms) still redraws.
      if (refreshTimer) return
      refreshTimer = setTimeout(() => {
        refreshTimer = undefined
        void refresh()
      }, SETTLE_MS)
    }
    const schedulePoll = () => {
      clearTimeout(pollTimer)
      pollTimer = setTimeout(() => void refresh(), pollMs)
    }
    const onChange = (table: WatchedChange['table']) => (payload: RealtimePostgresChangesPayload<Record<string, unknown>>) => {
      renderer.change(reduceChange(table, payload))
      scheduleRefresh()
    }

    const channel = supabase
      .channel(`job-status:${jobId}`)
      .on('postgres_changes', { event: '*', schema: 'public', table: 'jobs', filter: `id=eq.${jobId}` }, onChange('jobs'))
      .on('postgres_changes', { event: '*', schema: 'public', table: 'tasks', filter: `job_id=eq.${jobId}` }, onChange('tasks'))
      .on('postgres_changes', { event: '*', schema: 'public', table: 'job_rounds', filter: `job_id=eq.${jobId}` }, onChange('job_rounds'))
      .subscribe((status, error) => {
        if (settled) return
        if (status === 'SUBSCRIBED') {
          // Anything committed between the first read and the subscription: read once more.
          pollMs = POLL_MS
          renderer.subscribed()
          scheduleRefresh()
        } else if (status === 'CHANNEL_ERROR' || status === 'TIMED_OUT') {
          renderer.notice(`live updates interrupted (${error?.message ?? status}); checking every ${POLL_WITHOUT_REALTIME_MS / 1000} s until they resume`)
          pollMs = POLL_WITHOUT_REALTIME_MS
          schedulePoll()
        }
      })

    // Ctrl-C while watching: stop watching (the job itself goes on).
    const stopListening = onStopSignals(
      { first: () => finish(undefined), second: () => process.exit(EXIT.interrupted) },
      () => process.exit(EXIT.interrupted),
    )
    schedulePoll()
  })
}
