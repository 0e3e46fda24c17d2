import pg from 'pg'

/**
 * LISTEN on a DEDICATED connection (a pool client would be handed back and its LISTEN lost with
 * it). If the connection drops (server restart, failover, idle kill) it reconnects with jittered
 * exponential backoff (100 ms doubling to 5 s, ±50 %) and then calls `onReconnect`, because every
 * NOTIFY sent while it was down is gone: a NOTIFY is only ever a latency hint.
 */
export async function listenOnDedicatedClient(
  connectionString: string,
  channel: string,
  onNotify: (payload: string) => void,
  onReconnect?: () => void,
  applicationName = 'oblivion-listen',
): Promise<() => Promise<void>> {
  const quoted = `"${channel.replaceAll('"', '""')}"`
  let client: pg.Client | undefined
  let stopped = false
  let attempt = 0
  let retryTimer: NodeJS.Timeout | undefined

  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString, application_name: applicationName })
    next.on('notification', (message) => {
      if (message.channel === channel) onNotify(message.payload ?? '')
    })
    // 'error' then 'end' on a lost server; without an 'error' listener Node would crash.
    next.on('error', () => {})
    next.on('end', () => {
      if (client === next && !stopped) scheduleReconnect()
    })
    try {
      await next.connect()
      await next.query(`listen ${quoted}`)
    } catch (error) {
      await next.end().catch(() => {}) // a connection that cannot LISTEN (e.g. a standby) is not kept
      throw error
    }
    if (stopped) {
      await next.end().catch(() => {}) // stopped while this reconnect was under way
      return
    }
    client = next
  }

  const scheduleReconnect = () => {
    client = undefined
    const base = Math.min(5000, 100 * 2 ** attempt)
    const delay = base * (0.5 + Math.random())
    attempt += 1
    retryTimer = setTimeout(() => {
      retryTimer = undefined
      if (stopped) return
      connect().then(
        () => {
          attempt = 0
          onReconnect?.()
        },
        () => {
          if (!stopped) scheduleReconnect()
        },
      )
    }, delay)
    // A pending retry alone must not keep a process alive that is otherwise done.
    retryTimer.unref()
  }

  await connect()
  return async () => {
    stopped = true
    if (retryTimer) clearTimeout(retryTimer)
    const current = client
    client = undefined
    await current?.end().catch(() => {})
  }
}
