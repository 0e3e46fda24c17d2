import type { Dataset } from './dataset.ts'
import { DatasetError, datasetErrorCodes } from './dataset-error.ts'
import { classIndexer } from './class-names.ts'
import { csvRecords, type CsvRecord } from './csv-records.ts'

/**
 * What one job's CSV may hold. 4096 features is the job spec's limit on featureColumns; 4096
 * classes is its limit on a layer's units (the softmax layer has one unit per class).
 */
export const csvLimits = { maxRows: 1_000_000, maxFeatures: 4096, maxClasses: 4096 } as const

/**
 * Parses a CSV with a header row into a Dataset: `featureColumns` (in that order) must hold
 * numbers, `labelColumn` holds class names (whitespace-trimmed), numbered in sorted order. Other
 * columns are ignored; blank lines are skipped. Throws a DatasetError naming the line and column.
 */
export function parseCsvDataset(text: string, featureColumns: readonly string[], labelColumn: string): Dataset {
  checkRequestedColumns(featureColumns, labelColumn)
  const records = csvRecords(text)
  const header = nextNonBlank(records)
  if (!header) {
    throw new DatasetError(datasetErrorCodes.malformedCsv, 'The CSV file is empty. It needs a header row naming the columns, then one row per example.')
  }
  const columnCount = header.fields.length
  const featureAt = Int32Array.from(featureColumns, (name) => columnIndex(header.fields, name))
  const labelAt = columnIndex(header.fields, labelColumn)
  checkFound(header.fields, featureColumns, featureAt, labelColumn, labelAt)

  const featureCount = featureColumns.length
  let capacity = Math.min(rowsAtMost(text, featureCount), csvLimits.maxRows)
  let features = new Float32Array(capacity * featureCount)
  let labels = new Int32Array(capacity)
  const classes = classIndexer()
  let count = 0

  for (let record = nextNonBlank(records); record; record = nextNonBlank(records)) {
    const { fields, line } = record
    if (fields.length !== columnCount) {
      throw new DatasetError(
        datasetErrorCodes.malformedCsv,
        `Line ${line} has ${fields.length} fields but the header has ${columnCount}. Quote any field that contains a comma, and give every row a value for every column.`,
        { line },
      )
    }
    if (count === csvLimits.maxRows) {
      throw new DatasetError(
        datasetErrorCodes.tooLarge,
        `The CSV file has more than ${csvLimits.maxRows} data rows (line ${line} is one too many). Sample it down to at most ${csvLimits.maxRows} rows.`,
        { line },
      )
    }
    if (count === capacity) {
      // Only when lone CRs end lines (rowsAtMost counts LFs): grow like a vector.
      capacity = Math.min(capacity * 2 + 1, csvLimits.maxRows)
      features = grow(features, capacity * featureCount)
      labels = grow(labels, capacity)
    }
    const offset = count * featureCount
    for (let j = 0; j < featureCount; j++) {
      const column = featureAt[j]!
      features[offset + j] = parseCell(fields[column]!, line, featureColumns[j]!)
    }
    const label = fields[labelAt]!.trim()
    if (label === '') {
      throw new DatasetError(
        datasetErrorCodes.badValue,
        `Line ${line}, column "${labelColumn}": the label is empty. Give every row a class, or remove the rows without one.`,
        { line, column: labelColumn },
      )
    }
    labels[count] = classes.indexOf(label)
    if (classes.size > csvLimits.maxClasses) {
      throw new DatasetError(
        datasetErrorCodes.tooLarge,
        `The label column "${labelColumn}" has more than ${csvLimits.maxClasses} distinct values (by line ${line}). It should name a class per row; is it a numeric or identifier column?`,
        { line, column: labelColumn },
      )
    }
    count++
  }

  if (count === 0) {
    throw new DatasetError(datasetErrorCodes.malformedCsv, 'The CSV file has a header row but no data rows. Add one row per example below the header.')
  }
  const { classNames, labels: sortedLabels } = classes.sorted(labels.subarray(0, count))
  if (classNames.length < 2) {
    throw new DatasetError(
      datasetErrorCodes.tooFewClasses,
      `Every row's label in column "${labelColumn}" is ${JSON.stringify(classNames[0])}; a classifier needs at least 2 classes. Check that it is the right column, or add examples of the other classes.`,
      { column: labelColumn },
    )
  }
  return {
    count,
    featureCount,
    // slice, not subarray: a view would keep (and post to a Web Worker) the whole over-allocated buffer
    features: count === capacity ? features : features.slice(0, count * featureCount),
    labels: sortedLabels,
    classNames,
    featureNames: [...featureColumns],
  }
}

const maxFloat32 = 3.4028234663852886e38
/** A plain decimal number: Number() alone would also take "" and "  " (as 0), "0x1A" and "Infinity". */
const decimalNumber = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/

