'use client'
import { usePublicConfig } from '../../lib/config-context.tsx'
import { useWallet } from '../../lib/wallet/wallet-context.tsx'
import { useMarketModels, useOwnedModels } from '../../lib/marketplace/use-market-models.ts'
import { Empty, Loading, ProblemBox } from '../states.tsx'
import { ModelCard } from './model-card.tsx'
import { OwnerModels } from './owner-models.tsx'

/** /marketplace: the listed models (anyone), then the signed-in person's own models and their listing controls. */
export function MarketplaceView() {
  const { chain } = usePublicConfig()
  const { view, reload, refresh } = useMarketModels()
  const owned = useOwnedModels()
  const { account } = useWallet()
  // Listed from this wallet's address by another identity (the CLI signs in on its own, not with SIWE):
  // the chain would take a change from the wallet, but the network's listing only from that identity.
  const ownedIds = owned.view?.state === 'ready' ? new Set(owned.view.value.map((m) => m.id)) : null
  const elsewhere = view.state === 'ready' && ownedIds && account ? view.value.filter((m) => m.owner_address === account && !ownedIds.has(m.id)) : []
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Verified inference marketplace</h1>
          <p className="muted">
            Pay per prediction from models trained on the network. Every answer comes with a Groth16 proof that the listed model computed it on your input — checked in
            your browser and by the market contract before the owner is paid.
          </p>
        </div>
      </div>
      {chain && !chain.market && (
        <div className="notice" data-testid="marketplace-no-market">
          This network’s configuration names no InferenceMarket on {chain.name}: you can browse, but not buy. Restart the network with <span className="mono">npm start</span>,
          which deploys it.
        </div>
      )}
      <section data-testid="marketplace-models" data-state={view.state}>
        {view.state === 'loading' ? (
          <div className="model-grid">
            {[0, 1, 2].map((k) => (
              <div key={k} className="model-card placeholder" aria-hidden />
            ))}
            <Loading testId="marketplace-loading">Loading the listed models…</Loading>
          </div>
        ) : view.state === 'error' ? (
          <ProblemBox problem={view.problem} onRetry={reload} testId="marketplace-error" />
        ) : view.value.length === 0 ? (
          <Empty testId="marketplace-empty">
            No model is listed yet — <span className="mono">oblivion model list &lt;model-id&gt; --price 0.01</span> lists one.
          </Empty>
        ) : (
          <div className="model-grid">
            {view.value.map((model) => (
              <ModelCard key={model.id} model={model} />
            ))}
          </div>
        )}
      </section>
      <section className="how-it-works" aria-label="How a verified inference works">
        <div>
          <span className="how-step">1</span>
          <strong>Commit</strong>
          <p>Your input is quantized and hashed with a fresh random salt (Poseidon). Only the commitment goes on chain; only the model’s owner sees the pixels.</p>
        </div>
        <div>
          <span className="how-step">2</span>
          <strong>Pay</strong>
          <p>The price is held by the InferenceMarket contract. If the owner does not answer before the deadline, you take it back.</p>
        </div>
        <div>
          <span className="how-step">3</span>
          <strong>Prove</strong>
          <p>The owner’s machine proves the model’s answer (Groth16). Your browser checks the proof, and the contract checks it again before paying the owner.</p>
        </div>
      </section>
      {owned.view && (
        <section className="panel your-models" data-testid="your-models">
          <h2>Your models</h2>
          {elsewhere.length > 0 && (
            <div className="notice" data-testid="owner-other-identity">
              Listed from this wallet by another identity (the <span className="mono">oblivion</span> CLI signs in on its own):{' '}
              {elsewhere.map((m) => m.name).join(', ')}. Its price and pause are changed by the identity that listed it; this page manages the models of the account you
              signed in with.
            </div>
          )}
          <OwnerModels
            view={owned.view}
            reload={() => {
              owned.reload()
              refresh()
            }}
          />
        </section>
      )}
    </>
  )
}
