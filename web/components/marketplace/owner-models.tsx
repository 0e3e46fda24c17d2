'use client'
import { parseEther } from 'ethers'
import Link from 'next/link'
import { useState } from 'react'
import { setModelActive, setModelPrice } from '../../lib/chain/market.ts'
import { TransactionProblem } from '../../lib/chain/settlement.ts'
import { usePublicConfig } from '../../lib/config-context.tsx'
import { requestProblem, type Problem } from '../../lib/errors/request-problem.ts'
import { coins, shortId } from '../../lib/format.ts'
import { listModelCommand, type OwnedModel } from '../../lib/marketplace/market-rows.ts'
import type { Loaded } from '../../lib/marketplace/use-market-models.ts'
import { useSupabase } from '../../lib/supabase-context.tsx'
import { useWallet } from '../../lib/wallet/wallet-context.tsx'
import { ChainHash } from '../chain-hash.tsx'
import { Empty, Loading, ProblemBox } from '../states.tsx'
import { useWalletStep, WalletGate } from '../wallet-gate.tsx'

const problemOf = (error: unknown, what: string): Problem =>
  error instanceof TransactionProblem
    ? { message: error.message, next: error.next, code: error.rejected ? 'TX_REJECTED' : 'TX_FAILED' }
    : ((error as { problem?: Problem }).problem ?? requestProblem(what, error))

/** "Your models": each one's listing state, and for listed ones the owner's price and pause controls. */
export function OwnerModels({ view, reload, only }: { view: Loaded<OwnedModel[]>; reload: () => void; only?: string }) {
  if (view.state === 'loading') return <Loading testId="owner-models-loading">Loading your models…</Loading>
  if (view.state === 'error') return <ProblemBox problem={view.problem} onRetry={reload} testId="owner-models-error" />
  const models = only ? view.value.filter((m) => m.id === only) : view.value
  if (models.length === 0) {
    return (
      <Empty testId="owner-models-empty">
        You have no trained model yet. <Link href="/jobs/new">Create a job</Link>; its model appears here when training completes, ready to list.
      </Empty>
    )
  }
  return (
    <div className="owner-models" data-testid="owner-models">
      {models.map((model) => (
        <OwnerModelRow key={model.id} model={model} onChanged={reload} />
      ))}
    </div>
  )
}

