import Link from 'next/link'
import { MyJobs } from '../components/my-jobs.tsx'
import { NetworkNumbers } from '../components/network-numbers.tsx'

export default function DashboardPage() {
  return (
    <>
      <h1>Network</h1>
      <NetworkNumbers />
      <section className="panel your-jobs" data-testid="your-jobs">
        <header className="panel-header">
          <h2>Your jobs</h2>
          <Link href="/jobs/new" className="button" data-testid="new-job-link">
            Create a job
          </Link>
        </header>
        <MyJobs />
      </section>
    </>
  )
}
