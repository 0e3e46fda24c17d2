import onnxProto from 'onnx-proto'
import type { onnx as OnnxTypes } from 'onnx-proto'
import type { Activation } from '../spec/job-spec.ts'
import type { TrainedModel } from '../nn/mlp-weights.ts'
import { weightsForExport } from './export-weights.ts'
import { float32LittleEndian } from './float32-bytes.ts'
import { modelMetadata } from './model-metadata.ts'

// onnx-proto is CommonJS (`module.exports = root`): Node's ESM loader exposes it only as default.
const { onnx } = onnxProto

export const ONNX_INPUT_NAME = 'input'
export const ONNX_OUTPUT_NAME = 'probabilities'
/** Opset 13 has every operator we use with today's semantics (Softmax over one axis, not the
 *  flattened 2-D of opset ≤ 12) and is supported by every ONNX Runtime since 1.6. */
const OPSET = 13
const IR_VERSION = 8

const FLOAT = onnx.TensorProto.DataType.FLOAT
const activationOp: Record<Activation, string | null> = {
  relu: 'Relu',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
  softmax: 'Softmax',
  linear: null,
}

/**
 * ONNX model: per layer a Gemm (y = x·B + C with B the [inputs, units] kernel, transB = 0) and
 * its activation node; input `input` [batch, inputSize] of raw features, output
 * `probabilities` [batch, classes]. Metadata props carry class names, feature names and (ε, δ).
 */
export function exportOnnx(model: TrainedModel): Uint8Array {
  const weights = weightsForExport(model)
  const nodes: OnnxTypes.INodeProto[] = []
  const initializers: OnnxTypes.ITensorProto[] = []
  let current = ONNX_INPUT_NAME

  weights.layers.forEach((layer, index) => {
    const isLast = index === weights.layers.length - 1
    const op = activationOp[layer.activation]
    const gemmOutput = isLast && op === null ? ONNX_OUTPUT_NAME : `${layer.name}/linear`
    initializers.push(
      floatTensor(`${layer.name}/kernel`, [layer.inputs, layer.units], layer.kernel),
      floatTensor(`${layer.name}/bias`, [layer.units], layer.bias),
    )
    nodes.push({
      name: `${layer.name}/Gemm`,
      opType: 'Gemm',
      input: [current, `${layer.name}/kernel`, `${layer.name}/bias`],
      output: [gemmOutput],
      attribute: [intAttribute('transA', 0), intAttribute('transB', 0)],
    })
    current = gemmOutput
    if (op !== null) {
      const activationOutput = isLast ? ONNX_OUTPUT_NAME : `${layer.name}/${layer.activation}`
      nodes.push({
        name: `${layer.name}/${op}`,
        opType: op,
        input: [current],
        output: [activationOutput],
        attribute: op === 'Softmax' ? [intAttribute('axis', -1)] : [],
      })
      current = activationOutput
    }
  })

  const outputUnits = weights.layers[weights.layers.length - 1]!.units
  const metadata = modelMetadata(model)
  const modelProto: OnnxTypes.IModelProto = {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'oblivion',
    producerVersion: '1',
    docString: `${model.name}: MLP on raw features (input normalisation folded into ${weights.layers[0]!.name})`,
    graph: {
      name: model.name,
      node: nodes,
      initializer: initializers,
      input: [floatMatrix(ONNX_INPUT_NAME, weights.inputSize)],
      output: [floatMatrix(ONNX_OUTPUT_NAME, outputUnits)],
    },
    metadataProps: Object.entries({
      class_names: JSON.stringify(metadata.classNames),
      feature_names: JSON.stringify(metadata.featureNames),
      // 'null' (JSON) when trained without differential privacy.
      epsilon: JSON.stringify(metadata.privacy.epsilon),
      delta: JSON.stringify(metadata.privacy.delta),
      metrics: JSON.stringify(metadata.metrics),
      normalization_folded: 'true',
    }).map(([key, value]) => ({ key, value })),
  }
  return onnx.ModelProto.encode(modelProto).finish()
}

function floatTensor(name: string, dims: number[], values: Float32Array): OnnxTypes.ITensorProto {
  return { name, dims, dataType: FLOAT, rawData: float32LittleEndian(values) }
}

/** A float32 [batch, width] value: the batch dimension is symbolic so any batch size runs. */
function floatMatrix(name: string, width: number): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimValue: width }] } },
    },
  }
}

function intAttribute(name: string, value: number): OnnxTypes.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i: value }
}
