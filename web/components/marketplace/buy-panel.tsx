'use client'
import { useEffect, useMemo, useState } from 'react'
import { readBalance } from '../../lib/chain/escrow.ts'
import { payForInference, readChainModel } from '../../lib/chain/market.ts'
import { TransactionProblem } from '../../lib/chain/settlement.ts'
import { usePublicConfig } from '../../lib/config-context.tsx'
import { requestProblem, type Problem } from '../../lib/errors/request-problem.ts'
import { coins } from '../../lib/format.ts'
import { commitFeatures, digitFeatures, isBlank, quantizeFeatures } from '../../lib/marketplace/digit-input.ts'
import type { MarketManifest, MarketModel } from '../../lib/marketplace/market-rows.ts'
import { useSupabase } from '../../lib/supabase-context.tsx'
import { useWallet } from '../../lib/wallet/wallet-context.tsx'
import { ChainHash } from '../chain-hash.tsx'
import { ProblemBox } from '../states.tsx'
import { useWalletStep, WalletGate } from '../wallet-gate.tsx'
import { BuySteps } from './buy-steps.tsx'
import { DigitCanvas } from './digit-canvas.tsx'
import { PixelImage } from './pixel-image.tsx'
import { TestDigitPicker } from './test-digit-picker.tsx'

/** A payment made on chain whose request the network has not recorded yet (kept across reloads). */
interface PaidRequest {
  chainRequestId: string
  txHash: string
  commitment: string
  pixels: number[]
  salt: string
  buyer: string
}

const unrecordedKey = (modelId: string) => `oblivion-unrecorded-inference:${modelId}`

function loadUnrecorded(modelId: string): PaidRequest | null {
  try {
    const text = window.localStorage.getItem(unrecordedKey(modelId))
    return text ? (JSON.parse(text) as PaidRequest) : null
  } catch {
    return null
  }
}

const problemOf = (error: unknown, what: string): Problem =>
  error instanceof TransactionProblem
    ? { message: error.message, next: error.next, code: error.rejected ? 'TX_REJECTED' : 'TX_FAILED' }
    : ((error as { problem?: Problem }).problem ?? requestProblem(what, error))

/**
 * Buying one inference: the input (a drawn digit or an MNIST test image) → its committed pixels
 * (preview) → on Buy: quantize, fresh salt, Poseidon commitment; the model checked on chain (active,
 * the listed key, the listed price) and the wallet's balance; requestInference paying the price
 * (legacy tx); submit_inference_request with the pixels and the salt (only the owner sees them).
 * A payment the network did not record is kept in localStorage and offered again.
 */
