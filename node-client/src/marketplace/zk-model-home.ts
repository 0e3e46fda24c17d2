import path from 'node:path'

/**
 * `<home>/zk-models/<model-id>/`: the owner's marketplace artifacts (model/src/zk/artifacts.node.ts
 * layout). public/ is what the network publishes (manifest, verification key); private/ holds the
 * circuit, proving key, witness program, quantized weights and the ONNX export, and never leaves
 * this machine: the weights are circuit constants.
 */
export function zkModelHome(home: string, modelId: string): string {
  return path.join(home, 'zk-models', modelId)
}

/** The job's ONNX export, kept next to the proving artifacts for `oblivion serve`'s float answer. */
export function onnxFileOf(zkModelDir: string): string {
  return path.join(zkModelDir, 'private', 'model.onnx')
}
