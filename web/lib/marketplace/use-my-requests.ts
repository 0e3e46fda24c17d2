'use client'
import type { RealtimePostgresChangesPayload } from '@supabase/supabase-js'
import { useCallback, useEffect, useState } from 'react'
import { requestProblem, type Problem } from '../errors/request-problem.ts'
import { useSupabase } from '../supabase-context.tsx'
import { INFERENCE_REQUEST_COLUMNS, type InferenceRequestRow } from './market-rows.ts'

/** While a request is pending and Realtime is quiet, re-read this often: a latency floor, not the mechanism. */
export const FALLBACK_POLL_MS = 15_000

export interface MyRequests {
  state: 'signed-out' | 'loading' | 'ready' | 'error'
  /** The signed-in buyer's requests for the model, newest first. */
  rows: InferenceRequestRow[]
  problem: Problem | null
  /** 'live' once the Realtime channel joined; 'polling' when it could not (the slow poll carries on). */
  realtime: 'joining' | 'live' | 'polling'
  /** Re-read now (after a purchase was recorded, before its INSERT arrives). */
  refresh: () => void
}

const newestFirst = (a: InferenceRequestRow, b: InferenceRequestRow) => b.created_at.localeCompare(a.created_at)

/**
 * The buyer's inference requests for one model, kept current by Realtime: postgres_changes on
 * inference_requests filtered by the model (RLS shows a buyer their rows), read once when the
 * channel joins and again after a rejoin. A request waiting for its proof moves to fulfilled (or
 * failed) by that change; the slow poll only covers a channel that never joins or goes quiet.
 */
export function useMyRequests(modelId: string): MyRequests {
  const { supabase, session, ready } = useSupabase()
  const userId = session?.user.id ?? null
  const [rows, setRows] = useState<InferenceRequestRow[]>([])
  const [state, setState] = useState<MyRequests['state']>('loading')
  const [problem, setProblem] = useState<Problem | null>(null)
  const [realtime, setRealtime] = useState<MyRequests['realtime']>('joining')
  const [tick, setTick] = useState(0)

  const read = useCallback(async () => {
    if (!userId) return
    const { data, error } = await supabase
      .from('inference_requests')
      .select(INFERENCE_REQUEST_COLUMNS)
      .eq('model_id', modelId)
      .eq('buyer_id', userId)
      .order('created_at', { ascending: false })
      .limit(20)
    if (error) {
      setProblem(requestProblem('Could not load your requests', error))
      setState('error')
      return
    }
    setRows((data ?? []) as unknown as InferenceRequestRow[])
    setProblem(null)
    setState('ready')
  }, [supabase, modelId, userId])

  useEffect(() => {
    if (!ready || !userId) return
    let live = true
    const channel = supabase
      .channel(`inference-requests:${modelId}:${crypto.randomUUID().slice(0, 8)}`)
      .on('postgres_changes', { event: '*', schema: 'public', table: 'inference_requests', filter: `model_id=eq.${modelId}` }, (payload: RealtimePostgresChangesPayload<InferenceRequestRow>) => {
        if (!live || payload.eventType === 'DELETE') return
        const row = payload.new
        if (row.buyer_id !== userId) return
        setRows((current) => [...current.filter((r) => r.id !== row.id), row].sort(newestFirst))
      })
      .subscribe((status) => {
        if (!live) return
        if (status === 'SUBSCRIBED') {
          setRealtime('live')
          void read()
        } else if (status === 'CHANNEL_ERROR' || status === 'TIMED_OUT') {
          setRealtime('polling')
          void read()
        }
      })
    return () => {
      live = false
      void supabase.removeChannel(channel)
    }
  }, [supabase, modelId, userId, ready, read])

  // The fallback: only while something is pending.
  const pending = rows.some((r) => r.status === 'pending')
  useEffect(() => {
    if (!pending) return
    const timer = setInterval(() => void read(), FALLBACK_POLL_MS)
    return () => clearInterval(timer)
  }, [pending, read])

  useEffect(() => {
    if (tick > 0) void read()
  }, [tick, read])

  const refresh = useCallback(() => setTick((n) => n + 1), [])
  if (ready && !userId) return { state: 'signed-out', rows: [], problem: null, realtime, refresh }
  return { state, rows, problem, realtime, refresh }
}
