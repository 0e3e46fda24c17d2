'use client'
import type { ReactNode } from 'react'
import {
  ACTIVATIONS,
  NORMALIZATIONS,
  OPTIMIZERS,
  STRATEGIES,
  type FieldErrors,
  type FieldKey,
  type LayerValues,
  type PrivacyMode,
  type SpecFormValues,
} from '../../lib/job-spec/spec-form.ts'
import { Choice, Field, FieldProblems, TextInput } from './form-field.tsx'

/** The form's sections after the data set, one per part of job spec v1. */

interface SectionProps {
  values: SpecFormValues
  set: <K extends keyof SpecFormValues>(key: K, value: SpecFormValues[K]) => void
  errors: FieldErrors
}

/** The form's free-text fields (numbers as typed, the reward…). */
type TextKey = { [K in keyof SpecFormValues]: string extends SpecFormValues[K] ? K : never }[keyof SpecFormValues]

/** A labelled text input for one spec field, with its hint and problems. */
function TextField({ field, name, hint, label, placeholder, inputMode, values, set, errors }: SectionProps & { field: FieldKey; name: TextKey; hint?: string; label?: string; placeholder?: string; inputMode?: 'decimal' | 'numeric' }) {
  return (
    <Field field={field} errors={errors} hint={hint} label={label}>
      <TextInput field={field} value={values[name]} onChange={(value) => set(name, value)} placeholder={placeholder} inputMode={inputMode} />
    </Field>
  )
}

/** One part of the spec: a fieldset with its legend and the problems of the part as a whole. */
function Section({ part, legend, errors, children }: { part: FieldKey; legend: string; errors: FieldErrors; children: ReactNode }) {
  return (
    <fieldset className="panel" data-testid={`section-${part}`}>
      <legend>{legend}</legend>
      <FieldProblems field={part} errors={errors} />
      {children}
    </fieldset>
  )
}

const MAX_LAYERS = 16

export function ModelSection({ values, set, errors, classes }: SectionProps & { classes: number | undefined }) {
  const setLayer = (index: number, change: Partial<LayerValues>) => set('layers', values.layers.map((layer, i) => (i === index ? { ...layer, ...change } : layer)))
  const addLayer = () => {
    // A new hidden layer goes before the softmax output.
    const layers = [...values.layers]
    layers.splice(Math.max(0, layers.length - 1), 0, { units: '32', activation: 'relu' })
    set('layers', layers)
  }
  const removeLayer = (index: number) => set('layers', values.layers.filter((_, i) => i !== index))
  return (
    <fieldset className="panel" data-testid="section-model">
      <legend>Model: a multilayer perceptron</legend>
      <FieldProblems field="model" errors={errors} />
      <FieldProblems field="model.layers" errors={errors} />
      <table className="layers">
        <thead>
          <tr>
            <th>Layer</th>
            <th>Units</th>
            <th>Activation</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {values.layers.map((layer, i) => {
            const last = i === values.layers.length - 1
            return (
              <tr key={i} data-testid={`layer-row-${i}`}>
                <td>
                  {i + 1}
                  {last ? ' (output)' : ''}
                </td>
                <td>
                  <TextInput field={`model.layers[${i}].units`} value={layer.units} onChange={(units) => setLayer(i, { units })} inputMode="numeric" />
                  {last && classes !== undefined && <div className="hint">one per class: {classes}</div>}
                  <FieldProblems field={`model.layers[${i}].units`} errors={errors} />
                  <FieldProblems field={`model.layers[${i}]`} errors={errors} />
                </td>
                <td>
                  <Choice field={`model.layers[${i}].activation`} value={layer.activation} options={ACTIVATIONS.map((a) => [a, a] as const)} onChange={(activation) => setLayer(i, { activation })} />
                  <FieldProblems field={`model.layers[${i}].activation`} errors={errors} />
                </td>
                <td>
                  {values.layers.length > 1 && (
                    <button type="button" className="link" onClick={() => removeLayer(i)} aria-label={`Remove layer ${i + 1}`} data-testid={`remove-layer-${i}`}>
                      remove
                    </button>
                  )}
                </td>
              </tr>
            )
          })}
        </tbody>
      </table>
      {values.layers.length < MAX_LAYERS && (
        <button type="button" className="button secondary" onClick={addLayer} data-testid="add-layer">
          Add a hidden layer
        </button>
      )}
      <Field field="model.normalization" errors={errors} hint="How input features are scaled before training; the exported models take raw features.">
        <Choice
          field="model.normalization"
          value={values.normalization}
          options={[['', 'default'], ...NORMALIZATIONS.map((n) => [n, n] as const)] as const}
          onChange={(normalization) => set('normalization', normalization)}
        />
      </Field>
    </fieldset>
  )
}

