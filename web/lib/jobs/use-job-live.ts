'use client'
import type { RealtimePostgresChangesPayload, SupabaseClient } from '@supabase/supabase-js'
import { useCallback, useEffect, useRef, useState } from 'react'
import { requestProblem, type Problem } from '../errors/request-problem.ts'
import { useSupabase } from '../supabase-context.tsx'
import {
  JOB_COLUMNS,
  MODEL_COLUMNS,
  ROUND_COLUMNS,
  SETTLEMENT_COLUMNS,
  TASK_COLUMNS,
  type JobRow,
  type ModelRow,
  type RoundRow,
  type SettlementRow,
  type TaskRow,
} from './job-rows.ts'

/**
 * One job as its creator follows it: the job row, its rounds, the current round's shards, the
 * model and the settlement, kept current by Realtime (postgres_changes filtered by the job id;
 * RLS shows the owner these rows). Nothing is polled: the page reads everything once when the
 * channel joins (and rejoins after a lost connection), then applies each change.
 */
export type JobView =
  | { state: 'loading' }
  | { state: 'signed-out' }
  | { state: 'not-found' }
  /** The job exists but is someone else's (the user may have worked on it). */
  | { state: 'not-yours'; job: JobRow | null }
  | { state: 'error'; problem: Problem }
  | {
      state: 'ready'
      job: JobRow
      rounds: RoundRow[]
      /** The current round's tasks, by shard. */
      tasks: TaskRow[]
      model: ModelRow | null
      settlement: SettlementRow | null
      /** Worker id → kind, for the workers the user may know (network_topology, their own). */
      workerKinds: Record<string, string>
    }

type Ready = Extract<JobView, { state: 'ready' }>

const byRound = (a: RoundRow, b: RoundRow) => a.round - b.round
const byShard = (a: TaskRow, b: TaskRow) => a.shard_index - b.shard_index

function upsert<T>(rows: T[], row: T, same: (a: T, b: T) => boolean, order: (a: T, b: T) => number): T[] {
  const next = rows.filter((r) => !same(r, row))
  next.push(row)
  return next.sort(order)
}

async function isPublicJob(supabase: SupabaseClient, jobId: string): Promise<boolean> {
  // A job the user cannot read may still be visible as a pseudonymous id: active in the topology,
  // or with events mirrored from the chain. Then it exists, and it is someone else's.
  const [{ data: topology }, { data: events }] = await Promise.all([
    supabase.rpc('network_topology'),
    supabase.from('chain_events').select('id').eq('job_id', jobId).limit(1),
  ])
  const jobs = ((topology as { jobs?: { id: string }[] } | null)?.jobs ?? []) as { id: string }[]
  return jobs.some((j) => j.id === jobId) || (events?.length ?? 0) > 0
}

async function workerKinds(supabase: SupabaseClient): Promise<Record<string, string>> {
  const kinds: Record<string, string> = {}
  const [{ data: topology }, { data: mine }] = await Promise.all([supabase.rpc('network_topology'), supabase.from('workers').select('id, kind')])
  for (const w of ((topology as { workers?: { id: string; kind: string }[] } | null)?.workers ?? [])) kinds[w.id] = w.kind
  for (const w of (mine ?? []) as { id: string; kind: string }[]) kinds[w.id] = w.kind
  return kinds
}

