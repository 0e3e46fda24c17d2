/**
 * measureMarketGas(): the gas of every InferenceMarket operation for one real statement (a model's
 * verification key and one proof of [output, inputCommitment]), from receipts on a fresh anvil run
 * as Shardeum runs (chain 8119, Istanbul gas rules, legacy transactions). Gas is deterministic, so
 * nothing is timed. `tests/market-gas.test.ts` runs it on the tiny test circuit; a `bench:zk` script
 * can run it on a real model's key and proof and print the JSON it returns.
 */
import { JsonRpcProvider, Network, id, type TransactionReceipt } from 'ethers'
import { deployInferenceMarket, type InferenceMarket } from '../bindings/InferenceMarket.ts'
import { LegacyWallet } from '../src/deploy/legacy-wallet.ts'
import {
  SNARK_SCALAR_FIELD,
  encodeProof,
  proofHash,
  verificationKeyBytes,
  type Groth16ProofJson,
  type Groth16VerificationKeyJson,
} from '../src/groth16/encoding.ts'
import { startAnvil } from '../src/local-chain/anvil.ts'
import { devAccounts } from '../src/local-chain/dev-accounts.ts'
import { buildProofAnchorTree } from '../src/market/proof-anchor-tree.ts'

export interface MarketGasInput {
  verificationKey: Groth16VerificationKeyJson
  proof: Groth16ProofJson
  /** As snarkjs returns them: [output, inputCommitment]. */
  publicSignals: readonly (string | bigint)[]
  /** Leaves per anchored batch (default 64, the target batch). */
  anchorBatch?: number
}

/** Plain numbers (gas units), ready for JSON. */
export interface MarketGasReport {
  chain: { chainId: number; hardfork: 'istanbul' }
  deploy: number
  listModel: number
  requestInference: number
  /** The whole fulfil transaction: verification, bookkeeping, the payment to the owner. */
  fulfil: number
  /**
   * verifyInference (a view) sent as a transaction: what verification alone costs (21k base,
   * calldata, key read, field checks, precompiles), from its receipt.
   */
  verifyInference: number
  refund: number
  anchorBatch: number
  anchorProofs: number
  anchorPerInference: number
  isAnchoredEstimate: number
  targets: { maxOnChainVerification: number; maxAnchoredPerInference: number }
}

/** The budgets (issue 7): on-chain verification ≤ 230k gas; anchored ≤ 30k per inference at 64 per batch. */
export const MARKET_GAS_TARGETS = { maxOnChainVerification: 230_000, maxAnchoredPerInference: 30_000 } as const

const PRICE = 10n ** 16n
const REQUEST_TIMEOUT = 3_600n

export async function measureMarketGas(input: MarketGasInput): Promise<MarketGasReport> {
  const [output, inputCommitment] = input.publicSignals.map((s) => BigInt(s))
  if (input.publicSignals.length !== 2 || output === undefined || inputCommitment === undefined) {
    throw new Error(`measureMarketGas: publicSignals must be [output, inputCommitment], got ${input.publicSignals.length} signals (the market's statement has exactly 2)`)
  }
  const batch = input.anchorBatch ?? 64
  const anvil = await startAnvil({ port: 0 })
  const provider = new JsonRpcProvider(anvil.url, undefined, { staticNetwork: Network.from(8119), cacheTimeout: -1 })
  try {
    const [ownerKey, buyerKey] = devAccounts(2).map((a) => a.privateKey) as [string, string]
    const owner = new LegacyWallet(ownerKey, provider)
    const buyer = new LegacyWallet(buyerKey, provider)
    const market = await deployInferenceMarket(owner, REQUEST_TIMEOUT)
    const deployed = await market.deploymentTransaction()!.wait()
    const asBuyer = market.connect(buyer) as InferenceMarket
    const words = encodeProof(input.proof)

    const listed = await mined(market.listModel(verificationKeyBytes(input.verificationKey), PRICE, id('model card')))
    const modelId = await market.modelCount()
    const requested = await mined(asBuyer.requestInference(modelId, inputCommitment, { value: PRICE }))
    const requestId = await market.requestCount()
    if (!(await market.verifyInference(modelId, inputCommitment, output, words))) {
      throw new Error('measureMarketGas: the proof does not verify on chain under the key (check publicSignals are [output, inputCommitment] of this proof)')
    }
    // eth_estimateGas cannot measure the view: with too little gas a precompile fails, verify returns
    // false instead of reverting, and the estimate (~60k) is the gas of that early false. So send it
    // as a transaction with a fixed limit (gasUsed is what verification consumes), having checked
    // with an eth_call under the same limit that it returns true there.
    const verifyGasLimit = 1_000_000n
    if (!(await market.verifyInference(modelId, inputCommitment, output, words, { gasLimit: verifyGasLimit }))) {
      throw new Error(`measureMarketGas: verifyInference is false with ${verifyGasLimit} gas`)
    }
    const verified = await mined(market.verifyInference.send(modelId, inputCommitment, output, words, { gasLimit: verifyGasLimit }))
    const fulfilled = await mined(market.fulfil(requestId, output, words))

    // A second request on another commitment, left to time out: the refund path.
    await mined(asBuyer.requestInference(modelId, (inputCommitment + 1n) % SNARK_SCALAR_FIELD, { value: PRICE }))
    await provider.send('evm_increaseTime', [Number(REQUEST_TIMEOUT) + 1])
    const refunded = await mined(asBuyer.refund(await market.requestCount()))

    // The real proof's leaf plus batch - 1 leaves that differ in the commitment.
    const leaves = Array.from({ length: batch }, (_, i) => ({
      modelId,
      inputCommitment: (inputCommitment + BigInt(i)) % SNARK_SCALAR_FIELD,
      output,
      proofHash: i === 0 ? proofHash(words) : id(`proof ${i}`),
    }))
    const tree = buildProofAnchorTree(leaves)
    const anchored = await mined(market.anchorProofs(modelId, tree.root, tree.count))
    const anchorId = await market.anchorCount()
    const leaf = leaves[0]!
    const isAnchoredArgs = [anchorId, modelId, leaf.inputCommitment, leaf.output, leaf.proofHash, tree.proofs[0]!] as const
    if (!(await market.isAnchored(...isAnchoredArgs))) throw new Error('measureMarketGas: the anchored leaf does not verify (tree and contract disagree)')

    return {
      chain: { chainId: 8119, hardfork: 'istanbul' },
      deploy: Number(deployed!.gasUsed),
      listModel: Number(listed.gasUsed),
      requestInference: Number(requested.gasUsed),
      fulfil: Number(fulfilled.gasUsed),
      verifyInference: Number(verified.gasUsed),
      refund: Number(refunded.gasUsed),
      anchorBatch: batch,
      anchorProofs: Number(anchored.gasUsed),
      anchorPerInference: Math.ceil(Number(anchored.gasUsed) / batch),
      isAnchoredEstimate: Number(await market.isAnchored.estimateGas(...isAnchoredArgs)),
      targets: { ...MARKET_GAS_TARGETS },
    }
  } finally {
    provider.destroy()
    await anvil.stop()
  }
}

async function mined(tx: Promise<{ wait(): Promise<TransactionReceipt | null> }>): Promise<TransactionReceipt> {
  const receipt = await (await tx).wait()
  if (!receipt || receipt.status !== 1) throw new Error(`measureMarketGas: a transaction failed: ${JSON.stringify(receipt)}`)
  return receipt
}

