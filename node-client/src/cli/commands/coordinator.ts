import { startCoordinator, type CoordinatorHandle } from '../../coordinator/index.ts'
import { LegacyWallet } from '@oblivion/contracts'
import type { CoordinatorChain } from '../../coordinator/index.ts'
import { chainProvider, loadWallet, settlementContract, walletChosen } from '../chain-connection.ts'
import { chainTarget, rpcUnreachable } from '../chain-session.ts'
import { CliError, EXIT, usageError, type ExitCode } from '../cli-error.ts'
import { connectAsService, disconnect } from '../connection.ts'
import type { GlobalOptions } from '../global-options.ts'
import { createCoordinatorRenderer } from '../render/coordinator-renderer.ts'
import { onStopSignals } from './stop-signals.ts'

export interface CoordinatorCommandOptions extends GlobalOptions {
  pollSeconds: number
  fundWithoutEscrow: boolean
  /** false: run without the settlement contract even if one is configured (--no-chain). */
  chain: boolean
  /** The validator's keystore on a real network (else OBLIVION_PRIVATE_KEY). */
  keystore?: string | undefined
}

/**
 * The settlement contract with the validator's key: on the local chain, chain.json's validator
 * (anvil account 1); elsewhere OBLIVION_PRIVATE_KEY or --keystore. Refuses a key that is not the
 * contract's validator before anything runs: every settle and slash would revert.
 */
async function connectChain(options: CoordinatorCommandOptions): Promise<CoordinatorChain | undefined> {
  if (!options.chain) return undefined
  const target = await chainTarget(options.home, false)
  if (!target) return undefined
  const provider = chainProvider(target)
  const wallet = target.local && !walletChosen({ keystore: options.keystore })
    ? new LegacyWallet(target.local.validator.privateKey, provider)
    : await loadWallet(target, provider, { keystore: options.keystore })
  const contract = settlementContract(target, wallet)
  let validator: string
  try {
    validator = await contract.validator()
  } catch (error) {
    provider.destroy()
    throw rpcUnreachable(target.rpcUrl, target.local !== null, error)
  }
  if (validator.toLowerCase() !== wallet.address.toLowerCase()) {
    provider.destroy()
    throw new CliError('CLI_NOT_VALIDATOR', `${wallet.address} is not the validator of ${target.settlement} (the validator is ${validator})`, {
      hint: "use the validator's key, or have the contract owner call setValidator",
    })
  }
  return {
    chainId: target.chainId,
    provider,
    contract,
    contractAddress: target.settlement,
    fromBlock: target.fromBlock,
    local: target.local !== null,
    pollIntervalMs: target.local ? 1_000 : 2_000,
  }
}

/**
 * `oblivion coordinator`: with the service_role key, funds jobs, opens rounds, aggregates and
 * publishes models (the coordinator module does the work; this renders it). Ctrl-C once stops
 * after the step in progress; twice exits at once (130).
 */
export async function runCoordinatorCommand(options: CoordinatorCommandOptions): Promise<ExitCode> {
  const renderer = createCoordinatorRenderer({ json: options.json })
  const chain = await connectChain(options)
  if (chain && options.fundWithoutEscrow) {
    chain.provider.destroy()
    // It would fund a job in the seconds between create_job and its JobFunded event, and the
    // escrow would then sit unused until its deadline.
    throw usageError(
      `--fund-without-escrow cannot run with the settlement contract of chain ${chain.chainId}: jobs waiting for their escrow would start unpaid`,
      'add --no-chain to run a network without the chain, or drop --fund-without-escrow',
    )
  }
  const supabase = await connectAsService(options)
  let handle: CoordinatorHandle
  try {
    handle = await startCoordinator({
      supabase,
      pollIntervalMs: Math.round(options.pollSeconds * 1000),
      fundWithoutEscrow: options.fundWithoutEscrow,
      ...(chain ? { chain } : {}),
      onEvent: (event) => renderer.onEvent(event),
    })
  } catch (error) {
    await disconnect(supabase)
    throw error
  }
  if (chain) {
    renderer.notice(`settling on chain ${chain.chainId}: contract ${chain.contractAddress}, validator ${(chain.contract.runner as LegacyWallet).address}`)
  } else {
    renderer.notice('no chain: jobs funded on chain are not started, nothing is settled (start the local chain with `npm start`, or set OBLIVION_RPC_URL)')
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
    chain?.provider.destroy()
  }
  return EXIT.ok
}
