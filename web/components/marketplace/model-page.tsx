'use client'
import Link from 'next/link'
import { useEffect, useState } from 'react'
import { coins, percent, when } from '../../lib/format.ts'
import { shapeText, type MarketModel } from '../../lib/marketplace/market-rows.ts'
import { useMarketModels, useOwnedModels } from '../../lib/marketplace/use-market-models.ts'
import { useMyRequests } from '../../lib/marketplace/use-my-requests.ts'
import { ChainHash } from '../chain-hash.tsx'
import { Empty, Loading, ProblemBox } from '../states.tsx'
import { BuyPanel } from './buy-panel.tsx'
import { InferenceView } from './inference-view.tsx'
import { accuracyOf, manifestOf } from './model-card.tsx'
import { OwnerModels } from './owner-models.tsx'

/**
 * /marketplace/<id>: the model (from marketplace_models(): listed models are public), the buy
 * flow, the request being followed (?request=<id>: a reload keeps it), the buyer's earlier
 * requests, and for the model's owner the listing controls. An unlisted model of one's own shows
 * only the owner's panel (with the CLI command that lists it).
 */
export function ModelPage({ modelId, requestId }: { modelId: string; requestId: string | null }) {
  const { view, reload, refresh } = useMarketModels()
  const owned = useOwnedModels()
  const requests = useMyRequests(modelId)
  const [selected, setSelected] = useState<string | null>(requestId)
  useEffect(() => setSelected(requestId), [requestId])
  // One of your requests was answered: the model's count of verified inferences moved.
  const answered = requests.rows.filter((r) => r.status === 'fulfilled').length
  useEffect(() => {
    if (answered > 0) refresh()
  }, [answered, refresh])

  const follow = (id: string) => {
    setSelected(id)
    window.history.replaceState(null, '', `/marketplace/${modelId}?request=${id}`)
  }

  const ownsIt = owned.view?.state === 'ready' && owned.view.value.some((m) => m.id === modelId)
  if (view.state === 'loading') return <Loading testId="model-loading">Loading the model…</Loading>
  if (view.state === 'error') return <ProblemBox problem={view.problem} onRetry={reload} testId="model-error" />
  const model = view.value.find((m) => m.id === modelId)
  if (!model) {
    if (ownsIt && owned.view) {
      return (
        <>
          <Back />
          <h1>Your model</h1>
          <p className="muted">This model is not on the marketplace.</p>
          <OwnerModels view={owned.view} reload={owned.reload} only={modelId} />
        </>
      )
    }
    return (
      <>
        <Back />
        <Empty testId="model-not-found">
          No listed model has this id: it may have been paused by its owner. <Link href="/marketplace">See the models on sale</Link>.
        </Empty>
      </>
    )
  }
  const { manifest, problem } = manifestOf(model)
  const selectedRow = requests.rows.find((r) => r.id === selected) ?? null
  return (
    <div data-testid="model-page" data-model-id={model.id}>
      <Back />
      <div className="job-header">
        <h1>{model.name}</h1>
        <span className="badge status-completed" data-testid="model-price" data-wei={model.price_wei}>
          {coins(model.price_wei)} / inference
        </span>
        {ownsIt && <span className="badge status-funded">yours</span>}
      </div>
      <ModelFacts model={model} />

      {!manifest ? (
        <ProblemBox problem={{ message: `This listing’s manifest cannot be read: ${problem}.`, next: 'It cannot be bought from the web page; its owner can list it again with the CLI.', code: 'BAD_MANIFEST' }} testId="model-manifest-error" />
      ) : requests.state === 'signed-out' ? (
        <>
          <BuyPanel model={model} manifest={manifest} onRecorded={follow} />
        </>
      ) : (
        <>
          <BuyPanel
            model={model}
            manifest={manifest}
            onRecorded={(id) => {
              follow(id)
              requests.refresh()
            }}
          />
          {selected &&
            (selectedRow ? (
              <InferenceView row={selectedRow} model={model} manifest={manifest} />
            ) : requests.state === 'loading' || requests.state === 'ready' ? (
              <Loading testId="inference-loading">Loading your request…</Loading>
            ) : null)}
          {requests.problem && <ProblemBox problem={requests.problem} onRetry={requests.refresh} testId="my-requests-error" />}
          {requests.rows.length > 0 && (
            <section className="panel" data-testid="my-requests" data-realtime={requests.realtime}>
              <h2>Your requests</h2>
              <table>
                <thead>
                  <tr>
                    <th>Request</th>
                    <th>When</th>
                    <th>Status</th>
                    <th>Answer</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {requests.rows.map((r) => (
                    <tr key={r.id} data-testid={`my-request-${r.id}`} data-status={r.status} className={r.id === selected ? 'selected' : ''}>
                      <td className="mono">#{r.chain_request_id}</td>
                      <td>{when(r.created_at)}</td>
                      <td>
                        <span className={`badge status-${r.status === 'fulfilled' ? 'completed' : r.status === 'pending' ? 'running' : r.status === 'refunded' ? 'created' : 'failed'}`}>{r.status}</span>
                      </td>
                      <td>{r.output ? (manifest.classNames[r.output.predicted] ?? r.output.predicted) : '—'}</td>
                      <td>
                        {r.id !== selected && (
                          <button type="button" className="link" onClick={() => follow(r.id)} data-testid="my-request-open">
                            Show
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          )}
        </>
      )}

      {ownsIt && owned.view && (
        <section className="panel" data-testid="owner-panel">
          <h2>Your listing</h2>
          <OwnerModels
            view={owned.view}
            reload={() => {
              owned.reload()
              refresh()
            }}
            only={modelId}
          />
        </section>
      )}
    </div>
  )
}

function Back() {
  return (
    <Link href="/marketplace" className="back-link">
      ← Marketplace
    </Link>
  )
}

/** Everything a buyer can check before paying: accuracy, shape, circuit, price, key, setup transcript. */
function ModelFacts({ model }: { model: MarketModel }) {
  const { manifest } = manifestOf(model)
  const accuracy = accuracyOf(model, manifest)
  const setup = manifest?.setup
  return (
    <section className="panel model-facts" data-testid="model-facts">
      <div className="fact-tiles">
        <div className="stat">
          <div className="value">{percent(accuracy)}</div>
          <div className="label">
            accuracy{manifest?.accuracy.testRows ? ` on ${manifest.accuracy.testRows.toLocaleString()} held-out digits` : ''}
            {manifest?.accuracy.float != null && manifest.accuracy.quantized != null ? ` (float ${percent(manifest.accuracy.float)})` : ''}
          </div>
        </div>
        <div className="stat">
          <div className="value mono">{manifest ? shapeText(manifest.shape) : '—'}</div>
          <div className="label">MLP shape (inputs → units → classes)</div>
        </div>
        <div className="stat">
          <div className="value">{manifest?.constraints?.toLocaleString() ?? '—'}</div>
          <div className="label">circuit constraints (Groth16, BN254)</div>
        </div>
        <div className="stat">
          <div className="value" data-testid="model-fulfilled">
            {model.fulfilled}
          </div>
          <div className="label">verified inferences so far</div>
        </div>
      </div>
      <dl className="facts">
        <dt>Verification key</dt>
        <dd className="mono hash" data-testid="model-vk-hash">
          {model.verification_key_hash}
        </dd>
        <dt>Market</dt>
        <dd>
          model #{model.chain_model_id} on chain {model.chain_id}, owned by <ChainHash value={model.owner_address} kind="address" />
        </dd>
        {model.epsilon !== null && (
          <>
            <dt>Privacy</dt>
            <dd>trained with differential privacy, ε = {Number(model.epsilon.toPrecision(3))}</dd>
          </>
        )}
        {manifest && (
          <>
            <dt>Input</dt>
            <dd>
              {manifest.inputSize} pixels, fixed point 2<sup>{manifest.fracBits}</sup>, {manifest.inputBits} bits each, committed with Poseidon and a random salt
            </dd>
          </>
        )}
        <dt>Setup transcript</dt>
        <dd data-testid="model-setup">
          {setup && (setup.contribution || setup.beacon) ? (
            <ul className="transcript">
              {setup.contribution && (
                <li>
                  Network contribution: <strong>{setup.contribution.name}</strong>
                  {setup.contribution.hash && <span className="mono hash"> {setup.contribution.hash}</span>} — secret entropy the owner never sees, so the owner alone cannot
                  forge proofs.
                </li>
              )}
              {setup.beacon && (
                <li>
                  Random beacon: the hash of block {setup.beacon.blockNumber ?? '?'}
                  {setup.beacon.chainId !== null ? ` of chain ${setup.beacon.chainId}` : ''}, read after the contribution
                  {setup.beacon.blockHash && <span className="mono hash"> {setup.beacon.blockHash}</span>}.
                </li>
              )}
              {setup.verified !== null && <li>Setup {setup.verified ? 'verified' : 'NOT verified'} against the circuit and the powers of tau.</li>}
            </ul>
          ) : (
            <span className="muted">The manifest records no setup transcript.</span>
          )}
        </dd>
        <dt>Listed</dt>
        <dd>{when(model.created_at)}</dd>
      </dl>
    </section>
  )
}
