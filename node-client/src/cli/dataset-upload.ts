import { createHash } from 'node:crypto'
import { open, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import type { SupabaseClient } from '@supabase/supabase-js'
import { CliError, usageError } from './cli-error.ts'

/** The bucket `npm start` seeds for job data sets. */
export const DATASET_BUCKET = 'datasets'
/** The gateway's install-wide upload limit (GatewayLimits.uploadBytes). */
const MAX_UPLOAD_BYTES = 50 * 1024 * 1024
/** storage-api's characters for object names. */
const OBJECT_NAME = /^[\w!\-.*'() &$@=;:+,?]+$/

/** Where `--dataset <file>` goes: `<user id>/<file name>` in the datasets bucket. */
export function datasetObjectPath(userId: string, file: string): string {
  return `${userId}/${path.basename(file)}`
}

/** The columns a CSV file's first line names (RFC 4180 quoting). */
export function csvHeader(firstLine: string): string[] {
  const columns: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < firstLine.length; i++) {
    const c = firstLine[i]
    if (quoted && c === '"' && firstLine[i + 1] === '"') {
      field += '"'
      i++
    } else if (c === '"') {
      quoted = !quoted
    } else if (c === ',' && !quoted) {
      columns.push(field.trim())
      field = ''
    } else {
      field += c
    }
  }
  columns.push(field.trim())
  return columns
}

async function readFirstLine(file: string): Promise<string> {
  const handle = await open(file, 'r')
  try {
    const buffer = Buffer.alloc(64 * 1024)
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0)
    const text = buffer.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '')
    return text.split(/\r?\n/, 1)[0] ?? ''
  } finally {
    await handle.close()
  }
}

/**
 * Checks the file before anything goes over the network: it exists, fits the upload limit, has a
 * name Storage accepts, and its header names every column the spec uses.
 */
export async function checkDatasetFile(file: string, columns: { featureColumns: string[]; labelColumn: string }): Promise<void> {
  let size: number
  try {
    const info = await stat(file)
    if (!info.isFile()) throw usageError(`--dataset ${file} is not a file`)
    size = info.size
  } catch (error) {
    if (error instanceof CliError) throw error
    throw usageError(`--dataset ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  if (size === 0) throw new CliError('CLI_DATASET_FILE', `${file} is empty`)
  if (size > MAX_UPLOAD_BYTES) {
    throw new CliError('CLI_DATASET_FILE', `${file} is ${(size / 2 ** 20).toFixed(1)} MiB; uploads are limited to 50 MiB`)
  }
  const name = path.basename(file)
  if (!OBJECT_NAME.test(name)) {
    throw usageError(`the file name ${JSON.stringify(name)} has characters Storage refuses in object names`, 'rename it using letters, digits, spaces and - _ . ( )')
  }
  const header = csvHeader(await readFirstLine(file))
  const missing = [...columns.featureColumns, columns.labelColumn].filter((column) => !header.includes(column))
  if (missing.length > 0) {
    throw new CliError('CLI_DATASET_FILE', `${file} has no column${missing.length > 1 ? 's' : ''} ${missing.map((c) => JSON.stringify(c)).join(', ')}`, {
      details: [`its header: ${header.map((c) => JSON.stringify(c)).join(', ')}`],
      hint: 'spec.dataset.featureColumns and spec.dataset.labelColumn must name columns of the file’s first line',
    })
  }
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

/**
 * Uploads the CSV to `datasets/<objectPath>`. An object already there with the same bytes is
 * reused (running `job create` twice with one file works); one with other bytes is not
 * overwritten, since a job created earlier may still be training on it.
 */
export async function uploadDataset(supabase: SupabaseClient, file: string, objectPath: string): Promise<void> {
  const bytes = await readFile(file)
  const bucket = supabase.storage.from(DATASET_BUCKET)
  const { error } = await bucket.upload(objectPath, bytes, { contentType: 'text/csv', upsert: false })
  if (!error) return
  const status = (error as { status?: number; statusCode?: string }).statusCode
  if (status === '409' || (error as { code?: string }).code === 'ResourceAlreadyExists' || /already exists/i.test(error.message)) {
    const existing = await bucket.download(objectPath)
    if (existing.data && sha256(new Uint8Array(await existing.data.arrayBuffer())) === sha256(bytes)) return
    throw new CliError('CLI_UPLOAD', `${DATASET_BUCKET}/${objectPath} already exists with other contents`, {
      hint: 'jobs created earlier may still read it: rename your file to upload it beside the old one',
    })
  }
  throw new CliError('CLI_UPLOAD', `could not upload ${file} to ${DATASET_BUCKET}/${objectPath}: ${error.message}`, {
    hint: 'the datasets bucket must let signed-in users write under their own user id',
  })
}
