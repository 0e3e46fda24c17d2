// ZK inference (isomorphic part): quantization, the integer reference, circom source generation.
// Compiling and witnesses are Node-only: src/zk/compile.node.ts.
export { quantizeMlp, quantizeInput, estimateConstraints, defaultZkLimits, ZkModelError, zkRefusalCodes } from './quantize.ts'
export type { QuantizedMlp, QuantizedLayer, QuantizeOptions, ZkLimits, ZkRefusalCode } from './quantize.ts'
export { inferQuantized, argmax, type QuantizedInference } from './reference.ts'
export { chooseScale, quantizedAccuracy, floatMlpAccuracy, type ScaleChoice, type ScaleTrial, type ChooseScaleOptions } from './choose-scale.ts'
export { generateCircuit, type CircuitOptions } from './circuit.ts'
export { downsample2x2 } from './downsample.ts'
