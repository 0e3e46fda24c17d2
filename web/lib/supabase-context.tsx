'use client'
import { createClient, type Session, type SupabaseClient } from '@supabase/supabase-js'
import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react'
import { usePublicConfig } from './config-context.tsx'

interface SupabaseState {
  /** The page's one supabase-js client: the anon key, plus the user's session once signed in. */
  supabase: SupabaseClient
  /** The signed-in session (Sign-In with Ethereum), or null. */
  session: Session | null
  /** False until the stored session (localStorage) has been read. */
  ready: boolean
}

const SupabaseContext = createContext<SupabaseState | null>(null)

export function SupabaseProvider({ children }: { children: ReactNode }) {
  const config = usePublicConfig()
  const supabase = useMemo(
    () =>
      createClient(config.supabaseUrl, config.anonKey, {
        // One storage key per network: signing in to one local network must not leak into another.
        auth: { persistSession: true, autoRefreshToken: true, storageKey: `oblivion-auth-${new URL(config.supabaseUrl).host}` },
      }),
    [config.supabaseUrl, config.anonKey],
  )
  const [session, setSession] = useState<Session | null>(null)
  const [ready, setReady] = useState(false)

  useEffect(() => {
    let live = true
    supabase.auth.getSession().then(({ data }) => {
      if (!live) return
      setSession(data.session)
      setReady(true)
    })
    const { data } = supabase.auth.onAuthStateChange((_event, next) => {
      setSession(next)
      // Realtime must carry the user's token, or RLS shows it only public rows.
      supabase.realtime.setAuth(next?.access_token ?? null)
    })
    return () => {
      live = false
      data.subscription.unsubscribe()
    }
  }, [supabase])

  const value = useMemo(() => ({ supabase, session, ready }), [supabase, session, ready])
  return <SupabaseContext.Provider value={value}>{children}</SupabaseContext.Provider>
}

export function useSupabase(): SupabaseState {
  const state = useContext(SupabaseContext)
  if (!state) throw new Error('useSupabase outside SupabaseProvider')
  return state
}
