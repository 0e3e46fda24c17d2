import { jsonLog } from './json-log.ts'

/**
 * The money commands' output: each thing that happened is one JSON line (`type` and fields, wei as
 * decimal strings, times as ISO strings) with --json, or one sentence on a terminal.
 */
export interface MoneyOutput {
  emit(type: string, fields: Record<string, unknown>, text: string): void
}

export function moneyOutput(json: boolean, stream: NodeJS.WriteStream = process.stdout): MoneyOutput {
  const log = json ? jsonLog(stream) : undefined
  return {
    emit(type, fields, text) {
      if (log) log.write(type, fields)
      else stream.write(`${text}\n`)
    },
  }
}

/** Unix seconds as the JSON lines give times. */
export function isoTime(unix: number | bigint): string {
  return new Date(Number(unix) * 1000).toISOString()
}
