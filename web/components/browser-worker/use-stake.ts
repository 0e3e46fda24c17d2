'use client'
import { useCallback, useEffect, useState } from 'react'
import { usePublicConfig } from '../../lib/config-context.tsx'
import { requestProblem, type Problem } from '../../lib/errors/request-problem.ts'
import { useSupabase } from '../../lib/supabase-context.tsx'

export interface Stake {
  /** The wallet's bond as mirrored from the chain (wallet_bonds), in wei. */
  bondedWei: bigint
  /** What one task of each open chain-funded job is worth: reward / (rounds × shards). */
  openJobs: Array<{ jobId: string; taskWei: bigint }>
  /** The largest task value of the open chain jobs; 0 when there are none. */
  largestTaskWei: bigint
  /**
   * The bond that lets the worker lease a task of every open chain job: claim_task allows leases
   * worth up to 2 × the bond, and the browser worker holds one lease at a time.
   */
  neededWei: bigint
  covered: boolean
}

interface TopologyJob {
  id: string
  rounds: number
  shards: number
}

/**
 * The stake rule seen from the worker's side, from public data only: the wallet's bond
 * (wallet_bonds), the open jobs (network_topology) and the amount each escrowed (its mirrored
 * JobFunded event). Reads again every 15 s, when `refreshKey` changes, and on bond changes
 * (Realtime on wallet_bonds).
 */
export function useStake(address: string | null, refreshKey: unknown) {
  const config = usePublicConfig()
  const { supabase } = useSupabase()
  const [stake, setStake] = useState<Stake | null>(null)
  const [problem, setProblem] = useState<Problem | null>(null)
  const chainId = config.chain?.chainId ?? null

  const load = useCallback(async () => {
    if (!address || chainId === null) return
    const [bond, topology] = await Promise.all([
      supabase.from('wallet_bonds').select('bonded_wei').eq('chain_id', chainId).eq('address', address).maybeSingle(),
      supabase.rpc('network_topology'),
    ])
    if (bond.error) return setProblem(requestProblem('Could not read your bond', bond.error))
    if (topology.error) return setProblem(requestProblem('Could not read the open jobs', topology.error))
    const jobs = ((topology.data as { jobs?: TopologyJob[] } | null)?.jobs ?? []) as TopologyJob[]
    const openJobs: Stake['openJobs'] = []
    if (jobs.length > 0) {
      const { data: funded, error } = await supabase
        .from('chain_events')
        .select('job_id, args')
        .eq('chain_id', chainId)
        .eq('event_name', 'JobFunded')
        .in('job_id', jobs.map((j) => j.id))
      if (error) return setProblem(requestProblem('Could not read the escrows of the open jobs', error))
      const escrowed = new Map<string, bigint>()
      for (const row of (funded ?? []) as Array<{ job_id: string; args: { amount?: string } }>) {
        escrowed.set(row.job_id, (escrowed.get(row.job_id) ?? 0n) + BigInt(row.args.amount ?? '0'))
      }
      for (const job of jobs) {
        const amount = escrowed.get(job.id)
        if (amount !== undefined) openJobs.push({ jobId: job.id, taskWei: amount / BigInt(job.rounds * job.shards) })
      }
    }
    const bondedWei = BigInt((bond.data as { bonded_wei: string } | null)?.bonded_wei ?? '0')
    const largestTaskWei = openJobs.reduce((max, j) => (j.taskWei > max ? j.taskWei : max), 0n)
    const neededWei = (largestTaskWei + 1n) / 2n // ⌈largest / 2⌉
    setProblem(null)
    setStake({ bondedWei, openJobs, largestTaskWei, neededWei, covered: bondedWei >= neededWei })
  }, [address, chainId, supabase])

  useEffect(() => {
    void load()
    const timer = setInterval(() => void load(), 15_000)
    return () => clearInterval(timer)
  }, [load, refreshKey])

  // The coordinator mirrors Bonded events into wallet_bonds: show a new bond as soon as it lands.
  useEffect(() => {
    if (!address || chainId === null) return
    const channel = supabase
      .channel(`wallet-bond-${address}`)
      .on('postgres_changes', { event: '*', schema: 'public', table: 'wallet_bonds', filter: `address=eq.${address}` }, () => void load())
      .subscribe()
    return () => {
      void supabase.removeChannel(channel)
    }
  }, [address, chainId, supabase, load])

  return { stake, problem, reload: load }
}
