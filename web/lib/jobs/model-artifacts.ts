import type { SupabaseClient } from '@supabase/supabase-js'
import { contentId } from '@oblivion/model/content-id'

/**
 * The files of a trained model (models.artifacts, written by the coordinator's finish-job.ts):
 * `{format: {files: [{name, path, cid, bytes, contentType}]}}`, each file under
 * `jobs/<job id>/model/<format>/` in the `artifacts` bucket, readable by the job's owner.
 */
export const ARTIFACT_BUCKET = 'artifacts'
export const MODEL_FORMATS = ['tfjs', 'onnx', 'h5', 'pt', 'pkl'] as const
export type ModelFormat = (typeof MODEL_FORMATS)[number]

export const FORMAT_LABELS: Record<ModelFormat, { label: string; about: string }> = {
  tfjs: { label: 'TensorFlow.js', about: 'model.json + weights.bin: tf.loadLayersModel' },
  onnx: { label: 'ONNX', about: '.onnx (opset 13): ONNX Runtime and most serving stacks' },
  h5: { label: 'Keras HDF5', about: '.h5: keras.models.load_model' },
  pt: { label: 'PyTorch', about: '.pt state_dict: torch.load(weights_only=True)' },
  pkl: { label: 'Python pickle', about: '.pkl of plain lists and dicts: pickle.load' },
}

export interface ArtifactFile {
  name: string
  path: string
  cid: string
  bytes: number
  contentType: string
}

export interface ModelDownload {
  format: ModelFormat
  label: string
  about: string
  files: ArtifactFile[]
}

/** A name the browser may save: no folders, nothing hidden behind dots. */
const plainName = (name: unknown): name is string => typeof name === 'string' && name !== '' && name !== '.' && name !== '..' && !/[/\\\0]/.test(name)

/** The formats the model has, in a fixed order; entries that are not well-formed are left out. */
export function modelDownloads(artifacts: unknown): ModelDownload[] {
  const all = (artifacts ?? {}) as Record<string, { files?: unknown } | undefined>
  const out: ModelDownload[] = []
  for (const format of MODEL_FORMATS) {
    const entry = all[format]
    if (!entry || !Array.isArray(entry.files)) continue
    const files: ArtifactFile[] = []
    for (const file of entry.files as Record<string, unknown>[]) {
      if (!plainName(file.name) || typeof file.path !== 'string' || typeof file.cid !== 'string') continue
      files.push({
        name: file.name,
        path: file.path,
        cid: file.cid,
        bytes: typeof file.bytes === 'number' ? file.bytes : 0,
        contentType: typeof file.contentType === 'string' ? file.contentType : 'application/octet-stream',
      })
    }
    if (files.length > 0) out.push({ format, ...FORMAT_LABELS[format], files })
  }
  return out
}

/** A file's key in the bucket (tolerates one written as `artifacts/…`). */
export function artifactKey(path: string): string {
  return path.startsWith(`${ARTIFACT_BUCKET}/`) ? path.slice(ARTIFACT_BUCKET.length + 1) : path
}

export class ArtifactDownloadError extends Error {
  constructor(
    message: string,
    readonly next: string,
  ) {
    super(message)
    this.name = 'ArtifactDownloadError'
  }
}

/** Downloads one file with the user's session and checks its bytes against the CID before anything is saved. */
export async function downloadVerified(supabase: SupabaseClient, file: ArtifactFile): Promise<Blob> {
  const { data, error } = await supabase.storage.from(ARTIFACT_BUCKET).download(artifactKey(file.path))
  if (error || !data) {
    throw new ArtifactDownloadError(`Could not download ${file.name}: ${error?.message ?? 'no data'}.`, 'Check that you are signed in as the job’s creator, then try again.')
  }
  const bytes = new Uint8Array(await data.arrayBuffer())
  const actual = await contentId(bytes)
  if (actual !== file.cid) {
    throw new ArtifactDownloadError(
      `${file.name} does not match its content id (expected ${file.cid}, got ${actual}); it was not saved.`,
      'The stored file differs from what the coordinator published: try again, and report it if it persists.',
    )
  }
  return new Blob([bytes], { type: file.contentType })
}

/** Saves a blob under `name` through a temporary link (the browser's download). */
export function saveBlob(blob: Blob, name: string): string {
  const url = URL.createObjectURL(blob)
  const link = document.createElement('a')
  link.href = url
  link.download = name
  link.rel = 'noopener'
  document.body.appendChild(link)
  link.click()
  link.remove()
  return url
}
