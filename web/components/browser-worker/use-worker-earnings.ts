'use client'
import { useCallback, useEffect, useState } from 'react'
import { usePublicConfig } from '../../lib/config-context.tsx'
import { requestProblem, type Problem } from '../../lib/errors/request-problem.ts'
import { useSupabase } from '../../lib/supabase-context.tsx'

export interface WorkerEarnings {
  /** Accepted tasks of chain jobs not settled yet × each task's value: what settlement will pay. */
  pendingWei: bigint
  pendingTasks: number
  pendingJobs: number
  /** What confirmed settlements pay the address (claimed or not: "Your payouts" says which). */
  settledWei: bigint
  settledJobs: number
  /** Accepted tasks of jobs without escrow (local networks): trained, but nobody is paid. */
  unpaidTasks: number
}

interface JobRow {
  id: string
  reward_wei: string
  rounds: number
  shards: number
  chain_id: number | null
}

interface SettlementRow {
  job_id: string
  payouts: Array<{ address: string; amount_wei: string }>
}

/** Rows one earnings read asks for at most: far more tasks than a person's workers deliver in a day. */
const ROW_LIMIT = 10_000

/**
 * What the wallet's workers have earned, from what the user may read under RLS: their workers'
 * accepted task results (a result row exists only while the coordinator accepts it), the jobs
 * they worked on and those jobs' settlements. A task is worth floor(reward / (rounds × shards)),
 * exactly as the settlement computes it (node-client/src/chain/payouts.ts). Reads again when
 * `refreshKey` changes (a delivered task) and every 15 s (aggregation, settlement).
 */
export function useWorkerEarnings(address: string | null, refreshKey: unknown) {
  const config = usePublicConfig()
  const { supabase, session } = useSupabase()
  const [earnings, setEarnings] = useState<WorkerEarnings | null>(null)
  const [problem, setProblem] = useState<Problem | null>(null)
  const chainId = config.chain?.chainId ?? null

  const load = useCallback(async () => {
    if (!address || !session) return
    const { data: workers, error: workersError } = await supabase.from('workers').select('id').eq('payout_address', address)
    if (workersError) return setProblem(requestProblem('Could not read your workers', workersError))
    const workerIds = (workers ?? []).map((w: { id: string }) => w.id)
    if (workerIds.length === 0) {
      setProblem(null)
      return setEarnings({ pendingWei: 0n, pendingTasks: 0, pendingJobs: 0, settledWei: 0n, settledJobs: 0, unpaidTasks: 0 })
    }
    const { data: results, error: resultsError } = await supabase.from('task_results').select('job_id').in('worker_id', workerIds).limit(ROW_LIMIT)
    if (resultsError) return setProblem(requestProblem('Could not read your delivered tasks', resultsError))
    const tasksPerJob = new Map<string, number>()
    for (const r of (results ?? []) as Array<{ job_id: string }>) tasksPerJob.set(r.job_id, (tasksPerJob.get(r.job_id) ?? 0) + 1)
    const jobIds = [...tasksPerJob.keys()]

    const [jobs, settlements] = await Promise.all([
      jobIds.length ? supabase.from('jobs').select('id, reward_wei, rounds, shards, chain_id').in('id', jobIds) : Promise.resolve({ data: [], error: null }),
      chainId !== null
        ? supabase
            .from('settlements')
            .select('job_id, payouts')
            .eq('status', 'confirmed')
            .eq('chain_id', chainId)
            .filter('payouts', 'cs', JSON.stringify([{ address }]))
            .limit(ROW_LIMIT)
        : Promise.resolve({ data: [], error: null }),
    ])
    if (jobs.error) return setProblem(requestProblem('Could not read the jobs you worked on', jobs.error))
    if (settlements.error) return setProblem(requestProblem('Could not read your settlements', settlements.error))

    let settledWei = 0n
    const settledJobs = new Set<string>()
    for (const row of (settlements.data ?? []) as SettlementRow[]) {
      if (settledJobs.has(row.job_id)) continue // a job settled again after a dispute: count it once
      settledJobs.add(row.job_id)
      for (const payout of row.payouts) if (payout.address.toLowerCase() === address) settledWei += BigInt(payout.amount_wei)
    }
    let pendingWei = 0n
    let pendingTasks = 0
    let pendingJobs = 0
    let unpaidTasks = 0
    for (const job of (jobs.data ?? []) as JobRow[]) {
      const tasks = tasksPerJob.get(job.id) ?? 0
      if (job.chain_id === null || job.chain_id !== chainId) {
        unpaidTasks += tasks
        continue
      }
      if (settledJobs.has(job.id)) continue
      pendingWei += (BigInt(job.reward_wei) / BigInt(job.rounds * job.shards)) * BigInt(tasks)
      pendingTasks += tasks
      pendingJobs += 1
    }
    setProblem(null)
    setEarnings({ pendingWei, pendingTasks, pendingJobs, settledWei, settledJobs: settledJobs.size, unpaidTasks })
  }, [address, session, supabase, chainId])

  useEffect(() => {
    void load()
    const timer = setInterval(() => void load(), 15_000)
    return () => clearInterval(timer)
  }, [load, refreshKey])

  return { earnings, problem, reload: load }
}