export function BuyPanel({ model, manifest, onRecorded }: { model: MarketModel; manifest: MarketManifest; onRecorded: (requestId: string) => void }) {
  const { chain } = usePublicConfig()
  const { supabase } = useSupabase()
  const wallet = useWallet()
  const walletStep = useWalletStep({ session: true, chain: true })
  const [mode, setMode] = useState<'draw' | 'pick'>('draw')
  const [drawn, setDrawn] = useState<Float32Array | null>(null)
  const [picked, setPicked] = useState<Float32Array | null>(null)
  const [clearKey, setClearKey] = useState(0)
  const [phase, setPhase] = useState<'idle' | 'checking' | 'paying' | 'recording'>('idle')
  const [problem, setProblem] = useState<Problem | null>(null)
  const [unrecorded, setUnrecorded] = useState<PaidRequest | null>(null)

  useEffect(() => setUnrecorded(loadUnrecorded(model.id)), [model.id])

  const digit = mode === 'draw' ? drawn : picked
  const features = useMemo(() => {
    if (!digit) return null
    try {
      return digitFeatures(digit, manifest.inputSize)
    } catch {
      return null
    }
  }, [digit, manifest.inputSize])
  const preview = useMemo(() => (features ? quantizeFeatures(manifest, features) : null), [features, manifest])
  const inputProblem = digit && !features ? `This model takes ${manifest.inputSize} inputs; the page can give it 784 (28×28) or 196 (14×14) pixels only.` : null
  const side = Math.round(Math.sqrt(manifest.inputSize))
  const maxPixel = 2 ** manifest.inputBits - 1

  const record = async (paid: PaidRequest) => {
    setPhase('recording')
    setProblem(null)
    try {
      const { data, error } = await supabase.rpc('submit_inference_request', {
        p_model_id: model.id,
        p_chain_request_id: paid.chainRequestId,
        p_input_commitment: paid.commitment,
        p_input: { pixels: paid.pixels, salt: paid.salt },
        p_buyer_address: paid.buyer,
        p_request_tx_hash: paid.txHash,
      })
      if (error) throw Object.assign(new Error(error.message), { problem: requestProblem(`You paid (request #${paid.chainRequestId}), but the network did not take your input`, error) })
      window.localStorage.removeItem(unrecordedKey(model.id))
      setUnrecorded(null)
      setPhase('idle')
      setClearKey((k) => k + 1)
      setPicked(null)
      onRecorded(String(data))
    } catch (error) {
      setUnrecorded(paid)
      setProblem(problemOf(error, 'Could not send your input'))
      setPhase('idle')
    }
  }

  const buy = async () => {
    if (!features || !chain || !wallet.wallet || !wallet.account) return
    setProblem(null)
    setPhase('checking')
    try {
      const committed = commitFeatures(manifest, features)
      const onChain = await readChainModel(chain, model.chain_model_id).catch((error: unknown) => {
        throw new TransactionProblem(`Could not read the model from ${chain.name}: ${(error as Error).message}`, 'Check that the chain is reachable, then buy again.', false)
      })
      if (!onChain.active) throw new TransactionProblem('The owner paused this model on chain: it takes no new requests.', 'Nothing was paid. Choose another model, or come back later.', false)
      if (onChain.verificationKeyHash !== model.verification_key_hash.toLowerCase()) {
        throw new TransactionProblem(
          `The market holds another verification key for model #${model.chain_model_id} (${onChain.verificationKeyHash}) than the listing (${model.verification_key_hash}).`,
          'Nothing was paid. Proofs checked against the listing’s key would not be the chain’s: do not buy from this listing.',
          false,
        )
      }
      if (onChain.priceWei !== BigInt(model.price_wei)) {
        throw new TransactionProblem(`The price on chain is ${coins(onChain.priceWei)}, not the listed ${coins(model.price_wei)}.`, 'Nothing was paid. Reload the page to see the current price.', false)
      }
      const balance = await readBalance(chain, wallet.account).catch(() => null)
      if (balance !== null && balance < onChain.priceWei) {
        throw new TransactionProblem(`Your wallet holds ${coins(balance)}; an inference costs ${coins(onChain.priceWei)} plus gas.`, 'Fund the wallet, then buy again.', false)
      }
      setPhase('paying')
      const paid = await payForInference(chain, wallet.wallet.provider, model.chain_model_id, committed.commitment, onChain.priceWei)
      const request: PaidRequest = {
        chainRequestId: paid.chainRequestId,
        txHash: paid.txHash,
        commitment: committed.commitment.toString(),
        pixels: committed.pixels,
        salt: committed.salt.toString(),
        buyer: wallet.account,
      }
      window.localStorage.setItem(unrecordedKey(model.id), JSON.stringify(request))
      await record(request)
    } catch (error) {
      setProblem(problemOf(error, 'Could not buy the inference'))
      setPhase('idle')
    }
  }

  const busy = phase !== 'idle'
  const canBuy = !!features && !isBlank(features) && !busy && walletStep === null && !!chain?.market && !unrecorded
  return (
    <section className="panel buy-panel" data-testid="buy-panel" data-phase={phase}>
      <h2>Buy an inference</h2>
      <div className="buy-grid">
        <div>
          <div className="tabs" role="tablist">
            <button type="button" role="tab" aria-selected={mode === 'draw'} className={mode === 'draw' ? 'tab active' : 'tab'} onClick={() => setMode('draw')} data-testid="input-mode-draw">
              Draw a digit
            </button>
            <button type="button" role="tab" aria-selected={mode === 'pick'} className={mode === 'pick' ? 'tab active' : 'tab'} onClick={() => setMode('pick')} data-testid="input-mode-pick">
              Pick a test image
            </button>
          </div>
          {mode === 'draw' ? (
            <div className="draw-area">
              <DigitCanvas onDigit={setDrawn} clearKey={clearKey} />
              <div className="actions">
                <button type="button" className="button secondary" onClick={() => setClearKey((k) => k + 1)} disabled={busy} data-testid="draw-clear">
                  Clear
                </button>
                <span className="hint">Draw one digit, large, with the mouse or a finger.</span>
              </div>
            </div>
          ) : (
            <TestDigitPicker selected={picked} onPick={setPicked} />
          )}
        </div>
        <div className="commit-preview" data-testid="input-preview" data-ready={preview !== null && features !== null && !isBlank(features)}>
          <h3>What you commit to</h3>
          {preview && features && !isBlank(features) ? (
            <>
              <PixelImage pixels={preview} max={maxPixel} size={168} label={`The ${side}×${side} input the model receives`} testId="input-preview-image" />
              <p className="hint">
                {side}×{side} = {manifest.inputSize} pixels{manifest.inputSize === 196 ? ' (your 28×28 digit, 2×2 averaged)' : ''}, each an integer 0–{maxPixel} (fixed point 2
                <sup>{manifest.fracBits}</sup>). On Buy, a fresh random salt is drawn and Poseidon(pixels, salt) goes on chain; only the model’s owner receives the pixels.
              </p>
            </>
          ) : (
            <p className="muted">{inputProblem ?? (mode === 'draw' ? 'Draw a digit to see the pixels the model will receive.' : 'Pick an image to see the pixels the model will receive.')}</p>
          )}
        </div>
      </div>

      {!chain?.market ? (
        <div className="notice" data-testid="buy-no-market">
          This network’s configuration names no InferenceMarket{chain ? ` on ${chain.name}` : ''}: nothing can be bought here. Start the network with{' '}
          <span className="mono">npm start</span> (it deploys the market).
        </div>
      ) : (
        <WalletGate needs={{ session: true, chain: true }} purpose="buy an inference" testId="buy-gate" />
      )}
      {unrecorded && (
        <div className="notice gate" data-testid="buy-unrecorded">
          <span>
            You paid for request #{unrecorded.chainRequestId} (<ChainHash value={unrecorded.txHash} />) but the network has not received your input yet.
          </span>
          <button type="button" className="button" onClick={() => void record(unrecorded)} disabled={busy || walletStep !== null} data-testid="buy-record-retry">
            {phase === 'recording' ? 'Sending…' : 'Send the input again'}
          </button>
        </div>
      )}
      <div className="actions">
        <button type="button" className="button buy" onClick={() => void buy()} disabled={!canBuy} data-testid="buy-inference">
          {phase === 'checking' ? 'Checking the model…' : phase === 'paying' ? 'Confirm in your wallet…' : phase === 'recording' ? 'Sending your input…' : `Buy for ${coins(model.price_wei)}`}
        </button>
        {busy && <BuySteps stage={phase} />}
      </div>
      {problem && <ProblemBox problem={problem} testId="buy-problem" />}
    </section>
  )
}
