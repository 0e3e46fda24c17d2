import os from 'node:os'
import { startWorker, type WorkerEvent, type WorkerHandle } from '../../worker-core/index.ts'
import { walletChosen, type WalletChoice } from '../chain-connection.ts'
import { openChainSession } from '../chain-session.ts'
import { EXIT, type ExitCode } from '../cli-error.ts'
import { connectAsUser, disconnect, type WalletSignIn } from '../connection.ts'
import { credentialsFile } from '../credential-store.ts'
import type { GlobalOptions } from '../global-options.ts'
import { createWorkerRenderer } from '../render/worker-renderer.ts'
import { onStopSignals } from './stop-signals.ts'

export type TrainingBackend = 'wasm' | 'cpu'

export interface WorkerCommandOptions extends GlobalOptions, WalletChoice {
  name: string
  maxConcurrency: number
  leaseSeconds: number
  pollSeconds: number
  backend: TrainingBackend
}

/**
 * The wallet the worker is paid at (--dev-account, --keystore, OBLIVION_PRIVATE_KEY), which its
 * identity signs in with: the network pays and stakes a worker only at a wallet its owner proved
 * to hold (register_worker). Null without one. Nothing is sent on chain (chain.json is only read;
 * an OBLIVION_RPC_URL is asked its chain id).
 */
async function resolvePayoutWallet(options: WorkerCommandOptions): Promise<WalletSignIn | null> {
  if (!walletChosen(options)) return null
  const session = await openChainSession(options.home, options)
  session.close()
  const { wallet } = session
  return { address: session.address, chainId: session.target.chainId, signMessage: (message) => wallet.signMessage(message) }
}

/** What the worker tells the network about itself (workers.capabilities, at most 4 KiB). */
function capabilities(backend: TrainingBackend): Record<string, unknown> {
  return {
    client: 'oblivion-cli',
    backend,
    cores: os.availableParallelism(),
    memoryMiB: Math.round(os.totalmem() / 2 ** 20),
    platform: `${process.platform}-${process.arch}`,
    node: process.versions.node,
  }
}

/** Tasks claimed and not yet delivered, failed, dropped or released. */
function runningTaskCounter() {
  const running = new Set<number>()
  return {
    observe(event: WorkerEvent) {
      if (event.type === 'claimed') running.add(event.task.taskId)
      else if (event.type === 'completed' || event.type === 'failed' || event.type === 'dropped') running.delete(event.taskId)
      else if (event.type === 'released') for (const id of event.taskIds) running.delete(id)
    },
    get size() {
      return running.size
    },
  }
}

/**
 * `oblivion worker`: signs in as the worker's own identity (profile = worker name), starts the
 * shared worker core and renders its events until stopped. Ctrl-C once drains (running tasks
 * finish and are delivered); twice releases them (given back with a reason) and exits 130.
 */
export async function runWorkerCommand(options: WorkerCommandOptions): Promise<ExitCode> {
  const wallet = await resolvePayoutWallet(options)
  const payoutAddress = wallet?.address.toLowerCase() ?? null
  const renderer = createWorkerRenderer({ json: options.json })
  if (payoutAddress === null) {
    renderer.notice(
      'no payout address: this worker trains local jobs only; chain-funded jobs need the wallet it is paid at (--dev-account, --keystore or OBLIVION_PRIVATE_KEY) and a bond (`oblivion worker bond <amount>`)',
    )
  }
  const { supabase, userId, newIdentity } = await connectAsUser(options, {
    profile: options.name,
    onNotice: (m) => renderer.notice(m),
    ...(wallet ? { wallet } : {}),
  })
  if (newIdentity) {
    renderer.notice(`new identity ${userId}${wallet ? ` (signed in with ${wallet.address})` : ''} for worker ${options.name}, kept in ${credentialsFile(options.home, options.name)}`)
  }

  const running = runningTaskCounter()
  let handle: WorkerHandle
  try {
    handle = await startWorker({
      supabase,
      name: options.name,
      kind: 'cli',
      maxConcurrency: options.maxConcurrency,
      leaseSeconds: options.leaseSeconds,
      pollIntervalMs: Math.round(options.pollSeconds * 1000),
      capabilities: capabilities(options.backend),
      payoutAddress,
      backend: options.backend,
      onEvent(event) {
        running.observe(event)
        renderer.onEvent(event)
      },
    })
  } catch (error) {
    renderer.close()
    await disconnect(supabase)
    throw error
  }

  let interrupted = false
  const stopListening = onStopSignals(
    {
      first() {
        renderer.notice(`draining ${running.size} running task(s); press Ctrl-C again to release them and exit`)
        handle.drain().catch((error: unknown) => renderer.notice(`drain failed: ${(error as Error).message}`))
      },
      second() {
        interrupted = true
        renderer.notice(`releasing ${running.size} running task(s); press Ctrl-C once more to exit without waiting`)
        handle
          .release('worker stopped by its operator (second Ctrl-C)')
          .catch((error: unknown) => renderer.notice(`release failed: ${(error as Error).message}`))
      },
    },
    () => {
      renderer.close()
      process.exit(EXIT.interrupted)
    },
  )

  try {
    await handle.done
  } finally {
    stopListening()
    renderer.close()
    await disconnect(supabase)
  }
  return interrupted ? EXIT.interrupted : EXIT.ok
}
