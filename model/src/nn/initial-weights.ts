import { randomFromSeed } from '../data/seeded-random.ts'
import type { JobSpec } from '../spec/job-spec.ts'
import { denseLayerName, type MlpWeights } from './mlp-weights.ts'

/**
 * Round 1's global model: Glorot-uniform kernels (Keras' Dense default), zero biases, drawn from
 * a PRNG seeded by the job id so that the coordinator can recreate them after a restart.
 */
export function initialWeights(model: JobSpec['model'], inputSize: number, seed: string): MlpWeights {
  const random = randomFromSeed(`${seed}/initial-weights`)
  let inputs = inputSize
  const layers = model.layers.map((layer, index) => {
    const limit = Math.sqrt(6 / (inputs + layer.units))
    const kernel = new Float32Array(inputs * layer.units)
    for (let k = 0; k < kernel.length; k++) kernel[k] = (random() * 2 - 1) * limit
    const weights = { name: denseLayerName(index), inputs, units: layer.units, activation: layer.activation, kernel, bias: new Float32Array(layer.units) }
    inputs = layer.units
    return weights
  })
  return { inputSize, layers }
}
