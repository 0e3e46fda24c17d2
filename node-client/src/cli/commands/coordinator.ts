import { startCoordinator, type CoordinatorHandle } from '../../coordinator/index.ts'
import { EXIT, type ExitCode } from '../cli-error.ts'
import { connectAsService, disconnect } from '../connection.ts'
import type { GlobalOptions } from '../global-options.ts'
import { createCoordinatorRenderer } from '../render/coordinator-renderer.ts'
import { onStopSignals } from './stop-signals.ts'

export interface CoordinatorCommandOptions extends GlobalOptions {
  pollSeconds: number
  fundWithoutEscrow: boolean
}

/**
 * `oblivion coordinator`: with the service_role key, funds jobs, opens rounds, aggregates and
 * publishes models (the coordinator module does the work; this renders it). Ctrl-C once stops
 * after the step in progress; twice exits at once (130).
 */
export async function runCoordinatorCommand(options: CoordinatorCommandOptions): Promise<ExitCode> {
  const renderer = createCoordinatorRenderer({ json: options.json })
  const supabase = await connectAsService(options)
  let handle: CoordinatorHandle
  try {
    handle = await startCoordinator({
      supabase,
      pollIntervalMs: Math.round(options.pollSeconds * 1000),
      fundWithoutEscrow: options.fundWithoutEscrow,
      onEvent: (event) => renderer.onEvent(event),
    })
  } catch (error) {
    await disconnect(supabase)
    throw error
  }
  if (options.fundWithoutEscrow) renderer.notice('funding jobs without an escrow deposit (--fund-without-escrow): for local networks only')

  const stopListening = onStopSignals(
    {
      first() {
        renderer.notice('stopping after the current step; press Ctrl-C again to exit now')
        handle.stop().catch((error: unknown) => renderer.notice(`stop failed: ${(error as Error).message}`))
      },
      second() {
        renderer.notice('exiting without waiting for the current step')
        process.exit(EXIT.interrupted)
      },
    },
    () => process.exit(EXIT.interrupted),
  )
  try {
    await handle.done
  } finally {
    stopListening()
    await disconnect(supabase)
  }
  return EXIT.ok
}