export function TrainingSection(props: SectionProps) {
  const { values, set, errors } = props
  return (
    <Section part="training" legend="Training" errors={errors}>
      <div className="grid">
        <TextField {...props} field="training.rounds" name="rounds" hint="FedAvg rounds: 1 to 1000." inputMode="numeric" />
        <TextField {...props} field="training.shards" name="shards" hint="Tasks per round, one shard of the data each: 1 to 10000 (rounds × shards ≤ 100000)." inputMode="numeric" />
        <Field field="training.optimizer" errors={errors} hint="What each worker uses on its shard.">
          <Choice field="training.optimizer" value={values.optimizer} options={OPTIMIZERS.map((o) => [o, o] as const)} onChange={(optimizer) => set('optimizer', optimizer)} />
        </Field>
        <TextField {...props} field="training.learningRate" name="learningRate" hint="Greater than 0, at most 10." />
        <TextField {...props} field="training.batchSize" name="batchSize" hint="1 to 4096 examples." inputMode="numeric" />
        <TextField {...props} field="training.localEpochs" name="localEpochs" hint="Passes over its shard per task: 1 to 100." inputMode="numeric" />
        <TextField {...props} field="training.testFraction" name="testFraction" hint="Held out to measure accuracy: 0 to 0.5 (empty: the default, 0.1)." placeholder="0.1" />
        <TextField {...props} field="training.minShardFraction" name="minShardFraction" hint="Share of shards that must deliver for a round to count: (0, 1] (empty: all)." placeholder="1" />
      </div>
    </Section>
  )
}

const PRIVACY_MODES: readonly (readonly [PrivacyMode, string])[] = [
  ['noiseMultiplier', 'DP-SGD with a noise multiplier σ'],
  ['targetEpsilon', 'DP-SGD with a target ε (σ derived from it)'],
  ['none', 'No differential privacy'],
]

export function PrivacySection(props: SectionProps) {
  const { values, set, errors } = props
  return (
    <fieldset className="panel" data-testid="section-privacy">
      <legend>Privacy budget</legend>
      <Field field="privacy" label="Differential privacy" errors={errors} hint={values.privacyMode === 'none' ? 'Without DP no clipping and no noise: ε is unbounded.' : 'Each example’s gradient is clipped, Gaussian noise added; ε is reported per round.'}>
        <Choice field="privacy" value={values.privacyMode} options={PRIVACY_MODES} onChange={(mode) => set('privacyMode', mode)} />
      </Field>
      {values.privacyMode !== 'none' && (
        <div className="grid">
          {values.privacyMode === 'noiseMultiplier' ? (
            <TextField {...props} field="privacy.noiseMultiplier" name="noiseMultiplier" hint="Greater than 0, at most 100: larger means more privacy, less accuracy." />
          ) : (
            <TextField {...props} field="privacy.targetEpsilon" name="targetEpsilon" hint="The ε the whole job may spend: greater than 0, at most 100." />
          )}
          <TextField {...props} field="privacy.clipNorm" name="clipNorm" hint="Per-example gradient norm bound C: greater than 0, at most 100." />
          <TextField {...props} field="privacy.delta" name="delta" hint="Greater than 0, at most 0.01: well below 1 / rows." />
        </div>
      )}
    </fieldset>
  )
}

const STRATEGY_NAMES: Record<(typeof STRATEGIES)[number], string> = {
  fedavg: 'FedAvg (weighted by samples)',
  median: 'Coordinate-wise median',
  trimmed_mean: 'Trimmed mean',
}

export function AggregationSection(props: SectionProps) {
  const { values, set, errors } = props
  return (
    <Section part="aggregation" legend="Aggregation" errors={errors}>
      <div className="grid">
        <Field field="aggregation.strategy" errors={errors}>
          <Choice field="aggregation.strategy" value={values.strategy} options={STRATEGIES.map((s) => [s, STRATEGY_NAMES[s]] as const)} onChange={(strategy) => set('strategy', strategy)} />
        </Field>
        {values.strategy === 'trimmed_mean' && <TextField {...props} field="aggregation.trimFraction" name="trimFraction" hint="Share trimmed from each side: 0 to 0.45." />}
        <TextField {...props} field="aggregation.updateNormBound" name="updateNormBound" hint="Refuse updates further than this from the global model (empty: no bound)." />
      </div>
    </Section>
  )
}

export function RewardSection(props: SectionProps & { symbol: string; chainName: string | null }) {
  const { symbol, chainName } = props
  return (
    <Section part="funding" legend="Reward" errors={props.errors}>
      <div className="grid">
        <TextField
          {...props}
          field="reward"
          name="reward"
          label={`Reward (${symbol})`}
          hint={chainName ? `Escrowed on ${chainName} from your wallet when the job is created; workers earn reward ÷ (rounds × shards) per accepted task.` : 'No chain is configured: recorded with the job, nothing is escrowed.'}
        />
        <TextField {...props} field="deadlineHours" name="deadlineHours" label="Deadline (hours)" hint="After it, an escrow nobody settled can be refunded to you." inputMode="numeric" />
      </div>
    </Section>
  )
}
