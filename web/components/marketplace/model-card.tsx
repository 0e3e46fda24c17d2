'use client'
import Link from 'next/link'
import { coins, percent, shortHex } from '../../lib/format.ts'
import { ManifestError, readManifest, shapeText, type MarketManifest, type MarketModel, type SetupSummary } from '../../lib/marketplace/market-rows.ts'

/** The manifest, or why it cannot be read (a listing the page cannot buy from). */
export function manifestOf(model: Pick<MarketModel, 'manifest'>): { manifest: MarketManifest | null; problem: string | null } {
  try {
    return { manifest: readManifest(model.manifest), problem: null }
  } catch (error) {
    return { manifest: null, problem: error instanceof ManifestError ? error.message : String(error) }
  }
}

/** The accuracy a buyer gets: the quantized (proven) model's when known, else the float one's, else the training metrics'. */
export function accuracyOf(model: Pick<MarketModel, 'metrics'>, manifest: MarketManifest | null): number | null {
  const fromMetrics = model.metrics?.accuracy
  return manifest?.accuracy.quantized ?? manifest?.accuracy.float ?? (typeof fromMetrics === 'number' ? fromMetrics : null)
}

/** One listed model in the marketplace grid: what it is, what it costs, how its proofs are made. */
export function ModelCard({ model }: { model: MarketModel }) {
  const { manifest, problem } = manifestOf(model)
  const accuracy = accuracyOf(model, manifest)
  return (
    <article className="model-card" data-testid="model-card" data-model-id={model.id} data-chain-model-id={model.chain_model_id}>
      <header>
        <h3>
          <Link href={`/marketplace/${model.id}`} data-testid="model-card-link">
            {model.name}
          </Link>
        </h3>
        <span className="price" data-testid="model-card-price" data-wei={model.price_wei}>
          {coins(model.price_wei)}
          <small> / inference</small>
        </span>
      </header>
      <div className="model-card-numbers">
        <div>
          <span className="big" data-testid="model-card-accuracy">
            {percent(accuracy)}
          </span>
          <span className="label">accuracy{manifest?.accuracy.quantized != null ? ' (proven model)' : ''}</span>
        </div>
        <div>
          <span className="big" data-testid="model-card-fulfilled">
            {model.fulfilled}
          </span>
          <span className="label">verified inferences</span>
        </div>
      </div>
      {manifest ? (
        <dl className="facts compact">
          <dt>Shape</dt>
          <dd className="mono">{shapeText(manifest.shape)}</dd>
          <dt>Circuit</dt>
          <dd>{manifest.constraints === null ? '—' : `${manifest.constraints.toLocaleString()} constraints`} · Groth16 · BN254</dd>
          <dt>Key hash</dt>
          <dd className="mono" title={model.verification_key_hash} data-testid="model-card-vk-hash">
            {shortHex(model.verification_key_hash)}
          </dd>
          <dt>Setup</dt>
          <dd>
            <SetupLine setup={manifest.setup} />
          </dd>
        </dl>
      ) : (
        <p className="field-error">This listing’s manifest cannot be read ({problem}): it cannot be bought from the web page.</p>
      )}
      <Link href={`/marketplace/${model.id}`} className="button" data-testid="model-card-buy">
        Try it
      </Link>
    </article>
  )
}

/** `coordinator 3f9a…c1d2 + beacon block 123` */
export function SetupLine({ setup }: { setup: SetupSummary }) {
  if (!setup.contribution && !setup.beacon) return <span className="muted">no transcript in the manifest</span>
  return (
    <span data-testid="setup-transcript">
      {setup.contribution ? (
        <>
          {setup.contribution.name} <span className="mono">{setup.contribution.hash ? shortHex(setup.contribution.hash) : ''}</span>
        </>
      ) : (
        'no network contribution recorded'
      )}
      {setup.beacon && <> + beacon{setup.beacon.blockNumber !== null ? ` block ${setup.beacon.blockNumber}` : ''}</>}
    </span>
  )
}
