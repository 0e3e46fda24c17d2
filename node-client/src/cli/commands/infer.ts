import { releaseSnarkjs } from '@oblivion/model/zk/node'
import { buyInference, findListedModel, refundInference } from '../../marketplace/buy-inference.ts'
import { argmax } from '../../marketplace/float-answer.ts'
import { commitFeatures, fileFeatures, testRowFeatures, type InferenceInput } from '../../marketplace/inference-input.ts'
import { openMarketSession } from '../../marketplace/market-session.ts'
import type { WalletCommandOptions } from '../chain-session.ts'
import { CliError, EXIT, usageError, type ExitCode } from '../cli-error.ts'
import { connectAsUser, disconnect } from '../connection.ts'
import { coins } from '../render/format.ts'
import { moneyOutput } from '../render/money-renderer.ts'

export interface InferOptions extends WalletCommandOptions {
  modelId: string
  testRow?: number | undefined
  input?: string | undefined
  /** The stored identity that submits the request (credentials/<profile>.json). */
  profile: string
}

/** The buyer's default identity: not the job commands' `cli`, so one machine can both sell and buy. */
export const BUYER_PROFILE = 'buyer'

/**
 * `oblivion infer <model-id> (--test-row N | --input file.json)`: pays for one inference, waits
 * for the owner's answer, checks its proof off chain and the chain's verdict. Exit 0 only when
 * both hold.
 */
export async function runInferCommand(options: InferOptions): Promise<ExitCode> {
  if ((options.testRow === undefined) === (options.input === undefined)) throw usageError('give the input with exactly one of --test-row <n> or --input <file.json>')
  const out = moneyOutput(options.json)
  const session = await openMarketSession(options.home, options)
  const { supabase } = await connectAsUser(options, { profile: options.profile }).catch((error: unknown) => {
    session.close()
    throw error
  })
  try {
    const model = await findListedModel(supabase, options.modelId)
    let input: InferenceInput
    if (options.testRow !== undefined) {
      const row = await testRowFeatures(model.manifest, options.testRow)
      input = { ...commitFeatures(model.manifest, row.features, row.source), label: row.label }
    } else {
      input = commitFeatures(model.manifest, await fileFeatures(options.input!), options.input!)
    }
    const verdict = await buyInference({
      supabase,
      session,
      model,
      input,
      onEvent: (event) => {
        if (event.type === 'inference-requested') {
          out.emit(event.type, { modelId: model.id, ...event }, `paid ${coins(BigInt(event.priceWei))} for request ${event.requestId} (chain request ${event.chainRequestId}, tx ${event.txHash}); waiting for the owner's proof until ${event.deadline}…`)
        }
      },
    })
    const { output } = verdict
    const names = model.manifest.classNames
    const className = (i: number) => (names?.[i] !== undefined && names[i] !== String(i) ? `${i} (${names[i]})` : String(i))
    const ok = verdict.proofVerified && verdict.chainVerified
    out.emit(
      'inference-result',
      {
        modelId: model.id,
        requestId: verdict.row.id,
        chainRequestId: verdict.row.chain_request_id,
        input: input.source,
        ...(input.label !== undefined ? { label: input.label } : {}),
        predicted: output.predicted,
        floatPredicted: output.floatPredicted ?? argmax(output.probabilities),
        probabilities: output.probabilities,
        proofVerified: verdict.proofVerified,
        chainVerified: verdict.chainVerified,
        fulfilTxHash: verdict.row.fulfil_tx_hash,
        problems: verdict.problems,
      },
      [
        `predicted class ${className(output.predicted)} for ${input.source}${input.label !== undefined ? ` (label ${input.label})` : ''}`,
        `  probabilities (float model): ${output.probabilities.map((p, i) => `${i}: ${p.toFixed(3)}`).join('  ')}`,
        `  proof: ${verdict.proofVerified ? 'verified off chain' : 'DOES NOT VERIFY off chain'}; chain: ${verdict.chainVerified ? 'request fulfilled with this answer' : 'DOES NOT AGREE'} (tx ${verdict.row.fulfil_tx_hash})`,
      ].join('\n'),
    )
    if (!ok) {
      throw new CliError('CLI_PROOF_INVALID', `the answer to request ${verdict.row.id} is not proved: ${verdict.problems.join('; ')}`, {
        hint: 'do not trust this answer; report the model',
      })
    }
    return EXIT.ok
  } finally {
    session.close()
    await disconnect(supabase)
    // snarkjs' bn128 worker threads keep Node alive (shared/notes/zk.md pitfall 3).
    await releaseSnarkjs()
  }
}

/** `oblivion infer refund <request-id>`: the price of an unanswered request back, after its deadline. */
export async function runInferRefundCommand(options: WalletCommandOptions & { requestId: string; profile: string }): Promise<ExitCode> {
  const out = moneyOutput(options.json)
  const session = await openMarketSession(options.home, options)
  const { supabase } = await connectAsUser(options, { profile: options.profile }).catch((error: unknown) => {
    session.close()
    throw error
  })
  try {
    const { txHash, amountWei } = await refundInference({ supabase, session, requestId: options.requestId })
    out.emit('inference-refunded', { requestId: options.requestId, amountWei, txHash, address: session.address }, `refunded ${coins(BigInt(amountWei))} to ${session.address} (tx ${txHash})`)
    return EXIT.ok
  } finally {
    session.close()
    await disconnect(supabase)
  }
}
