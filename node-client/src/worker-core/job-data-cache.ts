import { parseJobSpec, prepareJobData, type JobData, type JobSpec } from '@oblivion/model'
import type { SupabaseClient } from '@supabase/supabase-js'

/**
 * Prepared data per job, so a worker that trains several shards or rounds of one job loads and
 * splits the data set once (MNIST: ~0.5 s and ~60 MB of features). Keeps the two most recently
 * used jobs: a worker holds at most max_concurrency tasks, usually of one or two jobs.
 */
export class JobDataCache {
  private readonly entries = new Map<string, Promise<JobData>>()

  constructor(private readonly supabase: SupabaseClient, private readonly capacity = 2) {}

  get(jobId: string, rawSpec: unknown): { spec: JobSpec; data: Promise<JobData> } {
    const spec = parseJobSpec(rawSpec)
    let data = this.entries.get(jobId)
    if (!data) {
      data = prepareJobData(spec, jobId, { readObject: (bucket, path) => this.readObject(bucket, path) })
      data.catch(() => this.entries.delete(jobId))
    }
    this.entries.delete(jobId)
    this.entries.set(jobId, data)
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!)
    return { spec, data }
  }

  private async readObject(bucket: string, path: string): Promise<Uint8Array> {
    const { data, error } = await this.supabase.storage.from(bucket).download(path)
    if (error || !data) throw new Error(`Could not download the job's data set ${bucket}/${path}: ${error?.message ?? 'no data'}`)
    return new Uint8Array(await data.arrayBuffer())
  }
}
