import type { RealtimeChannel, RealtimePostgresChangesPayload, SupabaseClient } from '@supabase/supabase-js'
import type { Database } from '../../../src/db/database.ts'

export type Change = RealtimePostgresChangesPayload<Record<string, unknown>>

/**
 * Polls until `check` holds (changes arrive asynchronously), else fails with `what`. 30 s: in
 * one full CI run a first change took over 10 s to arrive while claims-concurrency held 64
 * connections busy on the 2-core machine (not reproduced since; a lost change still fails).
 */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Resolves once the channel reports SUBSCRIBED; rejects on CHANNEL_ERROR/TIMED_OUT/CLOSED. */
export function subscribed(channel: RealtimeChannel): Promise<RealtimeChannel> {
  return new Promise((resolve, reject) => {
    channel.subscribe((status, error) => {
      if (status === 'SUBSCRIBED') resolve(channel)
      else reject(new Error(`channel ${channel.topic}: ${status}${error ? ` (${error.message})` : ''}`))
    })
  })
}

/**
 * A channel listening to postgres_changes on one table; `changes` collects every payload in
 * arrival order. `system` collects the server's system messages.
 */
export async function listen(
  client: SupabaseClient,
  topic: string,
  binding: { event: '*' | 'INSERT' | 'UPDATE' | 'DELETE'; table: string; filter?: string; schema?: string },
) {
  // supabase-js applies an `accessToken` option asynchronously; a channel subscribed in the same
  // tick as createClient() would join with the anon key (realtime-js freezes the join payload).
  await new Promise((resolve) => setTimeout(resolve, 0))
  const changes: Change[] = []
  const system: Array<{ status: string; message: string; extension: string }> = []
  const channel = client
    .channel(topic)
    .on('postgres_changes', { schema: 'public', ...binding } as never, (payload: Change) => changes.push(payload))
    .on('system', {}, (payload) => system.push(payload))
  await subscribed(channel)
  await waitFor('the postgres_changes system message', () => system.some((s) => s.extension === 'postgres_changes'))
  return { channel, changes, system }
}

/** A table the test owns: RLS on, `authenticated` reads only its own rows, published for realtime. */
export async function createOwnedTable(db: Database, name: string): Promise<void> {
  await db.exec(`
    create table public.${name} (
      id bigint generated always as identity primary key,
      owner_id uuid not null,
      title text not null,
      score integer not null default 0,
      tags text[] not null default '{}'
    );
    alter table public.${name} enable row level security;
    grant select on public.${name} to authenticated;
    create policy "Owners read their rows" on public.${name} for select to authenticated
      using ((select auth.uid()) = owner_id);
    alter publication supabase_realtime add table public.${name};
  `)
}

/** Lets anything already sent arrive, so a "nothing more came" check means something. */
export const settle = (ms = 300) => new Promise((resolve) => setTimeout(resolve, ms))
