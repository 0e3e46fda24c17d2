'use client'
import Link from 'next/link'
import { useCallback, useEffect, useState } from 'react'
import { requestProblem, type Problem } from '../lib/errors/request-problem.ts'
import { measure, percent, when } from '../lib/format.ts'
import { jobName, type JobRow, type RoundRow } from '../lib/jobs/job-rows.ts'
import { useSupabase } from '../lib/supabase-context.tsx'
import { JobStatusBadge } from './job/job-status.tsx'
import { Empty, Loading, ProblemBox } from './states.tsx'
import { WalletGate } from './wallet-gate.tsx'

type JobSummary = Pick<JobRow, 'id' | 'status' | 'current_round' | 'rounds' | 'spec' | 'privacy_delta' | 'privacy_epsilon_spent' | 'created_at'>
const MAX_JOBS = 50

/**
 * The signed-in user's jobs, newest first, with the latest accuracy: re-read whenever one of
 * them or one of their rounds changes (Realtime; RLS sends the owner only their own).
 */
export function MyJobs() {
  const { supabase, session, ready } = useSupabase()
  const userId = session?.user.id ?? null
  const [jobs, setJobs] = useState<JobSummary[] | null>(null)
  const [accuracy, setAccuracy] = useState<Record<string, number | null>>({})
  const [problem, setProblem] = useState<Problem | null>(null)

  const load = useCallback(async () => {
    if (!userId) return
    const { data, error } = await supabase
      .from('jobs')
      .select('id, status, current_round, rounds, spec, privacy_delta, privacy_epsilon_spent, created_at')
      .eq('owner_id', userId)
      .order('created_at', { ascending: false })
      .limit(MAX_JOBS)
    if (error) return setProblem(requestProblem('Could not load your jobs', error))
    const rows = (data ?? []) as JobSummary[]
    const latest: Record<string, number | null> = {}
    if (rows.length > 0) {
      const { data: rounds, error: roundsError } = await supabase
        .from('job_rounds')
        .select('job_id, round, test_accuracy')
        .in('job_id', rows.map((j) => j.id))
        .eq('status', 'aggregated')
        .order('round', { ascending: true })
      if (roundsError) return setProblem(requestProblem('Could not load your jobs’ rounds', roundsError))
      for (const r of (rounds ?? []) as Pick<RoundRow, 'job_id' | 'round' | 'test_accuracy'>[]) latest[r.job_id] = r.test_accuracy
    }
    setProblem(null)
    setJobs(rows)
    setAccuracy(latest)
  }, [supabase, userId])

  useEffect(() => {
    if (!userId) {
      setJobs(null)
      return
    }
    let pending: ReturnType<typeof setTimeout> | null = null
    // Many changes arrive together (a round's tasks): read once per burst.
    const soon = () => {
      if (!pending) pending = setTimeout(() => ((pending = null), void load()), 300)
    }
    const channel = supabase
      // Own topic per subscription (see use-job-live.ts: a leaving channel of the same topic is reused).
      .channel(`my-jobs:${userId}:${crypto.randomUUID().slice(0, 8)}`)
      .on('postgres_changes', { event: '*', schema: 'public', table: 'jobs', filter: `owner_id=eq.${userId}` }, soon)
      .on('postgres_changes', { event: '*', schema: 'public', table: 'job_rounds' }, soon)
      .subscribe((status) => status === 'SUBSCRIBED' && soon())
    void load()
    return () => {
      if (pending) clearTimeout(pending)
      void supabase.removeChannel(channel)
    }
  }, [supabase, userId, load])

  if (!ready) return <Loading testId="my-jobs-loading">Loading…</Loading>
  if (!userId) {
    return (
      <div data-testid="my-jobs-signed-out">
        <WalletGate needs={{ session: true }} purpose="see your jobs" testId="my-jobs-gate" />
      </div>
    )
  }
  if (problem && !jobs) return <ProblemBox problem={problem} onRetry={() => void load()} testId="my-jobs-error" />
  if (!jobs) return <Loading testId="my-jobs-loading">Loading your jobs…</Loading>
  if (jobs.length === 0) {
    return (
      <Empty testId="my-jobs-empty">
        You have no jobs yet. <Link href="/jobs/new">Create a training job</Link>: pick a data set and a model, set a privacy budget and a reward.
      </Empty>
    )
  }
  return (
    <>
      {problem && <ProblemBox problem={problem} onRetry={() => void load()} testId="my-jobs-error" />}
      <table data-testid="my-jobs">
        <thead>
          <tr>
            <th>Job</th>
            <th>Status</th>
            <th>Round</th>
            <th>Accuracy</th>
            <th>ε spent</th>
            <th>Created</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((job) => (
            <tr key={job.id} data-testid={`my-job-${job.id}`}>
              <td>
                <Link href={`/jobs/${job.id}`} data-testid="my-job-link">
                  {jobName(job)}
                </Link>
              </td>
              <td>
                <JobStatusBadge status={job.status} testId="my-job-status" />
              </td>
              <td>{job.current_round === 0 ? '—' : `${job.current_round} / ${job.rounds}`}</td>
              <td>{percent(accuracy[job.id])}</td>
              <td>{job.privacy_delta === null ? 'no DP' : measure(job.privacy_epsilon_spent)}</td>
              <td>{when(job.created_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  )
}
