import { createClient } from '@supabase/supabase-js'
import { useEffect, useMemo, useState } from 'react'
import { WallScreen } from '../components/wall-screen.tsx'
import { INITIAL_VIEW } from '../feed/network-view.ts'
import { SyntheticNetwork } from '../feed/synthetic-network.ts'
import { useNetworkFeed, useNetworkView } from '../feed/use-network-view.ts'
import type { PublicConfig } from '../public-config.ts'
import { loadPublicConfig } from './load-config.ts'

const MAX_SYNTHETIC_WORKERS = 20_000
const CONFIG_RETRY_MS = 5_000

/**
 * `/` shows the network of /config.json; `/?synthetic=N[&seed=S]` a made-up network of N
 * workers with live lease churn (no network needed: demos and the frame-rate benchmark).
 */
export function App() {
  const params = new URLSearchParams(window.location.search)
  const synthetic = params.get('synthetic')
  if (synthetic === null) return <LiveWall />
  const workers = Number(synthetic)
  if (!Number.isInteger(workers) || workers < 1 || workers > MAX_SYNTHETIC_WORKERS) {
    const problem = `?synthetic= needs a whole number of workers from 1 to ${MAX_SYNTHETIC_WORKERS}, not "${synthetic}".`
    return <WallScreen view={{ ...INITIAL_VIEW, phase: 'unreachable', problem }} />
  }
  return <SyntheticWall workers={workers} seed={Number(params.get('seed') ?? 1) || 1} />
}

function SyntheticWall({ workers, seed }: { workers: number; seed: number }) {
  const source = useMemo(() => new SyntheticNetwork({ workers, seed }), [workers, seed])
  return <WallScreen view={useNetworkView(source)} />
}

function LiveWall() {
  const [config, setConfig] = useState<PublicConfig | null>(null)
  const [problem, setProblem] = useState<string | null>(null)
  useEffect(() => {
    const abort = new AbortController()
    let timer: ReturnType<typeof setTimeout> | undefined
    const load = () =>
      loadPublicConfig(abort.signal).then(setConfig, (error: Error) => {
        if (abort.signal.aborted) return
        setProblem(`${error.message} Retrying in ${CONFIG_RETRY_MS / 1000} s.`)
        timer = setTimeout(load, CONFIG_RETRY_MS)
      })
    void load()
    return () => {
      abort.abort()
      clearTimeout(timer)
    }
  }, [])
  if (!config) return <WallScreen view={{ ...INITIAL_VIEW, phase: problem ? 'unreachable' : 'loading', problem }} />
  return <ConnectedWall config={config} />
}

function ConnectedWall({ config }: { config: PublicConfig }) {
  // The public RPCs need only the anon key: no session, nothing stored in the browser.
  const supabase = useMemo(
    () => createClient(config.supabaseUrl, config.anonKey, { auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false } }),
    [config],
  )
  const view = useNetworkFeed(supabase, { apiUrl: config.supabaseUrl })
  return <WallScreen view={view} apiUrl={config.supabaseUrl} />
}
