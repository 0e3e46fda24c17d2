import { contentId } from '@oblivion/model'
import type { SupabaseClient } from '@supabase/supabase-js'
import { ARTIFACTS_BUCKET } from '../worker-core/artifact-paths.ts'

export interface StoredFile {
  name: string
  path: string
  cid: string
  bytes: number
  contentType: string
}

/** Reads and writes the artifacts bucket as the coordinator (service role: policies do not apply). */
export class ArtifactStore {
  constructor(private readonly supabase: SupabaseClient) {}

  async upload(path: string, bytes: Uint8Array, contentType = 'application/octet-stream'): Promise<StoredFile> {
    const cid = await contentId(bytes)
    // upsert: a coordinator that restarts mid-step writes the same deterministic bytes again.
    const { error } = await this.supabase.storage.from(ARTIFACTS_BUCKET).upload(path, bytes, { contentType, upsert: true })
    if (error) throw new Error(`Could not upload ${ARTIFACTS_BUCKET}/${path}: ${error.message}`)
    return { name: path.slice(path.lastIndexOf('/') + 1), path, cid, bytes: bytes.length, contentType }
  }

  /** Downloads `path` (relative to the bucket, or "artifacts/…") and, given a CID, checks the bytes against it. */
  async download(path: string, expectedCid?: string): Promise<Uint8Array> {
    const key = path.startsWith(`${ARTIFACTS_BUCKET}/`) ? path.slice(ARTIFACTS_BUCKET.length + 1) : path
    const { data, error } = await this.supabase.storage.from(ARTIFACTS_BUCKET).download(key)
    if (error || !data) throw new Error(`Could not download ${ARTIFACTS_BUCKET}/${key}: ${error?.message ?? 'no data'}`)
    const bytes = new Uint8Array(await data.arrayBuffer())
    if (expectedCid !== undefined) {
      const actual = await contentId(bytes)
      if (actual !== expectedCid) throw new ContentMismatchError(`${ARTIFACTS_BUCKET}/${key} has content id ${actual}, not the ${expectedCid} that was reported`)
    }
    return bytes
  }
}

export class ContentMismatchError extends Error {
  override name = 'ContentMismatchError'
}
