/** How ids, numbers and durations read in the CLI's human output. */

/** The first 8 characters of a uuid: enough to tell jobs apart on one screen. */
export function shortId(id: string): string {
  return id.slice(0, 8)
}

export function count(n: number): string {
  return n.toLocaleString('en-US')
}

export function seconds(s: number): string {
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`
}

export function epsilon(value: number | null | undefined): string {
  return value === null || value === undefined ? 'ε –' : `ε ${value.toFixed(3)}`
}

export function percent(fraction: number | null | undefined): string {
  return fraction === null || fraction === undefined ? '–' : `${(fraction * 100).toFixed(1)} %`
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`
  return `${(n / 1024 / 1024).toFixed(1)} MiB`
}

/** `14:03:27`: the time of a log line on a terminal (JSON lines carry the full ISO time). */
export function clock(date = new Date()): string {
  return date.toTimeString().slice(0, 8)
}
