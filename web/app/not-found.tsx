import Link from 'next/link'

export default function NotFound() {
  return (
    <section className="panel" data-testid="not-found">
      <h1>Page not found</h1>
      <p>Nothing lives at this address. A job link looks like /jobs/ followed by the job’s id (a uuid).</p>
      <p>
        Go to <Link href="/">the dashboard</Link> or <Link href="/jobs/new">create a job</Link>.
      </p>
    </section>
  )
}