function parseCell(cell: string, line: number, column: string): number {
  if (decimalNumber.test(cell)) {
    const value = Number(cell)
    if (Math.abs(value) <= maxFloat32) return value
    throw new DatasetError(
      datasetErrorCodes.badValue,
      `Line ${line}, column "${column}": ${cell.trim()} is too large for a 32-bit float (at most ±3.4e38). Rescale the column.`,
      { line, column },
    )
  }
  const problem = cell.trim() === '' ? 'the value is missing' : `${JSON.stringify(cell)} is not a number`
  throw new DatasetError(
    datasetErrorCodes.badValue,
    `Line ${line}, column "${column}": ${problem}. Feature columns must hold plain decimal numbers (like 3, -0.25 or 1e-3) in every row; fill in or drop rows with missing values, and encode categories as numbers.`,
    { line, column },
  )
}

function checkRequestedColumns(featureColumns: readonly string[], labelColumn: string): void {
  if (featureColumns.length === 0) {
    throw new DatasetError(datasetErrorCodes.badColumns, 'No feature columns were given. List the numeric columns to learn from in featureColumns.')
  }
  if (featureColumns.length > csvLimits.maxFeatures) {
    throw new DatasetError(
      datasetErrorCodes.tooLarge,
      `${featureColumns.length} feature columns were given; at most ${csvLimits.maxFeatures} are allowed. Select fewer columns.`,
    )
  }
  const seen = new Set<string>()
  for (const name of featureColumns) {
    if (seen.has(name)) {
      throw new DatasetError(datasetErrorCodes.badColumns, `The feature column "${name}" is listed twice. List each column once.`, { column: name })
    }
    seen.add(name)
  }
  if (seen.has(labelColumn)) {
    throw new DatasetError(
      datasetErrorCodes.badColumns,
      `The label column "${labelColumn}" is also listed as a feature column; the model would see the answer. Remove it from featureColumns.`,
      { column: labelColumn },
    )
  }
}

/** The column's index in the header, −1 when absent, −2 when the header names it twice. */
function columnIndex(header: string[], name: string): number {
  const first = header.indexOf(name)
  return first !== -1 && header.indexOf(name, first + 1) !== -1 ? -2 : first
}

function checkFound(header: string[], featureColumns: readonly string[], featureAt: Int32Array, labelColumn: string, labelAt: number): void {
  const requested = [...featureColumns, labelColumn]
  const at = [...featureAt, labelAt]
  const twice = requested.find((_, i) => at[i] === -2)
  if (twice !== undefined) {
    throw new DatasetError(
      datasetErrorCodes.badColumns,
      `The header names the column "${twice}" more than once, so it is ambiguous. Rename one of them.`,
      { line: 1, column: twice },
    )
  }
  const missing = requested.filter((_, i) => at[i] === -1)
  if (missing.length === 0) return
  const shown = header.slice(0, 50).map((name) => JSON.stringify(name)).join(', ')
  const more = header.length > 50 ? `, … (${header.length} in all)` : ''
  const hints = missing
    .map((name) => ({ name, near: header.find((candidate) => candidate.trim().toLowerCase() === name.trim().toLowerCase()) }))
    .filter((hint) => hint.near !== undefined)
    .map((hint) => ` Did you mean ${JSON.stringify(hint.near)} for ${JSON.stringify(hint.name)}?`)
    .join('')
  throw new DatasetError(
    datasetErrorCodes.badColumns,
    `The CSV header has no column ${missing.map((name) => JSON.stringify(name)).join(', ')}. Its columns are: ${shown}${more}. Column names must match the header exactly.${hints}`,
    { line: 1, column: missing[0]! },
  )
}

/** Skips blank lines: a record that is a single empty field (a real row has at least 2 columns). */
function nextNonBlank(records: Generator<CsvRecord>): CsvRecord | undefined {
  for (;;) {
    const next = records.next()
    if (next.done) return undefined
    const { fields } = next.value
    if (fields.length > 1 || fields[0] !== '') return next.value
  }
}

/**
 * An upper bound on the data rows, to allocate once: the LFs (less a final one), and the text
 * length over 2 characters per feature (a digit and a comma at least), whichever is smaller. Only
 * files whose lines end in a lone CR can have more; the parser grows its arrays for them.
 */
function rowsAtMost(text: string, featureCount: number): number {
  let breaks = 0
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) breaks++
  if (text.endsWith('\n')) breaks--
  return Math.max(1, Math.min(breaks, Math.ceil(text.length / (2 * featureCount))))
}

function grow<T extends Float32Array | Int32Array>(array: T, length: number): T {
  const grown = new (array.constructor as new (length: number) => T)(length)
  grown.set(array)
  return grown
}
