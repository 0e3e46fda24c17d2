import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { exportModel } from '../../src/export/index.ts'
import type { ArtifactFile } from '../../src/export/model-artifact.ts'
import type { Activation } from '../../src/spec/job-spec.ts'
import { forwardMlp } from '../support/mlp-forward.ts'
import { syntheticInputs, syntheticModel } from '../support/synthetic-model.ts'
import { argmaxRows, maxAbsDifference } from '../support/array-compare.ts'
import { predictTrained, trainMnistFixture, type MnistFixture } from '../support/mnist-trained-model.ts'

/** Serves an artifact's files the way a web server would serve them side by side: model.json
 *  first, then every shard its weightsManifest names, by relative path. */
function servedFrom(files: ArtifactFile[]): tf.io.IOHandler {
  const byName = new Map(files.map((f) => [f.name, f.bytes]))
  const fetchFile = (name: string) => {
    const bytes = byName.get(name)
    if (bytes === undefined) throw new Error(`model.json refers to ${name}, which the export lacks`)
    return bytes
  }
  return {
    load: () => {
      const modelJson = JSON.parse(new TextDecoder().decode(fetchFile('model.json'))) as tf.io.ModelJSON
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs = manifest.flatMap((group) => group.weights)
        const shards = manifest.flatMap((group) => group.paths.map((p) => fetchFile(p).slice().buffer))
        return [specs, shards]
      })
    },
  }
}

describe('TF.js layers export', () => {
  let fixture: MnistFixture
  let expected: Float32Array
  beforeAll(async () => {
    fixture = await trainMnistFixture()
    expected = predictTrained(fixture)
  })

  it('is a trained model worth exporting (held-out accuracy above 80%)', () => {
    const predicted = argmaxRows(expected, 10)
    const correct = predicted.filter((p, i) => p === fixture.test.labels[i]).length
    expect(correct / fixture.test.count).toBeGreaterThan(0.8)
  })

  it('writes model.json and weights.bin with their content types', async () => {
    const artifact = await exportModel(fixture.trained, 'tfjs')
    expect(artifact.format).toBe('tfjs')
    expect(artifact.files.map((f) => [f.name, f.contentType])).toEqual([
      ['model.json', 'application/json'],
      ['weights.bin', 'application/octet-stream'],
    ])
    const json = JSON.parse(new TextDecoder().decode(artifact.files[0]!.bytes))
    expect(json.format).toBe('layers-model')
    expect(json.generatedBy).toMatch(/^TensorFlow\.js tfjs-layers/)
    expect(json.weightsManifest).toEqual([
      {
        paths: ['weights.bin'],
        weights: [
          { name: 'dense/kernel', shape: [784, 32], dtype: 'float32' },
          { name: 'dense/bias', shape: [32], dtype: 'float32' },
          { name: 'dense_1/kernel', shape: [32, 10], dtype: 'float32' },
          { name: 'dense_1/bias', shape: [10], dtype: 'float32' },
        ],
      },
    ])
    expect(artifact.files[1]!.bytes.length).toBe((784 * 32 + 32 + 32 * 10 + 10) * 4)
  })

  it('loads with tf.loadLayersModel and predicts like the trained model on 1,000 RAW digits', async () => {
    const artifact = await exportModel(fixture.trained, 'tfjs')
    const loaded = await tf.loadLayersModel(servedFrom(artifact.files))
    expect(loaded.layers.map((l) => l.name)).toEqual(['dense', 'dense_1'])

    const { count, raw } = fixture.test
    const actual = tf.tidy(() => (loaded.predict(tf.tensor2d(raw, [count, 784])) as tf.Tensor).dataSync())
    expect(argmaxRows(actual, 10)).toEqual(argmaxRows(expected, 10))
    const worst = maxAbsDifference(actual, expected)
    expect(worst).toBeLessThan(1e-4)
    loaded.dispose()
  })

  it('carries class names, feature names, privacy and metrics as user-defined metadata', async () => {
    const artifact = await exportModel(fixture.trained, 'tfjs')
    const loaded = await tf.loadLayersModel(servedFrom(artifact.files))
    expect(loaded.getUserDefinedMetadata()).toMatchObject({
      classNames: fixture.trained.classNames,
      featureNames: fixture.trained.featureNames,
      privacy: { epsilon: 3.5, delta: 1e-5 },
      metrics: { accuracy: 0.9, loss: 0.31 },
      normalizationFolded: true,
    })
    loaded.dispose()
  })
  it.each<{ activations: Activation[] }>([
    { activations: ['sigmoid', 'tanh', 'linear'] },
    { activations: ['linear', 'relu', 'softmax'] },
  ])('loads $activations layers that compute like the reference forward pass', async ({ activations }) => {
    const model = syntheticModel([5, 7, 6, 3], activations)
    const loaded = await tf.loadLayersModel(servedFrom((await exportModel(model, 'tfjs')).files))
    const raw = syntheticInputs(5, 20)
    const actual = tf.tidy(() => (loaded.predict(tf.tensor2d(raw, [20, 5])) as tf.Tensor).dataSync())
    const normalized = raw.map(
      (x, k) => (x - model.normalization.offset[k % 5]!) * model.normalization.scale[k % 5]!,
    )
    const expected = forwardMlp(model.weights, normalized, 20)
    expect(maxAbsDifference(actual, expected)).toBeLessThan(1e-5)
    loaded.dispose()
  })
})
