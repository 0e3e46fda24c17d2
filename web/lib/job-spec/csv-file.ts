import { parseCsvDataset } from '@oblivion/model/csv'
import { csvRecords } from '@oblivion/model/csv-records'

/**
 * A CSV data set chosen in the browser, checked before it is uploaded with the parser the workers
 * use (model/src/data/csv-dataset.ts): a file that would fail the job fails here, with its line.
 */

/** The bucket and the folder rule of supabase/README.md ("Storage layout"): `<user id>/<file>`. */
export const DATASET_BUCKET = 'datasets'
/** The gateway's install-wide upload limit (GatewayLimits.uploadBytes). */
export const MAX_DATASET_BYTES = 50 * 1024 * 1024
/** storage-api's characters for object names. */
const OBJECT_NAME = /^[\w!\-.*'() &$@=;:+,?]+$/

/** Where a user's CSV goes in the datasets bucket. */
export function datasetObjectPath(userId: string, fileName: string): string {
  return `${userId}/${fileName}`
}

/** Why a file cannot be used as a data set, or null. */
export function datasetFileProblem(file: { name: string; size: number }): string | null {
  if (!OBJECT_NAME.test(file.name)) return `The file name “${file.name}” has characters Storage refuses: rename it using letters, digits, spaces and - _ . ( ) then choose it again.`
  if (file.size === 0) return `${file.name} is empty: choose a CSV with a header row and one row per example.`
  if (file.size > MAX_DATASET_BYTES) return `${file.name} is ${(file.size / 2 ** 20).toFixed(1)} MiB; uploads are limited to 50 MiB.`
  return null
}

/** The columns the header row names (the first non-blank record), or an error in words. */
export function csvColumns(text: string): { ok: true; columns: string[] } | { ok: false; message: string } {
  try {
    for (const record of csvRecords(text)) {
      if (record.fields.every((field) => field.trim() === '')) continue
      return { ok: true, columns: record.fields.map((field) => field.trim()) }
    }
    return { ok: false, message: 'The file is empty: it needs a header row naming the columns.' }
  } catch (error) {
    return { ok: false, message: (error as Error).message }
  }
}

export interface CsvSummary {
  rows: number
  features: number
  classNames: string[]
}

/** Parses the whole file as the workers will: numbers in the features, at least two classes. */
export function checkCsv(text: string, featureColumns: readonly string[], labelColumn: string): { ok: true; summary: CsvSummary } | { ok: false; message: string } {
  try {
    const dataset = parseCsvDataset(text, featureColumns, labelColumn)
    return { ok: true, summary: { rows: dataset.count, features: dataset.featureCount, classNames: dataset.classNames } }
  } catch (error) {
    return { ok: false, message: (error as Error).message }
  }
}
