'use client'
import type { NetworkView } from '../feed/network-view.ts'
import { THEME } from './palette.ts'

/**
 * The view's state in words: connecting, the network unreachable (with the last data kept and
 * the retry), live updates off (polling), or made-up data. Nothing when all is well.
 */
export function NetworkStatus({ view, apiUrl }: { view: NetworkView; apiUrl?: string | null }) {
  let message: string | null = null
  let tone: 'info' | 'problem' = 'info'
  if (view.synthetic) message = 'Synthetic network: made-up workers and jobs, not read from any network.'
  else if (view.phase === 'loading') message = `Connecting to the network${apiUrl ? ` at ${apiUrl}` : ''}…`
  else if (view.phase === 'unreachable') {
    tone = 'problem'
    message = `${view.problem ?? 'The network does not answer.'}${view.updatedAt ? ` Showing what it said at ${new Date(view.updatedAt).toLocaleTimeString()}.` : ''}`
  } else if (view.realtime === 'down') {
    message = 'Live updates are unavailable (Realtime does not answer): re-reading the network every 15 s.'
  }
  if (!message) return null
  return (
    <div
      role={tone === 'problem' ? 'alert' : 'status'}
      data-testid="network-status"
      style={{
        padding: '6px 10px',
        borderRadius: 6,
        fontSize: 13,
        color: tone === 'problem' ? THEME.problem : THEME.muted,
        background: tone === 'problem' ? 'rgba(127, 29, 29, 0.55)' : 'rgba(30, 41, 59, 0.7)',
      }}
    >
      {message}
    </div>
  )
}
