import type { Metadata } from 'next'
import { notFound } from 'next/navigation'
import { JobView } from '../../../components/job/job-view.tsx'

export const metadata: Metadata = { title: 'Job · Oblivion' }

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/**
 * /jobs/<id>: the job is read in the browser with the user's session (RLS shows it to its
 * creator), so the server only refuses what cannot be a job id (a 404 page).
 */
export default async function JobPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<{ created?: string }> }) {
  const { id } = await params
  const jobId = id.toLowerCase()
  if (!UUID.test(jobId)) notFound()
  const { created } = await searchParams
  return <JobView jobId={jobId} created={created === '1'} />
}
