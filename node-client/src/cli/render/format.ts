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

/** An amount of wei in the chain's coin: `0.5 SHM`, `12 SHM`, `0.000000000000001 SHM`. */
export function coins(wei: bigint): string {
  const sign = wei < 0n ? '-' : ''
  const abs = wei < 0n ? -wei : wei
  const whole = abs / 10n ** 18n
  const fraction = (abs % 10n ** 18n).toString().padStart(18, '0').replace(/0+$/, '')
  return `${sign}${whole}${fraction ? `.${fraction}` : ''} SHM`
}

/** A duration in whole seconds, as people read it: `42 s`, `5 min 2 s`, `3 h 10 min`, `2 d 4 h`. */
export function duration(totalSeconds: number): string {
  const s = Math.max(0, Math.round(totalSeconds))
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`
}

/** A chain time (unix seconds) with how far it is from the chain's `now`: `2026-11-22T18:00:00.000Z (in 5 min 2 s)`. */
export function chainTime(unix: number, now: number): string {
  const iso = new Date(unix * 1000).toISOString()
  return unix > now ? `${iso} (in ${duration(unix - now)})` : `${iso} (${duration(now - unix)} ago)`
}
