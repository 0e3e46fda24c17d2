'use client'
import Link from 'next/link'

/** Anything a page did not expect: say so, offer a retry. */
export default function PageError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <section className="error" role="alert" data-testid="page-error">
      <strong>This page hit an unexpected problem: {error.message || 'unknown error'}.</strong> Try again; if it keeps happening, reload the page or go back to{' '}
      <Link href="/">the dashboard</Link>.{' '}
      <button type="button" className="link" onClick={reset}>
        Try again
      </button>
    </section>
  )
}
