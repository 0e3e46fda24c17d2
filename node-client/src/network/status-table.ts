import path from 'node:path'
import type { ServiceStatus } from './service-status.ts'

/** A path as the user would type it: relative inside the current folder, absolute outside. */
export function shownPath(p: string): string {
  const relative = path.relative(process.cwd(), p)
  return relative && !relative.startsWith('..') ? relative : p
}

const seconds = (ms: number | null) => (ms === null ? '' : `${(ms / 1000).toFixed(1)} s`)

/** Splits `text` into lines of at most `width` characters, at spaces where it can. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else line = line ? `${line} ${word}` : word
  }
  if (line) lines.push(line)
  return lines
}

/**
 * The status table: service | state | URL / notes | log, aligned. A row's URL comes first and
 * its notes follow on continuation lines in the same column (wrapped), so the log column stays
 * readable on an 120-column terminal.
 */
export function renderStatusTable(services: ServiceStatus[], width = process.stdout.columns ?? 120): string {
  const rows = services.map((s) => ({
    service: s.name,
    state: s.readyMs !== null && s.state === 'ready' ? `ready ${seconds(s.readyMs)}` : s.state,
    url: s.url,
    notes: s.notes,
    log: s.log ? shownPath(s.log) : s.pid === process.pid ? '(this process)' : '',
  }))
  const serviceWidth = Math.max('service'.length, ...rows.map((r) => r.service.length))
  const stateWidth = Math.max('state'.length, ...rows.map((r) => r.state.length))
  const logWidth = Math.max('log'.length, ...rows.map((r) => r.log.length))
  const urlWidth = Math.max('URL / notes'.length, ...rows.map((r) => r.url?.length ?? 0))
  const middle = Math.max(urlWidth, 40, Math.min(80, width - serviceWidth - stateWidth - logWidth - 8))
  const line = (a: string, b: string, c: string, d: string) => `  ${a.padEnd(serviceWidth)}  ${b.padEnd(stateWidth)}  ${c.padEnd(middle)}  ${d}`.trimEnd()
  const out = [line('service', 'state', 'URL / notes', 'log')]
  for (const row of rows) {
    const notes = row.notes ? wrap(row.notes, middle) : []
    const first = row.url ?? notes.shift() ?? ''
    out.push(line(row.service, row.state, first, row.log))
    for (const rest of notes) out.push(line('', '', rest, ''))
  }
  return out.join('\n')
}
