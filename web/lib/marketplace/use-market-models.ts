'use client'
import { useCallback, useEffect, useState } from 'react'
import { requestProblem, type Problem } from '../errors/request-problem.ts'
import { useSupabase } from '../supabase-context.tsx'
import { OWNED_MODEL_COLUMNS, type MarketModel, type OwnedModel } from './market-rows.ts'

export type Loaded<T> = { state: 'loading' } | { state: 'error'; problem: Problem } | { state: 'ready'; value: T }

/** The listed models (marketplace_models(): anyone, signed in or not), newest first as the function orders them. */
export function useMarketModels(): { view: Loaded<MarketModel[]>; reload: () => void; refresh: () => void } {
  const { supabase } = useSupabase()
  const [view, setView] = useState<Loaded<MarketModel[]>>({ state: 'loading' })
  const [attempt, setAttempt] = useState(0)
  useEffect(() => {
    let live = true
    void (async () => {
      const { data, error } = await supabase.rpc('marketplace_models')
      if (!live) return
      if (error) setView((current) => (current.state === 'ready' && attempt > 0 ? current : { state: 'error', problem: requestProblem('Could not load the marketplace', error) }))
      else setView({ state: 'ready', value: (data ?? []) as MarketModel[] })
    })().catch((error: unknown) => live && setView({ state: 'error', problem: requestProblem('Could not load the marketplace', error) }))
    return () => {
      live = false
    }
  }, [supabase, attempt])
  /** Read again from scratch (after a problem): the page shows its loading state. */
  const reload = useCallback(() => {
    setView({ state: 'loading' })
    setAttempt((n) => n + 1)
  }, [])
  /** Read again in place (a count or a price changed): the page keeps showing what it has meanwhile. */
  const refresh = useCallback(() => setAttempt((n) => n + 1), [])
  return { view, reload, refresh }
}

/** The signed-in person's own models (RLS: owner = them), listed or not; null when signed out. */
export function useOwnedModels(): { view: Loaded<OwnedModel[]> | null; reload: () => void } {
  const { supabase, session, ready } = useSupabase()
  const userId = session?.user.id ?? null
  const [view, setView] = useState<Loaded<OwnedModel[]>>({ state: 'loading' })
  const [attempt, setAttempt] = useState(0)
  useEffect(() => {
    if (!userId) return
    let live = true
    void (async () => {
      const { data, error } = await supabase.from('models').select(OWNED_MODEL_COLUMNS).eq('owner_id', userId).order('created_at', { ascending: false })
      if (!live) return
      if (error) setView({ state: 'error', problem: requestProblem('Could not load your models', error) })
      else setView({ state: 'ready', value: (data ?? []) as unknown as OwnedModel[] })
    })().catch((error: unknown) => live && setView({ state: 'error', problem: requestProblem('Could not load your models', error) }))
    return () => {
      live = false
    }
  }, [supabase, userId, attempt])
  const reload = useCallback(() => setAttempt((n) => n + 1), [])
  return { view: ready && userId ? view : null, reload }
}
