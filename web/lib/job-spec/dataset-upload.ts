import type { SupabaseClient } from '@supabase/supabase-js'
import { contentId } from '@oblivion/model/content-id'
import type { Problem } from '../errors/request-problem.ts'
import { DATASET_BUCKET } from './csv-file.ts'

/**
 * Uploads the CSV to `datasets/<objectPath>`, as `oblivion job create --dataset` does: an object
 * already there with the same bytes is reused (creating a second job from one file works); one
 * with other bytes is not overwritten, since a job created earlier may still be training on it.
 * Returns null when the file is in place, else the problem.
 */
export async function uploadDataset(supabase: SupabaseClient, objectPath: string, bytes: Uint8Array): Promise<Problem | null> {
  const bucket = supabase.storage.from(DATASET_BUCKET)
  const { error } = await bucket.upload(objectPath, bytes, { contentType: 'text/csv', upsert: false })
  if (!error) return null
  const status = String((error as { statusCode?: string | number }).statusCode ?? '')
  if (status === '409' || /already exists|duplicate/i.test(error.message)) {
    const existing = await bucket.download(objectPath)
    if (existing.data && (await contentId(new Uint8Array(await existing.data.arrayBuffer()))) === (await contentId(bytes))) return null
    return {
      message: `You uploaded another file named ${objectPath.split('/').pop()} before, with other contents.`,
      next: 'Jobs created earlier may still read it: rename your file and choose it again.',
      code: 'DATASET_EXISTS',
    }
  }
  return { message: `Could not upload the data set: ${error.message}.`, next: 'Check that you are signed in, then try again.', code: 'DATASET_UPLOAD' }
}