export function useJobLive(jobId: string): { view: JobView; reload: () => void } {
  const { supabase, session, ready } = useSupabase()
  const [view, setView] = useState<JobView>({ state: 'loading' })
  const [attempt, setAttempt] = useState(0)
  const roundRef = useRef<number>(0)
  /** Workers whose kind was looked up already (found or not): one lookup per new worker. */
  const lookedUp = useRef(new Set<string>())
  const userId = session?.user.id ?? null

  const readAll = useCallback(async (): Promise<JobView> => {
    const { data: job, error } = await supabase.from('jobs').select(JOB_COLUMNS).eq('id', jobId).maybeSingle()
    if (error) return { state: 'error', problem: requestProblem('Could not load the job', error) }
    if (!job) return (await isPublicJob(supabase, jobId)) ? { state: 'not-yours', job: null } : { state: 'not-found' }
    const row = job as JobRow
    if (row.owner_id !== userId) return { state: 'not-yours', job: row }
    roundRef.current = row.current_round
    const [rounds, tasks, models, settlements, kinds] = await Promise.all([
      supabase.from('job_rounds').select(ROUND_COLUMNS).eq('job_id', jobId).order('round'),
      supabase.from('tasks').select(TASK_COLUMNS).eq('job_id', jobId).eq('round', row.current_round).order('shard_index'),
      supabase.from('models').select(MODEL_COLUMNS).eq('job_id', jobId).order('created_at', { ascending: false }).limit(1),
      supabase.from('settlements').select(SETTLEMENT_COLUMNS).eq('job_id', jobId).order('id', { ascending: false }).limit(1),
      workerKinds(supabase),
    ])
    const failed = [rounds, tasks, models, settlements].find((r) => r.error)
    if (failed?.error) return { state: 'error', problem: requestProblem('Could not load the job’s progress', failed.error) }
    return {
      state: 'ready',
      job: row,
      rounds: (rounds.data ?? []) as RoundRow[],
      tasks: (tasks.data ?? []) as TaskRow[],
      model: ((models.data ?? [])[0] as ModelRow | undefined) ?? null,
      settlement: ((settlements.data ?? [])[0] as SettlementRow | undefined) ?? null,
      workerKinds: kinds,
    }
  }, [supabase, jobId, userId])

  useEffect(() => {
    if (!ready) return
    if (!userId) {
      setView({ state: 'signed-out' })
      return
    }
    let live = true
    const refresh = async () => {
      const next = await readAll().catch((error: unknown): JobView => ({ state: 'error', problem: requestProblem('Could not load the job', error) }))
      if (next.state === 'ready') next.tasks.forEach((t) => t.leased_by && lookedUp.current.add(t.leased_by))
      if (live) setView(next)
    }
    const patch = (change: (current: Ready) => Ready) => setView((current) => (current.state === 'ready' ? change(current) : current))
    const refetchTasks = async (round: number) => {
      const { data } = await supabase.from('tasks').select(TASK_COLUMNS).eq('job_id', jobId).eq('round', round).order('shard_index')
      if (live && data) patch((current) => (current.job.current_round === round ? { ...current, tasks: data as TaskRow[] } : current))
    }
    const refetchModel = async () => {
      const { data } = await supabase.from('models').select(MODEL_COLUMNS).eq('job_id', jobId).order('created_at', { ascending: false }).limit(1)
      if (live && data) patch((current) => ({ ...current, model: (data[0] as ModelRow | undefined) ?? null }))
    }
    const refetchSettlement = async () => {
      const { data } = await supabase.from('settlements').select(SETTLEMENT_COLUMNS).eq('job_id', jobId).order('id', { ascending: false }).limit(1)
      if (live && data) patch((current) => ({ ...current, settlement: (data[0] as SettlementRow | undefined) ?? null }))
    }
    const refetchKinds = async () => {
      const kinds = await workerKinds(supabase).catch(() => null)
      if (live && kinds) patch((current) => ({ ...current, workerKinds: { ...current.workerKinds, ...kinds } }))
    }

    const filter = `job_id=eq.${jobId}`
    // A topic of its own per subscription: supabase-js hands back a channel of the same topic
    // while a previous one is still leaving (a quick remount), which cannot take new bindings.
    const channel = supabase
      .channel(`job:${jobId}:${crypto.randomUUID().slice(0, 8)}`)
      .on('postgres_changes', { event: '*', schema: 'public', table: 'jobs', filter: `id=eq.${jobId}` }, (payload: RealtimePostgresChangesPayload<JobRow>) => {
        if (payload.eventType === 'DELETE') return
        const job = payload.new
        if (job.current_round !== roundRef.current) {
          roundRef.current = job.current_round
          void refetchTasks(job.current_round)
        }
        patch((current) => ({ ...current, job: { ...current.job, ...job } }))
      })
      .on('postgres_changes', { event: '*', schema: 'public', table: 'job_rounds', filter }, (payload: RealtimePostgresChangesPayload<RoundRow>) => {
        if (payload.eventType === 'DELETE') return
        patch((current) => ({ ...current, rounds: upsert(current.rounds, payload.new, (a, b) => a.round === b.round, byRound) }))
      })
      .on('postgres_changes', { event: '*', schema: 'public', table: 'tasks', filter }, (payload: RealtimePostgresChangesPayload<TaskRow>) => {
        if (payload.eventType === 'DELETE') return
        const task = payload.new
        if (task.round !== roundRef.current) return
        if (task.leased_by && !lookedUp.current.has(task.leased_by)) {
          lookedUp.current.add(task.leased_by)
          void refetchKinds()
        }
        patch((current) => ({ ...current, tasks: upsert(current.tasks, task, (a, b) => a.id === b.id, byShard) }))
      })
      .on('postgres_changes', { event: '*', schema: 'public', table: 'models', filter }, () => void refetchModel())
      .on('postgres_changes', { event: '*', schema: 'public', table: 'settlements', filter }, () => void refetchSettlement())
      .subscribe((status, error) => {
        // Read everything once the changes flow (and again after a rejoin): nothing is missed between.
        if (status === 'SUBSCRIBED') void refresh()
        else if (status === 'CHANNEL_ERROR' || status === 'TIMED_OUT') {
          if (live) {
            setView((current) =>
              current.state === 'ready' || current.state === 'loading'
                ? { state: 'error', problem: { message: `Live updates stopped: ${error?.message ?? status.toLowerCase().replace('_', ' ')}.`, next: 'Reload the page to reconnect.', code: 'REALTIME' } }
                : current,
            )
          }
        }
      })
    return () => {
      live = false
      void supabase.removeChannel(channel)
    }
  }, [supabase, jobId, userId, ready, readAll, attempt])

  const reload = useCallback(() => {
    setView({ state: 'loading' })
    setAttempt((n) => n + 1)
  }, [])
  return { view, reload }
}
