import type { Metadata } from 'next'
import { JobForm } from '../../../components/job-form/job-form.tsx'

export const metadata: Metadata = { title: 'Create a job · Oblivion' }

export default function CreateJobPage() {
  return (
    <>
      <h1>Create a training job</h1>
      <p className="muted">
        Workers train your model on shards of the data with differential privacy; the reward is held in escrow and paid per accepted shard when the job is settled.
      </p>
      <JobForm />
    </>
  )
}
