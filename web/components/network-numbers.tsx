'use client'
import { useEffect, useState } from 'react'
import { useSupabase } from '../lib/supabase-context.tsx'

interface Stats {
  workers: { online: number; online_browser: number; online_cli: number; registered: number }
  tasks: { queued: number; leased: number; completed: number; failed: number }
  jobs: { active: number; running: number; completed: number; total: number }
}

/** Live network numbers from network_stats(). */
export function NetworkNumbers() {
  const { supabase } = useSupabase()
  const [stats, setStats] = useState<Stats | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    let live = true
    const load = async () => {
      const { data, error: failure } = await supabase.rpc('network_stats')
      if (!live) return
      if (failure) setError(`Could not reach the network: ${failure.message}`)
      else {
        setError(null)
        setStats(data as Stats)
      }
    }
    void load()
    const timer = setInterval(load, 5_000)
    return () => {
      live = false
      clearInterval(timer)
    }
  }, [supabase])
  if (error) return <div className="error" role="alert">{error} Retrying every 5 s.</div>
  if (!stats) return <p className="skeleton">Loading network numbers…</p>
  const items: [string, number, string][] = [
    ['workers-online', stats.workers.online, `workers online (${stats.workers.online_browser} browser, ${stats.workers.online_cli} CLI)`],
    ['tasks-leased', stats.tasks.leased, 'tasks leased'],
    ['tasks-queued', stats.tasks.queued, 'tasks queued'],
    ['jobs-running', stats.jobs.running, 'jobs running'],
  ]
  return (
    <div className="grid">
      {items.map(([id, value, label]) => (
        <div className="stat" key={id} data-testid={id}>
          <div className="value">{value}</div>
          <div className="label">{label}</div>
        </div>
      ))}
    </div>
  )
}
