import { fork } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import type { Database } from '../../src/db/database.ts'
import { signJwt } from '../../src/gateway/jwt.ts'
import type { SubscribersInput, SubscribersMessage } from './realtime-subscribers.ts'

const SUBSCRIBERS = new URL('./realtime-subscribers.ts', import.meta.url).pathname

export interface RealtimeLatencyOptions {
  url: string
  anonKey: string
  jwtSecret: string
  db: Database
  subscribers: number
  changes: number
  serviceRoleKey?: string
}

const TABLE_DDL = `
  create table if not exists public.realtime_bench (
    id bigint primary key,
    owner_id uuid not null,
    note text not null
  );
  alter table public.realtime_bench enable row level security;
  grant select on public.realtime_bench to authenticated;
  do $$ begin
    if not exists (select 1 from pg_policies where tablename = 'realtime_bench') then
      create policy "Owners read their bench rows" on public.realtime_bench for select to authenticated
        using ((select auth.uid()) = owner_id);
    end if;
    if not exists (select 1 from pg_publication_tables where pubname = 'supabase_realtime' and tablename = 'realtime_bench') then
      alter publication supabase_realtime add table public.realtime_bench;
    end if;
  end $$;`

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN

/**
 * Latency from an INSERT committed (taken right after the autocommit insert returns to the
 * benchmark) to each subscriber's postgres_changes callback, through the official supabase-js:
 * `subscribers` clients in another process (realtime-subscribers.ts; times compared on the wall
 * clock), each on its own WebSocket, all signed in as one user who may see the
 * rows under RLS (so every change passes the RLS check). Inserts go one at a time: each waits
 * until every subscriber got the previous one, so this is the unloaded latency of one change
 * fanned out to all subscribers.
 */
export async function measureRealtimeLatency(opts: RealtimeLatencyOptions): Promise<{ p50Ms: number; p99Ms: number; samples: number }> {
  await opts.db.exec(TABLE_DDL)
  const userId = randomUUID()
  await opts.db.query(`insert into auth.users (id, aud, role) values ($1::uuid, 'authenticated', 'authenticated')`, [userId])
  const iat = Math.floor(Date.now() / 1000)
  const token = signJwt({ sub: userId, role: 'authenticated', aud: 'authenticated', iat, exp: iat + 3600 }, opts.jwtSecret)
  const { rows } = await opts.db.query<{ next: number }>('select coalesce(max(id), 0) + 1 as next from public.realtime_bench')
  let nextId = Number(rows[0]!.next)

  const child = fork(SUBSCRIBERS, [JSON.stringify({ url: opts.url, anonKey: opts.anonKey, accessToken: token, subscribers: opts.subscribers } satisfies SubscribersInput)], {
    execArgv: process.execArgv,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  const waiters = new Map<number | 'ready', (arrivals: number[]) => void>()
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`the subscribers' process exited (${code}) before the benchmark ended`))),
  )
  exited.catch(() => {})
  child.on('message', (message: SubscribersMessage) => {
    const key = 'ready' in message ? 'ready' : message.id
    waiters.get(key)?.('ready' in message ? [] : message.arrivals)
    waiters.delete(key)
  })
  const next = (key: number | 'ready') =>
    Promise.race([
      exited,
      new Promise<number[]>((resolve, reject) => {
        waiters.set(key, resolve)
        setTimeout(() => reject(new Error(`realtime bench: ${key === 'ready' ? 'subscribers not ready' : `change ${key} not received by all subscribers`} within 30 s`)), 30_000).unref()
      }),
    ])
  try {
    await next('ready')
    // The join reply precedes the trigger check's system message by a moment; one warm-up row.
    const samples: number[] = []
    for (let n = -1; n < opts.changes; n++) {
      const id = nextId++
      const received = next(id)
      received.catch(() => {}) // awaited below; an insert that throws first must not leave it unhandled
      await opts.db.query(`insert into public.realtime_bench (id, owner_id, note) values ($1::bigint, $2::uuid, 'x')`, [id, userId])
      const committed = performance.timeOrigin + performance.now()
      const arrivals = await received
      if (n >= 0) for (const at of arrivals) samples.push(Math.max(0, at - committed))
    }
    samples.sort((a, b) => a - b)
    const round = (ms: number) => Math.round(ms * 100) / 100
    return { p50Ms: round(percentile(samples, 50)), p99Ms: round(percentile(samples, 99)), samples: samples.length }
  } finally {
    child.kill()
  }
}
