import type { DenseLayerWeights, MlpWeights } from '../nn/mlp-weights.ts'

/**
 * The Sequential-of-Dense architecture as the two Keras dialects describe it. Initializers are
 * recorded because the loaders expect the keys; they play no part in inference.
 */

/** What tfjs-layers 4.22 writes in model.json's `modelTopology` (`model.toJSON(null, false)`):
 *  no InputLayer, `batch_input_shape` on the first Dense layer. */
export function tfjsModelTopology(weights: MlpWeights): Record<string, unknown> {
  const layers = weights.layers.map((layer, index) => ({
    class_name: 'Dense',
    config: {
      ...denseConfig(layer, {
        class_name: 'VarianceScaling',
        config: { scale: 1, mode: 'fan_avg', distribution: 'normal', seed: null },
      }),
      ...(index === 0 ? { batch_input_shape: [null, weights.inputSize], dtype: 'float32' } : {}),
    },
  }))
  return {
    class_name: 'Sequential',
    config: { name: 'sequential', layers },
    keras_version: 'tfjs-layers 4.22.0',
    backend: 'tensor_flow.js',
  }
}

export const KERAS_VERSION = '2.13.1'

/** What Keras 2.13's `model.to_json()` writes into an HDF5 file's `model_config` attribute:
 *  an explicit InputLayer, then the Dense layers with the module/registered_name envelope. */
export function kerasModelConfig(weights: MlpWeights): Record<string, unknown> {
  const first = weights.layers[0]
  const inputLayer = {
    module: 'keras.layers',
    class_name: 'InputLayer',
    config: {
      batch_input_shape: [null, weights.inputSize],
      dtype: 'float32',
      sparse: false,
      ragged: false,
      name: `${first?.name ?? 'dense'}_input`,
    },
    registered_name: null,
  }
  const dense = weights.layers.map((layer) => ({
    module: 'keras.layers',
    class_name: 'Dense',
    config: {
      name: layer.name,
      trainable: true,
      dtype: 'float32',
      ...denseConfig(layer, kerasInitializer('GlorotUniform', { seed: null })),
      bias_initializer: kerasInitializer('Zeros', {}),
    },
    registered_name: null,
    build_config: { input_shape: [null, layer.inputs] },
  }))
  return {
    class_name: 'Sequential',
    config: { name: 'sequential', layers: [inputLayer, ...dense] },
    keras_version: KERAS_VERSION,
    backend: 'tensorflow',
  }
}

function denseConfig(layer: DenseLayerWeights, kernelInitializer: object): Record<string, unknown> {
  return {
    units: layer.units,
    activation: layer.activation,
    use_bias: true,
    kernel_initializer: kernelInitializer,
    bias_initializer: { class_name: 'Zeros', config: {} },
    kernel_regularizer: null,
    bias_regularizer: null,
    activity_regularizer: null,
    kernel_constraint: null,
    bias_constraint: null,
    name: layer.name,
    trainable: true,
  }
}

function kerasInitializer(className: string, config: object): object {
  return { module: 'keras.initializers', class_name: className, config, registered_name: null }
}
