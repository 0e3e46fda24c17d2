'use client'
import type { ReactNode } from 'react'
import type { BuyStage } from '../../lib/marketplace/inference-verdict.ts'

export type FlowStage = 'checking' | BuyStage

const ORDER = ['pay', 'record', 'prove', 'verify'] as const
type Step = (typeof ORDER)[number]

/** Which step a stage is at, and whether it stopped there. */
function position(stage: FlowStage): { at: Step | 'done'; stopped: boolean } {
  switch (stage) {
    case 'checking':
    case 'paying':
      return { at: 'pay', stopped: false }
    case 'recording':
      return { at: 'record', stopped: false }
    case 'waiting':
      return { at: 'prove', stopped: false }
    case 'failed':
    case 'expired':
    case 'refunded':
      return { at: 'prove', stopped: true }
    case 'verifying':
      return { at: 'verify', stopped: false }
    case 'rejected':
      return { at: 'verify', stopped: true }
    case 'verified':
      return { at: 'done', stopped: false }
  }
}

/** The purchase as four steps: paid → recorded → the owner's proof → verified (here and on chain). */
export function BuySteps({ stage, details = {} }: { stage: FlowStage; details?: Partial<Record<Step, ReactNode>> }) {
  const { at, stopped } = position(stage)
  const labels: Record<Step, string> = {
    pay: stage === 'checking' ? 'Checking the model on chain' : 'Pay on chain (requestInference)',
    record: 'Send your input to the owner',
    prove: stage === 'failed' ? 'The owner could not answer' : stage === 'expired' ? 'The owner did not answer in time' : stage === 'refunded' ? 'Refunded' : 'Waiting for the owner’s proof',
    verify: stage === 'rejected' ? 'The proof did not verify' : 'Verify the proof (browser + chain)',
  }
  const index = at === 'done' ? ORDER.length : ORDER.indexOf(at)
  return (
    <ol className="buy-steps" data-testid="buy-steps" data-stage={stage}>
      {ORDER.map((step, i) => {
        const state = i < index ? 'done' : i === index ? (stopped ? 'stopped' : 'active') : 'todo'
        return (
          <li key={step} className={`step ${state}`} data-testid={`buy-step-${step}`} data-state={state}>
            <span className="step-mark" aria-hidden>
              {state === 'done' ? '✓' : state === 'stopped' ? '!' : i + 1}
            </span>
            <div>
              <div className="step-label">{labels[step]}</div>
              {details[step] && <div className="step-detail">{details[step]}</div>}
            </div>
          </li>
        )
      })}
    </ol>
  )
}
