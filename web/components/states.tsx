'use client'
import type { ReactNode } from 'react'
import type { Problem } from '../lib/errors/request-problem.ts'

/** The three states every panel has besides its content: loading, empty, and a problem. */

export function Loading({ children, testId }: { children: ReactNode; testId?: string }) {
  return (
    <p className="skeleton" role="status" aria-live="polite" data-testid={testId ?? 'loading'}>
      {children}
    </p>
  )
}

export function Empty({ children, testId }: { children: ReactNode; testId?: string }) {
  return (
    <div className="notice empty" data-testid={testId ?? 'empty'}>
      {children}
    </div>
  )
}

/** A problem with its next step, and a retry when one makes sense. */
export function ProblemBox({ problem, onRetry, testId, children }: { problem: Problem; onRetry?: () => void; testId?: string; children?: ReactNode }) {
  return (
    <div className="error" role="alert" data-testid={testId ?? 'problem'} data-code={problem.code}>
      <strong>{problem.message}</strong> {problem.next}
      {children}
      {onRetry && (
        <>
          {' '}
          <button type="button" className="link" onClick={onRetry} data-testid={`${testId ?? 'problem'}-retry`}>
            Retry
          </button>
        </>
      )}
    </div>
  )
}
