import { releaseSnarkjs } from '@oblivion/model/zk/node'
import { listModel, type ListingEvent } from '../../marketplace/list-model.ts'
import { openMarketSession } from '../../marketplace/market-session.ts'
import type { WalletCommandOptions } from '../chain-session.ts'
import { EXIT, type ExitCode } from '../cli-error.ts'
import { connectAsUser, disconnect, JOB_PROFILE } from '../connection.ts'
import { coins, percent } from '../render/format.ts'
import { moneyOutput } from '../render/money-renderer.ts'

export interface ModelListOptions extends WalletCommandOptions {
  modelId: string
  priceWei: bigint
  setupTimeoutSeconds: number
}

/** The sentence for one listing step (a terminal); --json prints the event itself. */
function describe(event: ListingEvent): string {
  switch (event.type) {
    case 'model-loaded':
      return `model ${event.modelId}: ${event.shape.join('-')} MLP from job ${event.jobId}, ${event.testRows} held-out rows`
    case 'circuit-built':
      return `circuit compiled: ${event.constraints} constraints, scale 2^${event.fracBits}, accuracy ${percent(event.quantizedAccuracy)} quantized vs ${percent(event.floatAccuracy)} float`
    case 'setup-requested':
      return `asked the network to contribute to the trusted setup (setup ${event.setupId}); waiting for the coordinator…`
    case 'setup-waiting':
      return `setup ${event.setupId}: ${event.status.replace(/_/g, ' ')}`
    case 'setup-ready':
      return `the network contributed (hash ${event.contributionHash.slice(0, 16)}…) and sealed the setup with block ${event.beaconBlock}`
    case 'setup-verified':
      return `the final proving key verifies against this model's circuit (${event.verifyMs} ms); artifacts in ${event.dir} (private/ never leaves this machine)`
    case 'model-listed':
      return `listed: chain model ${event.chainModelId} at ${coins(BigInt(event.priceWei))} per inference (tx ${event.txHash})`
  }
}

/**
 * `oblivion model list <model-id> --price <coin>`: the owner builds the model's circuit here, the
 * network's coordinator contributes to its setup, the owner verifies it, lists the verification key
 * on the InferenceMarket and records the listing (marketplace/list-model.ts).
 */
export async function runModelListCommand(options: ModelListOptions): Promise<ExitCode> {
  const out = moneyOutput(options.json)
  const session = await openMarketSession(options.home, options)
  const { supabase } = await connectAsUser(options, { profile: JOB_PROFILE }).catch((error: unknown) => {
    session.close()
    throw error
  })
  // On a terminal, a ticking line while the network contributes (seconds to minutes).
  let ticker: NodeJS.Timeout | null = null
  const stopTicker = () => {
    if (!ticker) return
    clearInterval(ticker)
    ticker = null
    process.stdout.write('\r\x1b[K')
  }
  try {
    await listModel({
      supabase,
      session,
      home: options.home,
      modelId: options.modelId,
      priceWei: options.priceWei,
      setupTimeoutMs: options.setupTimeoutSeconds * 1000,
      onEvent: (event) => {
        if (event.type === 'setup-waiting' && event.status === 'awaiting_contribution') return
        stopTicker()
        const { type, ...fields } = event
        out.emit(type, { ...fields, chainId: session.target.chain.chainId, market: session.target.address }, describe(event))
        if (event.type === 'setup-requested' && !options.json && process.stdout.isTTY) {
          const started = Date.now()
          ticker = setInterval(() => process.stdout.write(`\r\x1b[K  waiting for the coordinator's contribution… ${Math.round((Date.now() - started) / 1000)} s`), 1000)
        }
      },
    })
    return EXIT.ok
  } finally {
    stopTicker()
    session.close()
    await disconnect(supabase)
    await releaseSnarkjs()
  }
}
