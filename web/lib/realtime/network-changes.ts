'use client'
import { NETWORK_CHANGED_EVENT, NETWORK_CHANNEL } from '@oblivion/node-client/network-channel'
import type { RealtimeChannel, SupabaseClient } from '@supabase/supabase-js'
import { useEffect, useRef } from 'react'

/**
 * The coordinator broadcasts `changed` on the public channel `network` whenever jobs or task
 * leases change (node-client worker-core/network-channel.ts). supabase-js keeps one channel per
 * topic and client, so the components of a page share one subscription: the first listener
 * joins, the last one leaves. (The Network page reads through the visualizer's NetworkFeed,
 * which joins the same topic: never mount both on one page.)
 */

interface Shared {
  channel: RealtimeChannel
  listeners: Set<() => void>
}
const shared = new WeakMap<SupabaseClient, Shared>()

/** Calls `listener` on every `changed` broadcast, and once each time the channel (re)joins. */
export function onNetworkChange(supabase: SupabaseClient, listener: () => void): () => void {
  let entry = shared.get(supabase)
  if (!entry) {
    const listeners = new Set<() => void>()
    const notify = () => listeners.forEach((l) => l())
    const channel = supabase
      .channel(NETWORK_CHANNEL)
      .on('broadcast', { event: NETWORK_CHANGED_EVENT }, notify)
      // After a (re)join, read once: broadcasts sent while we were away are gone.
      .subscribe((status) => status === 'SUBSCRIBED' && notify())
    entry = { channel, listeners }
    shared.set(supabase, entry)
  }
  const current = entry
  current.listeners.add(listener)
  return () => {
    current.listeners.delete(listener)
    if (current.listeners.size === 0) {
      shared.delete(supabase)
      void supabase.removeChannel(current.channel)
    }
  }
}

/**
 * Runs `load` now, on every network change (at most once a second: a busy network broadcasts
 * many), and every `fallbackMs` in case a broadcast was missed (push is the fast path, the slow
 * refresh keeps it correct).
 */
export function useNetworkRefresh(supabase: SupabaseClient, load: () => void | Promise<void>, fallbackMs = 30_000): void {
  const loadRef = useRef(load)
  useEffect(() => {
    loadRef.current = load
  })
  useEffect(() => {
    let last = 0
    let pending: ReturnType<typeof setTimeout> | null = null
    const run = () => {
      pending = null
      last = Date.now()
      void loadRef.current()
    }
    const throttled = () => {
      if (pending) return
      const wait = Math.max(0, last + 1000 - Date.now())
      pending = setTimeout(run, wait)
    }
    run()
    const stop = onNetworkChange(supabase, throttled)
    const timer = setInterval(throttled, fallbackMs)
    return () => {
      stop()
      clearInterval(timer)
      if (pending) clearTimeout(pending)
    }
  }, [supabase, fallbackMs])
}
