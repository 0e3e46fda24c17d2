/**
 * The subscribers' side of `measureRealtimeLatency`, in a process of their own (subscribers are
 * other machines in the network; sharing the gateway's event loop, their own frame handling was
 * counted as the gateway's latency). Started with `fork`; argv[2] is
 * `{url, anonKey, accessToken, subscribers}`. Sends `{ready: true}` once every channel is
 * SUBSCRIBED, then `{id, arrivals}` — wall-clock ms (performance.timeOrigin + now()) — each time
 * every subscriber got the INSERT of row `id`.
 */
import { performance } from 'node:perf_hooks'
import { createClient } from '@supabase/supabase-js'
import WebSocket from 'ws'

export interface SubscribersInput {
  url: string
  anonKey: string
  accessToken: string
  subscribers: number
}

export type SubscribersMessage = { ready: true } | { id: number; arrivals: number[] }

const input = JSON.parse(process.argv[2]!) as SubscribersInput
const send = (message: SubscribersMessage) => process.send!(message)
const arrivals = new Map<number, number[]>()

const clients = Array.from({ length: input.subscribers }, () =>
  createClient(input.url, input.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: WebSocket as never },
    accessToken: async () => input.accessToken,
  }),
)
await new Promise((resolve) => setTimeout(resolve, 0)) // let each client apply its token
await Promise.all(
  clients.map(
    (client, i) =>
      new Promise<void>((resolve, reject) => {
        client
          .channel(`bench-${i}`)
          .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'realtime_bench' }, (payload) => {
            const at = performance.timeOrigin + performance.now()
            const id = Number((payload.new as { id: number }).id)
            let times = arrivals.get(id)
            if (!times) arrivals.set(id, (times = []))
            times.push(at)
            if (times.length === input.subscribers) {
              arrivals.delete(id)
              send({ id, arrivals: times })
            }
          })
          .subscribe((status, error) => {
            if (status === 'SUBSCRIBED') resolve()
            else if (status !== 'CLOSED') reject(new Error(`bench subscriber ${i}: ${status} ${error?.message ?? ''}`))
          })
      }),
  ),
)
send({ ready: true })
process.on('disconnect', () => process.exit(0))
