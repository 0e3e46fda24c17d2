import { formatEther } from 'ethers'

/** How the pages print ids, amounts and measurements (one place, so every page reads alike). */

/** `0x1234…abcd` for addresses and hashes. */
export function shortHex(value: string): string {
  return value.length > 14 ? `${value.slice(0, 6)}…${value.slice(-4)}` : value
}

/** The first 8 characters of a uuid: how the pages name jobs and workers pseudonymously. */
export function shortId(id: string): string {
  return id.slice(0, 8)
}

/** Wei (decimal string or bigint) as coins: `1.5 SHM`, trailing zeros dropped. */
export function coins(wei: string | bigint, symbol = 'SHM'): string {
  const text = formatEther(typeof wei === 'bigint' ? wei : BigInt(wei))
  return `${text.endsWith('.0') ? text.slice(0, -2) : text} ${symbol}`
}

/** 0.9432 → `94.3 %`; null (no test split, not evaluated yet) → `—`. */
export function percent(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '—' : `${(value * 100).toFixed(1)} %`
}

/** A loss or an ε to 3 significant digits; null → `—`. */
export function measure(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '—' : Number(value.toPrecision(3)).toString()
}

/** A timestamp in the reader's locale, `—` when missing. */
export function when(value: string | number | Date | null | undefined): string {
  if (value === null || value === undefined) return '—'
  const date = typeof value === 'number' ? new Date(value * 1000) : new Date(value)
  return Number.isNaN(date.getTime()) ? '—' : date.toLocaleString()
}

/** A byte count as `12.3 kB` / `1.2 MB`. */
export function bytes(count: number): string {
  if (count < 1000) return `${count} B`
  if (count < 1_000_000) return `${(count / 1000).toFixed(1)} kB`
  return `${(count / 1_000_000).toFixed(1)} MB`
}
