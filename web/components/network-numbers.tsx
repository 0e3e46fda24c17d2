'use client'
import { useCallback, useState } from 'react'
import { requestProblem, type Problem } from '../lib/errors/request-problem.ts'
import { useNetworkRefresh } from '../lib/realtime/network-changes.ts'
import { useSupabase } from '../lib/supabase-context.tsx'
import { Loading, ProblemBox } from './states.tsx'

interface Stats {
  generated_at: string
  workers: { online: number; online_browser: number; online_cli: number; registered: number }
  tasks: { queued: number; leased: number; completed: number; failed: number }
  jobs: { active: number; running: number; completed: number; total: number }
}

/** Live network numbers from network_stats(): refreshed on the coordinator's `network` broadcast. */
export function NetworkNumbers() {
  const { supabase } = useSupabase()
  const [stats, setStats] = useState<Stats | null>(null)
  const [problem, setProblem] = useState<Problem | null>(null)
  const load = useCallback(async () => {
    const { data, error } = await supabase.rpc('network_stats')
    if (error) setProblem(requestProblem('Could not read the network’s numbers', error))
    else {
      setProblem(null)
      setStats(data as Stats)
    }
  }, [supabase])
  useNetworkRefresh(supabase, load, 15_000)

  if (!stats && problem) return <ProblemBox problem={problem} onRetry={() => void load()} testId="network-numbers-error" />
  if (!stats) return <Loading testId="network-numbers-loading">Loading network numbers…</Loading>
  const items: [string, number, string][] = [
    ['workers-online', stats.workers.online, `workers online (${stats.workers.online_browser} browser, ${stats.workers.online_cli} CLI)`],
    ['tasks-leased', stats.tasks.leased, 'tasks leased'],
    ['tasks-queued', stats.tasks.queued, 'tasks queued'],
    ['jobs-running', stats.jobs.running, `jobs running (${stats.jobs.active} active, ${stats.jobs.completed} completed)`],
  ]
  return (
    <>
      {problem && <ProblemBox problem={{ ...problem, next: `${problem.next} Showing the last numbers read.` }} testId="network-numbers-error" />}
      <div className="grid" data-testid="network-numbers">
        {items.map(([id, value, label]) => (
          <div className="stat" key={id} data-testid={id}>
            <div className="value">{value}</div>
            <div className="label">{label}</div>
          </div>
        ))}
      </div>
    </>
  )
}
