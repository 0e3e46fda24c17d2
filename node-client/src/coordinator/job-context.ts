import { parseJobSpec, planPrivacy, prepareJobData, type JobData, type JobSpec, type PrivacyPlan } from '@oblivion/model'
import type { SupabaseClient } from '@supabase/supabase-js'

/** What the coordinator knows about a job it drives: its spec, data (test set, shard sizes) and σ. */
export interface JobContext {
  jobId: string
  spec: JobSpec
  data: JobData
  privacy: PrivacyPlan | null
}

export interface JobRow {
  id: string
  owner_id: string
  spec: unknown
  status: string
  rounds: number
  shards: number
  current_round: number
  privacy_delta: number | null
  /** The chain holding the job's escrow; null for a job funded without one. */
  chain_id: number | null
}

/** Prepared once per job and kept while the coordinator drives it (MNIST: ~0.5 s to prepare). */
export class JobContexts {
  private readonly contexts = new Map<string, Promise<JobContext>>()

  constructor(private readonly supabase: SupabaseClient) {}

  get(job: JobRow): Promise<JobContext> {
    let context = this.contexts.get(job.id)
    if (!context) {
      context = this.prepare(job)
      context.catch(() => this.contexts.delete(job.id))
      this.contexts.set(job.id, context)
    }
    return context
  }

  forget(jobId: string): void {
    this.contexts.delete(jobId)
  }

  private async prepare(job: JobRow): Promise<JobContext> {
    const spec = parseJobSpec(job.spec)
    const data = await prepareJobData(spec, job.id, {
      readObject: async (bucket, path) => {
        const { data: blob, error } = await this.supabase.storage.from(bucket).download(path)
        if (error || !blob) throw new Error(`Could not download the data set ${bucket}/${path}: ${error?.message ?? 'no data'}`)
        return new Uint8Array(await blob.arrayBuffer())
      },
    })
    return { jobId: job.id, spec, data, privacy: planPrivacy(spec, data.shardSizes) }
  }
}
