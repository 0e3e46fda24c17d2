import { readFile, writeFile } from 'node:fs/promises'
import { createProver, loadZkModel, releaseSnarkjs } from '@oblivion/model/zk/node'
import { loadFloatModel } from '../../marketplace/float-answer.ts'
import { openMarketSession, readMarket } from '../../marketplace/market-session.ts'
import { downloadOnnx, readOwnModel } from '../../marketplace/owned-model.ts'
import { startServing, type ServeEvent } from '../../marketplace/serve-loop.ts'
import { onnxFileOf, zkModelHome } from '../../marketplace/zk-model-home.ts'
import type { WalletCommandOptions } from '../chain-session.ts'
import { CliError, EXIT, type ExitCode } from '../cli-error.ts'
import { connectAsUser, disconnect, JOB_PROFILE } from '../connection.ts'
import { clock } from '../render/format.ts'
import { jsonLog } from '../render/json-log.ts'
import { onStopSignals } from './stop-signals.ts'

export interface ServeOptions extends WalletCommandOptions {
  modelId: string
  pollSeconds: number
}

function describe(event: ServeEvent): string {
  switch (event.type) {
    case 'serving':
      return `serving model ${event.modelId} (chain model ${event.chainModelId} on market ${event.market}) as ${event.owner}; Ctrl-C to stop`
    case 'inference-fulfilled':
      return `request ${event.requestId}: class ${event.predicted}${event.floatPredicted === event.predicted ? '' : ` (float model: ${event.floatPredicted})`}, proved in ${event.proveMs} ms, fulfilled in ${event.fulfilMs} ms (tx ${event.txHash})`
    case 'inference-refused':
      return `request ${event.requestId}: refused (${event.reason})`
    case 'warning':
      return `warning: ${event.message}`
  }
}

/**
 * `oblivion serve <model-id>`: the model's owner answers its paid requests with proofs until
 * stopped. The proving artifacts stay in <home>/zk-models/<model-id>/private/. Ctrl-C once
 * finishes the request in progress and exits 0; twice exits at once (130).
 */
export async function runServeCommand(options: ServeOptions): Promise<ExitCode> {
  const log = options.json ? jsonLog() : null
  const emit = (event: ServeEvent) => {
    const { type, ...fields } = event
    if (log) log.write(type, fields)
    else process.stdout.write(`${clock()} ${describe(event)}\n`)
  }
  const dir = zkModelHome(options.home, options.modelId)
  const zkModel = await loadZkModel(dir).catch((error: unknown) => {
    throw new CliError('CLI_NO_ARTIFACTS', `no marketplace artifacts for model ${options.modelId} in ${dir}: ${(error as Error).message}`, {
      hint: `list it first with \`oblivion model list ${options.modelId} --price <coin>\` from this machine (same --home)`,
    })
  })
  if (!zkModel.model) throw new CliError('CLI_NO_ARTIFACTS', `${dir} has no private/ folder: only the owner's copy can prove`)
  const session = await openMarketSession(options.home, options)
  const { supabase } = await connectAsUser(options, { profile: JOB_PROFILE }).catch((error: unknown) => {
    session.close()
    throw error
  })
  try {
    const row = await readOwnModel(supabase, options.modelId)
    if (!row.listed || !row.chain_model_id || row.chain_id === null) {
      throw new CliError('CLI_NOT_LISTED', `model ${options.modelId} is not listed`, { hint: `list it with \`oblivion model list ${options.modelId} --price <coin>\`` })
    }
    if (row.chain_id !== session.target.chain.chainId) {
      throw new CliError('CLI_WRONG_CHAIN', `model ${options.modelId} is listed on chain ${row.chain_id}, not on chain ${session.target.chain.chainId} (${session.target.chain.source})`)
    }
    const chainModelId = BigInt(row.chain_model_id)
    const listed = await readMarket(session, 'reading the model', () => session.market.getModel(chainModelId))
    if (listed.owner.toLowerCase() !== session.address.toLowerCase()) {
      throw new CliError('NotModelOwner', `chain model ${chainModelId} belongs to ${listed.owner}, not to ${session.address}: fulfil would be refused`, {
        hint: 'serve with the wallet that listed it (--dev-account, --keystore or OBLIVION_PRIVATE_KEY)',
      })
    }
    const onnxFile = onnxFileOf(dir)
    const onnx = await readFile(onnxFile).catch(async () => {
      const bytes = await downloadOnnx(supabase, row)
      await writeFile(onnxFile, bytes)
      return bytes
    })
    const floatModel = await loadFloatModel(onnx)
    const prover = await createProver(dir)
    const handle = startServing({
      supabase,
      session,
      zkModel,
      prover,
      floatModel,
      modelId: options.modelId,
      chainModelId,
      chainId: session.target.chain.chainId,
      pollIntervalMs: Math.round(options.pollSeconds * 1000),
      onEvent: emit,
    })
    emit({ type: 'serving', modelId: options.modelId, chainModelId: chainModelId.toString(), market: session.target.address, owner: session.address })
    const stopListening = onStopSignals(
      {
        first() {
          if (!log) process.stdout.write(`${clock()} stopping after the request in progress; press Ctrl-C again to exit now\n`)
          handle.stop().catch(() => {})
        },
        second() {
          process.exit(EXIT.interrupted)
        },
      },
      () => process.exit(EXIT.interrupted),
    )
    try {
      await handle.done
    } finally {
      stopListening()
      await prover.close()
      await floatModel.close()
    }
    if (log) log.write('stopped', {})
    return EXIT.ok
  } finally {
    session.close()
    await disconnect(supabase)
    await releaseSnarkjs()
  }
}