function OwnerModelRow({ model, onChanged }: { model: OwnedModel; onChanged: () => void }) {
  const { chain } = usePublicConfig()
  const { supabase } = useSupabase()
  const wallet = useWallet()
  const chainStep = useWalletStep({ session: true, chain: true })
  const [price, setPrice] = useState(model.price_wei ? trimCoins(model.price_wei) : '0.01')
  const [busy, setBusy] = useState<'price' | 'active' | null>(null)
  const [problem, setProblem] = useState<Problem | null>(null)
  const [done, setDone] = useState<{ text: string; tx: string } | null>(null)
  const onChain = model.chain_model_id !== null
  const wrongAccount = onChain && model.owner_address !== null && wallet.account !== null && wallet.account !== model.owner_address.toLowerCase()

  const act = async (kind: 'price' | 'active') => {
    if (!chain || !wallet.wallet || !model.chain_model_id) return
    setProblem(null)
    setDone(null)
    let priceWei: bigint
    try {
      priceWei = kind === 'price' ? parseEther(price.trim()) : BigInt(model.price_wei ?? '0')
    } catch {
      setProblem({ message: `“${price}” is not an amount of coins.`, next: 'Type a price such as 0.01.', code: 'BAD_PRICE' })
      return
    }
    if (kind === 'price' && priceWei <= 0n) {
      setProblem({ message: 'The price must be more than 0.', next: 'Type a price such as 0.01; pause the model to stop selling instead.', code: 'BAD_PRICE' })
      return
    }
    setBusy(kind)
    try {
      const listed = kind === 'active' ? !model.listed : model.listed
      const tx = kind === 'price' ? await setModelPrice(chain, wallet.wallet.provider, model.chain_model_id, priceWei) : await setModelActive(chain, wallet.wallet.provider, model.chain_model_id, listed)
      // The database mirrors what the chain now says (marketplace_models() shows listed models only).
      const { error } = await supabase.rpc('set_model_listing', { p_model_id: model.id, p_listed: listed, p_price_wei: priceWei.toString() })
      if (error) throw Object.assign(new Error(error.message), { problem: requestProblem(`The chain took it (tx ${tx}) but the network did not record it`, error) })
      setDone({ text: kind === 'price' ? `New requests now pay ${coins(priceWei)}.` : listed ? 'Listed again: buyers can request inferences.' : 'Paused: no new requests; open ones can still be fulfilled or refunded.', tx })
      onChanged()
    } catch (error) {
      setProblem(problemOf(error, 'Could not change the listing'))
    } finally {
      setBusy(null)
    }
  }

  return (
    <section className="owner-model" data-testid={`owner-model-${model.id}`} data-listed={model.listed} data-on-chain={onChain}>
      <div className="owner-model-head">
        <div>
          <strong>{model.name}</strong> <span className="muted mono">{shortId(model.id)}</span>
        </div>
        <span className={`badge ${model.listed ? 'status-completed' : onChain ? 'status-created' : ''}`} data-testid="owner-model-state">
          {model.listed ? `listed · ${coins(model.price_wei ?? '0')}` : onChain ? 'paused' : 'not listed'}
        </span>
      </div>
      {!onChain ? (
        <div className="list-howto">
          <p>
            Listing builds the model’s circuit, asks the network for its setup contribution and proves every answer: it runs on your machine, with the CLI, which keeps
            the proving key and the witness program there (they contain the weights). Keep that machine serving (<span className="mono">oblivion serve {model.id}</span>) to
            answer buyers.
          </p>
          <pre className="command" data-testid="owner-list-command">
            {listModelCommand(model.id)}
          </pre>
        </div>
      ) : (
        <>
          <dl className="facts compact">
            <dt>On chain</dt>
            <dd>
              model #{model.chain_model_id} · owner <ChainHash value={model.owner_address ?? ''} kind="address" />
            </dd>
            {model.list_tx_hash && (
              <>
                <dt>Listed in</dt>
                <dd>
                  <ChainHash value={model.list_tx_hash} />
                </dd>
              </>
            )}
          </dl>
          {!chain?.market ? (
            <p className="muted">This network’s configuration names no InferenceMarket: the listing cannot be changed from here.</p>
          ) : (
            <>
              <WalletGate needs={{ session: true, chain: true }} purpose="change the listing" testId="owner-gate" />
              {wrongAccount && (
                <div className="notice gate" data-testid="owner-wrong-account">
                  The model was listed from <span className="mono">{model.owner_address}</span>; your wallet is on <span className="mono">{wallet.account}</span>. Switch to
                  that account in your wallet to change it.
                </div>
              )}
              <div className="actions">
                <label className="inline" htmlFor={`price-${model.id}`}>
                  Price (SHM)
                  <input id={`price-${model.id}`} className="short" value={price} onChange={(e) => setPrice(e.target.value)} data-testid="owner-price" />
                </label>
                <button type="button" className="button" onClick={() => void act('price')} disabled={busy !== null || chainStep !== null || wrongAccount} data-testid="owner-set-price">
                  {busy === 'price' ? 'Confirm in your wallet…' : 'Change price'}
                </button>
                <button type="button" className="button secondary" onClick={() => void act('active')} disabled={busy !== null || chainStep !== null || wrongAccount} data-testid="owner-toggle-listing">
                  {busy === 'active' ? 'Confirm in your wallet…' : model.listed ? 'Pause (deactivate)' : 'List again'}
                </button>
              </div>
            </>
          )}
        </>
      )}
      {done && (
        <div className="notice ok" role="status" data-testid="owner-done">
          {done.text} Transaction <ChainHash value={done.tx} testId="owner-tx" />.
        </div>
      )}
      {problem && <ProblemBox problem={problem} testId="owner-problem" />}
    </section>
  )
}

/** Wei → the coins as typed (`0.01`), without the symbol. */
function trimCoins(wei: string): string {
  return coins(wei).replace(/ SHM$/, '')
}
