/**
 * Two-step stopping, as graphile-worker does it: the first SIGINT/SIGTERM asks for a clean stop,
 * the second one forces. Any further signal exits at once (a forced stop that hangs on a dead
 * network must not trap the operator).
 */
export interface StopSteps {
  first(signal: NodeJS.Signals): void
  second(signal: NodeJS.Signals): void
}

export function onStopSignals(steps: StopSteps, exitNow: () => never): () => void {
  let received = 0
  const handler = (signal: NodeJS.Signals) => {
    received += 1
    if (received === 1) steps.first(signal)
    else if (received === 2) steps.second(signal)
    else exitNow()
  }
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
  return () => {
    process.off('SIGINT', handler)
    process.off('SIGTERM', handler)
  }
}
