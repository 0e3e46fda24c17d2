import type { SupabaseClient } from '@supabase/supabase-js'

export interface RowWatchOptions<T> {
  /** Realtime: changes of this table whose `id` is `id` wake the watch up. */
  table: string
  id: string
  /** Reads the row (null: not visible yet). */
  read(): Promise<T | null>
  /** The state the caller waits for. */
  done(row: T): boolean
  /** Told about every row read (progress). */
  onRow?(row: T): void
  /** Give up after this long (resolves null). */
  timeoutMs: number
  /** Checked on every poll: true ends the wait (resolves null), e.g. a deadline in chain time. */
  expired?(): Promise<boolean>
  /** Polling between Realtime notifications (default 2 s). */
  pollMs?: number
  signal?: AbortSignal
}

/**
 * Waits until a row reaches a state: Realtime makes it fast, polling makes it correct ("a NOTIFY
 * is only ever a latency hint", pg-boss), so a missed change costs at most one poll interval.
 * Resolves the row, or null on timeout or abort.
 */
export async function watchRow<T>(supabase: SupabaseClient, options: RowWatchOptions<T>): Promise<T | null> {
  let wake: (() => void) | null = null
  const channel = supabase
    .channel(`watch-${options.table}-${options.id}`)
    .on('postgres_changes', { event: '*', schema: 'public', table: options.table, filter: `id=eq.${options.id}` }, () => wake?.())
    .subscribe()
  const deadline = Date.now() + options.timeoutMs
  try {
    for (;;) {
      const row = await options.read()
      if (row) {
        options.onRow?.(row)
        if (options.done(row)) return row
      }
      const left = deadline - Date.now()
      if (left <= 0 || options.signal?.aborted || (await options.expired?.())) return null
      await new Promise<void>((resolve) => {
        const timer = setTimeout(finish, Math.min(options.pollMs ?? 2_000, left))
        function finish() {
          clearTimeout(timer)
          options.signal?.removeEventListener('abort', finish)
          wake = null
          resolve()
        }
        wake = finish
        options.signal?.addEventListener('abort', finish)
      })
    }
  } finally {
    await supabase.removeChannel(channel).catch(() => {})
  }
}
