import { mkdir, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { SupabaseClient } from '@supabase/supabase-js'
import { contentId } from '../../../../model/src/codec/content-id.ts'
import { CliError, EXIT, requestError, type ExitCode } from '../cli-error.ts'
import { connectAsUser, disconnect, JOB_PROFILE } from '../connection.ts'
import type { GlobalOptions } from '../global-options.ts'
import { fetchJob } from '../job-progress.ts'
import { createDownloadProgress, downloadSummaryText, type WrittenFile } from '../render/job-renderer.ts'
import { jsonLog } from '../render/json-log.ts'

export const MODEL_FORMATS = ['tfjs', 'onnx', 'h5', 'pt', 'pkl'] as const
export type ModelFormat = (typeof MODEL_FORMATS)[number]
export const ARTIFACT_BUCKET = 'artifacts'

export interface JobDownloadOptions extends GlobalOptions {
  jobId: string
  format: ModelFormat | 'all'
  /** Default: ./model-<first 8 characters of the job id>. */
  out?: string | undefined
}

/** One file of one format in `models.artifacts`. */
export interface ArtifactFile {
  name: string
  path: string
  cid: string
  bytes: number
  contentType?: string
}

/** A file name from the database, refused if it could leave `<out>/<format>/`. */
function safeFileName(name: unknown, format: string): string {
  if (typeof name !== 'string' || name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name)) {
    throw new CliError('CLI_DOWNLOAD', `the model lists a ${format} file named ${JSON.stringify(name)}, which is not a plain file name; nothing was written for it`)
  }
  return name
}

function filesOf(artifacts: Record<string, unknown>, format: ModelFormat): ArtifactFile[] {
  const entry = artifacts[format] as { files?: unknown } | undefined
  if (!entry || !Array.isArray(entry.files)) return []
  return (entry.files as Record<string, unknown>[]).map((file) => {
    if (typeof file.path !== 'string' || typeof file.cid !== 'string') {
      throw new CliError('CLI_DOWNLOAD', `the model's ${format} entry has a file without a path or cid`)
    }
    return {
      name: safeFileName(file.name, format),
      path: file.path,
      cid: file.cid,
      bytes: typeof file.bytes === 'number' ? file.bytes : 0,
      ...(typeof file.contentType === 'string' ? { contentType: file.contentType } : {}),
    }
  })
}

async function latestModel(supabase: SupabaseClient, jobId: string): Promise<{ id: string; artifacts: Record<string, unknown> }> {
  const { data, error } = await supabase
    .from('models')
    .select('id, artifacts, created_at')
    .eq('job_id', jobId)
    .order('created_at', { ascending: false })
    .limit(1)
  if (error) throw requestError(`could not read the model of job ${jobId}`, error)
  const model = data?.[0] as { id: string; artifacts: Record<string, unknown> } | undefined
  if (model) return model
  const job = await fetchJob(supabase, jobId) // says "not one of your jobs" when that is the reason
  throw new CliError('CLI_NO_MODEL', `job ${jobId} has no model yet: it is ${job.status}`, {
    hint: `a model is published when the job completes; follow it with \`oblivion job status ${jobId} --watch\``,
  })
}

/**
 * `oblivion job download <id>`: fetches the files of the job's model in the formats asked for,
 * checks each against its content id (CIDv1, raw, sha-256) before writing it, and writes
 * `<out>/<format>/<name>`. A file whose bytes do not match is not written.
 */
export async function runJobDownloadCommand(options: JobDownloadOptions): Promise<ExitCode> {
  const out = path.resolve(options.out ?? `model-${options.jobId.slice(0, 8)}`)
  const { supabase } = await connectAsUser(options, { profile: JOB_PROFILE })
  try {
    const model = await latestModel(supabase, options.jobId)
    const available = MODEL_FORMATS.filter((format) => filesOf(model.artifacts, format).length > 0)
    const formats = options.format === 'all' ? available : [options.format]
    if (formats.length === 0 || !available.includes(formats[0]!)) {
      throw new CliError('CLI_NO_MODEL', `model ${model.id} has no ${options.format === 'all' ? 'files' : `${options.format} files`}`, {
        hint: available.length > 0 ? `it has: ${available.join(', ')} (pass --format)` : 'the coordinator published it without artifacts',
      })
    }
    const planned = formats.flatMap((format) => filesOf(model.artifacts, format).map((file) => ({ format, file })))
    const progress = createDownloadProgress({ json: options.json, totalBytes: planned.reduce((sum, p) => sum + p.file.bytes, 0) })
    const written: WrittenFile[] = []
    try {
      for (const { format, file } of planned) {
        const bytes = await downloadVerified(supabase, file, format)
        const target = path.join(out, format, file.name)
        await mkdir(path.dirname(target), { recursive: true })
        const temp = `${target}.${process.pid}.part`
        try {
          await writeFile(temp, bytes)
          await rename(temp, target)
        } catch (error) {
          throw new CliError('CLI_OUTPUT', `could not write ${target}: ${(error as Error).message}`, { hint: 'choose another folder with --out' })
        }
        const record = { format, name: file.name, file: target, bytes: bytes.byteLength, cid: file.cid }
        written.push(record)
        progress.fileWritten(record)
      }
    } finally {
      progress.close()
    }
    if (options.json) jsonLog().write('download-complete', { jobId: options.jobId, modelId: model.id, out, files: written.length })
    else process.stdout.write(`${downloadSummaryText(written, out)}\n`)
    return EXIT.ok
  } finally {
    await disconnect(supabase)
  }
}

async function downloadVerified(supabase: SupabaseClient, file: ArtifactFile, format: string): Promise<Uint8Array> {
  // Keys are bucket-relative (jobs/<id>/model/…); tolerate one written as "artifacts/…".
  const key = file.path.startsWith(`${ARTIFACT_BUCKET}/`) ? file.path.slice(ARTIFACT_BUCKET.length + 1) : file.path
  const { data, error } = await supabase.storage.from(ARTIFACT_BUCKET).download(key)
  if (error || !data) {
    throw new CliError('CLI_DOWNLOAD', `could not download ${ARTIFACT_BUCKET}/${key} (${format}/${file.name}): ${error?.message ?? 'no data'}`)
  }
  const bytes = new Uint8Array(await data.arrayBuffer())
  const actual = await contentId(bytes)
  if (actual !== file.cid) {
    throw new CliError('CLI_CID_MISMATCH', `${format}/${file.name} does not match its content id; it was not written`, {
      details: [`expected ${file.cid}`, `got      ${actual} (${bytes.byteLength} bytes)`],
      hint: 'the stored object differs from what the coordinator published: download again, and report it if it persists',
    })
  }
  return bytes
}
