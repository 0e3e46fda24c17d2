// ZK inference (isomorphic part): quantization, the integer reference, circom source generation.
// Compiling, setup, artifacts and proving are Node-only: src/zk/node.ts.
export { quantizeMlp, quantizeInput, estimateConstraints, inputCommitmentConstraints, defaultZkLimits, ZkModelError, zkRefusalCodes } from './quantize.ts'
export type { QuantizedMlp, QuantizedLayer, QuantizeOptions, ZkLimits, ZkRefusalCode } from './quantize.ts'
export { inferQuantized, argmax, type QuantizedInference } from './reference.ts'
export { chooseScale, quantizedAccuracy, floatMlpAccuracy, type ScaleChoice, type ScaleTrial, type ChooseScaleOptions } from './choose-scale.ts'
export { generateCircuit, MARKETPLACE_CIRCUIT, type CircuitOptions } from './circuit.ts'
export { downsample2x2 } from './downsample.ts'
export {
  commitInput,
  randomSalt,
  inputPacking,
  packInput,
  unpackInput,
  checkSalt,
  InputCommitmentError,
  POSEIDON_MAX_INPUTS,
  PACKED_BITS_PER_ELEMENT,
  type InputPacking,
} from './input-commitment.ts'
export { poseidonConstraints } from './poseidon-cost.ts'
export { BN254_PRIME } from './field.ts'
