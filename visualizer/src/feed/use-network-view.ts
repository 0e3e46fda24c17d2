'use client'
import type { SupabaseClient } from '@supabase/supabase-js'
import { useEffect, useMemo, useSyncExternalStore } from 'react'
import { NetworkFeed, type NetworkFeedOptions } from './network-feed.ts'
import type { NetworkSource, NetworkView } from './network-view.ts'

/** Starts `source` while the component is mounted and re-renders on each new snapshot. */
export function useNetworkView(source: NetworkSource): NetworkView {
  useEffect(() => {
    source.start()
    return () => void source.stop()
  }, [source])
  return useSyncExternalStore(source.subscribe, source.getSnapshot, source.getSnapshot)
}

/**
 * The live network read through `supabase` (the anon key is enough): one NetworkFeed per client,
 * kept for the component's life. Use one per page: the feed joins the `network` and
 * `network-presence` channels, and supabase-js shares a channel between users of one topic.
 */
export function useNetworkFeed(supabase: SupabaseClient, options: Omit<NetworkFeedOptions, 'supabase'> = {}): NetworkView {
  // The options are read once: a feed is rebuilt only for another client.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const feed = useMemo(() => new NetworkFeed({ ...options, supabase }), [supabase])
  return useNetworkView(feed)
}
