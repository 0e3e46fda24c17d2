import { DatasetError, datasetErrorCodes } from './dataset-error.ts'

/** One CSV record: its fields, unquoted, and the 1-based line of the file on which it starts. */
export interface CsvRecord {
  fields: string[]
  line: number
}

const QUOTE = 0x22
const COMMA = 0x2c
const LF = 0x0a
const CR = 0x0d

/**
 * Splits RFC 4180 CSV into records: fields separated by commas, records by CRLF (LF or a lone CR
 * too), a field in double quotes may hold commas, line breaks and doubled quotes (`""` → `"`).
 * A quote inside an unquoted field is kept as text (`5'3"`); text after a closing quote is an
 * error, because it usually means a quote that should have been doubled. A leading BOM is skipped.
 * Field values are not trimmed.
 */
export function* csvRecords(text: string): Generator<CsvRecord> {
  const end = text.length
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0
  let line = 1
  while (pos < end) {
    const recordLine = line
    const fields: string[] = []
    for (;;) {
      if (text.charCodeAt(pos) === QUOTE) {
        const openedOn = line
        let value = ''
        let chunk = ++pos
        for (;;) {
          const quote = text.indexOf('"', pos)
          if (quote === -1) {
            throw new DatasetError(
              datasetErrorCodes.malformedCsv,
              `The quoted field that starts on line ${openedOn} is never closed. Close it with a double quote, and write a quote inside a quoted field as two ("").`,
              { line: openedOn },
            )
          }
          line += lineBreaks(text, pos, quote)
          if (text.charCodeAt(quote + 1) === QUOTE) {
            value += text.slice(chunk, quote + 1)
            pos = chunk = quote + 2
            continue
          }
          value += text.slice(chunk, quote)
          pos = quote + 1
          break
        }
        const next = text.charCodeAt(pos)
        if (pos < end && next !== COMMA && next !== LF && next !== CR) {
          throw new DatasetError(
            datasetErrorCodes.malformedCsv,
            `Line ${line} has text after the closing quote of a quoted field (field ${fields.length + 1}). Write a quote inside a quoted field as two ("").`,
            { line },
          )
        }
        fields.push(value)
      } else {
        let stop = pos
        while (stop < end) {
          const c = text.charCodeAt(stop)
          if (c === COMMA || c === LF || c === CR) break
          stop++
        }
        fields.push(text.slice(pos, stop))
        pos = stop
      }
      if (pos >= end) break
      const separator = text.charCodeAt(pos)
      pos++
      if (separator === COMMA) continue
      if (separator === CR && text.charCodeAt(pos) === LF) pos++
      line++
      break
    }
    yield { fields, line: recordLine }
  }
}

/** Line breaks (CRLF, LF or a lone CR) in text[from, to): keeps line numbers right inside quoted fields. */
function lineBreaks(text: string, from: number, to: number): number {
  let breaks = 0
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i)
    if (c === LF || (c === CR && text.charCodeAt(i + 1) !== LF)) breaks++
  }
  return breaks
}
