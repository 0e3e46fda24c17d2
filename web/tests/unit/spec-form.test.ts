import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { checkJobSpec, type JobSpec } from '@oblivion/model/spec'
import { describe, expect, it } from 'vitest'
import {
  checkForm,
  defaultFormValues,
  fieldForIssue,
  fieldLabel,
  formToSpec,
  issueText,
  specToForm,
  visibleFields,
  type SpecFormValues,
} from '../../lib/job-spec/spec-form.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
const sample = (name: string) => JSON.parse(readFileSync(path.join(ROOT, 'sample_job/jobs', name), 'utf8')) as JobSpec
const CSV_PATH = '6f1c1c52-0000-4000-8000-000000000000/iris.csv'
const form = (changes: Partial<SpecFormValues> = {}): SpecFormValues => ({ ...defaultFormValues(), ...changes })
const errorsOf = (values: SpecFormValues, classes?: number) => {
  const checked = checkForm(values, { csvPath: CSV_PATH, classes })
  return checked.ok ? {} : checked.errors
}

describe('the create-job form and job spec v1', () => {
  it('starts from values that make a valid spec', () => {
    const checked = checkForm(defaultFormValues(), { csvPath: CSV_PATH, classes: 10 })
    expect(checked.ok).toBe(true)
    if (!checked.ok) return
    expect(checked.value.spec).toMatchObject({ version: 1, dataset: { source: 'builtin', name: 'mnist' }, privacy: { noiseMultiplier: 1, clipNorm: 1, delta: 0.00001 } })
    expect(checked.value.rewardWei).toBe(10n ** 18n)
    expect(checked.value.deadlineHours).toBe(168)
  })

  it.each(['mnist.json', 'mnist-nonprivate.json', 'mnist-zk.json', 'iris-csv.json'])('turns the sample spec %s into the form and back unchanged', (name) => {
    const spec = sample(name)
    const csvPath = spec.dataset.source === 'csv' ? spec.dataset.path : CSV_PATH
    const { spec: again, issues } = formToSpec(specToForm(spec), csvPath)
    expect(issues).toEqual([])
    // `aggregation: {strategy: 'fedavg'}` alone is the default: the form leaves it out.
    const { aggregation, ...rest } = spec
    expect(again).toEqual(aggregation && Object.keys(aggregation).length === 1 && aggregation.strategy === 'fedavg' ? rest : spec)
    expect(checkJobSpec(again).ok).toBe(true)
  })

  it('builds a CSV data set from the chosen columns and the upload path', () => {
    const { spec } = formToSpec(form({ datasetSource: 'csv', featureColumns: ['a', 'b'], labelColumn: 'y' }), CSV_PATH)
    expect(spec.dataset).toEqual({ source: 'csv', bucket: 'datasets', path: CSV_PATH, featureColumns: ['a', 'b'], labelColumn: 'y' })
  })

  it('writes the privacy budget as the mode asks: σ, a target ε, or no privacy at all', () => {
    expect(formToSpec(form({ privacyMode: 'targetEpsilon', targetEpsilon: '3' }), CSV_PATH).spec.privacy).toEqual({ clipNorm: 1, targetEpsilon: 3, delta: 0.00001 })
    expect(formToSpec(form({ privacyMode: 'noiseMultiplier', noiseMultiplier: '1.1' }), CSV_PATH).spec.privacy).toEqual({ clipNorm: 1, noiseMultiplier: 1.1, delta: 0.00001 })
    expect(formToSpec(form({ privacyMode: 'none' }), CSV_PATH).spec).not.toHaveProperty('privacy')
  })

  it('leaves optional fields out when empty and aggregation out for plain FedAvg', () => {
    const { spec } = formToSpec(form({ testFraction: '', minShardFraction: '', updateNormBound: '' }), CSV_PATH)
    expect(spec.training).not.toHaveProperty('testFraction')
    expect(spec.training).not.toHaveProperty('minShardFraction')
    expect(spec).not.toHaveProperty('aggregation')
    expect(formToSpec(form({ strategy: 'trimmed_mean', trimFraction: '0.2' }), CSV_PATH).spec.aggregation).toEqual({ strategy: 'trimmed_mean', trimFraction: 0.2 })
  })

  it('says which field is not a number or is missing, once', () => {
    const errors = errorsOf(form({ batchSize: 'sixty-four', learningRate: '' }), 10)
    expect(errors['training.batchSize']).toEqual(['Batch size must be a number'])
    expect(errors['training.learningRate']).toEqual(['Learning rate is required'])
  })

  it('shows each schema problem under the field it names', () => {
    const layers = [{ units: '128', activation: 'relu' as const }, { units: '10', activation: 'relu' as const }]
    const errors = errorsOf(form({ batchSize: '0', layers, rounds: '1000', shards: '1000' }), 10)
    expect(errors['training.batchSize']).toEqual(['Batch size must be at least 1'])
    expect(errors['model.layers[1].activation']).toEqual(['Layer 2 activation must be softmax: the last layer outputs the class probabilities'])
    expect(errors['training.shards']).toEqual(['Shards × rounds must be at most 100000 tasks (got 1000 × 1000)'])
  })

  it('puts a problem of a field that is not shown on its section', () => {
    // trimFraction with FedAvg cannot come from the form; a σ-or-ε problem lands on "privacy" in target-ε mode.
    const fields = visibleFields(form({ privacyMode: 'targetEpsilon' }))
    expect(fieldForIssue('spec.privacy.noiseMultiplier', fields)).toBe('privacy')
    expect(fieldForIssue('spec.privacy.targetEpsilon', fields)).toBe('privacy.targetEpsilon')
    expect(fieldForIssue('spec.model.layers[3].units', visibleFields(form()))).toBe('model.layers')
    expect(fieldForIssue('spec', fields)).toBe('')
    expect(fieldForIssue('spec.unknown', fields)).toBe('')
  })

  it('maps the database’s OB003 detail paths to the same fields', () => {
    const fields = visibleFields(form({ datasetSource: 'csv' }))
    expect(fieldForIssue('spec.dataset.featureColumns[2]', fields)).toBe('dataset.featureColumns')
    expect(fieldForIssue('spec.training.batchSize', fields)).toBe('training.batchSize')
    expect(fieldForIssue('spec.model.layers[0]', fields)).toBe('model.layers[0]')
  })

  it('requires the output layer to have one unit per class of the data set', () => {
    expect(errorsOf(form(), 3)['model.layers[1].units']).toEqual(['Layer 2 units must be 3: one unit per class of the data set'])
    expect(errorsOf(form(), 10)).toEqual({})
  })

  it('checks the reward and the deadline', () => {
    expect(errorsOf(form({ reward: '0' }), 10).reward).toEqual(['Reward must be more than 0'])
    expect(errorsOf(form({ reward: 'lots' }), 10).reward?.[0]).toMatch(/amount of coins/)
    expect(errorsOf(form({ reward: '0.0000000000000000001' }), 10).reward?.[0]).toMatch(/18 decimals/)
    expect(errorsOf(form({ deadlineHours: '0' }), 10).deadlineHours?.[0]).toMatch(/1 to 87600/)
  })

  it('starts each message with the field’s label, zod’s own sentences included', () => {
    expect(issueText('Trim fraction', 'is required')).toBe('Trim fraction is required')
    expect(issueText('Shards', '× rounds must be at most 100000 tasks')).toBe('Shards × rounds must be at most 100000 tasks')
    expect(issueText('Batch size', 'Too big: expected number to be <=4096')).toBe('Batch size must be at most 4096')
    expect(issueText('Learning rate', 'Too small: expected number to be >0')).toBe('Learning rate must be greater than 0')
    expect(issueText('Layer 1 units', 'Invalid input: expected int, received number')).toBe('Layer 1 units must be a whole number')
    expect(issueText('Name', 'Too big: expected string to have <=120 characters')).toBe('Name must have at most 120 characters')
    expect(issueText('Feature columns', 'Too small: expected array to have >=1 items')).toBe('Feature columns must list at least one')
    expect(issueText('The job', 'Something else entirely')).toBe('Something else entirely')
    expect(fieldLabel('model.layers[0].units')).toBe('Layer 1 units')
    expect(fieldLabel('model.layers[2]')).toBe('Layer 3')
  })
})
