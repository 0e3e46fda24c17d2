import * as tf from '@tensorflow/tfjs'
// Registers the 'wasm' backend (XNNPACK kernels; runs in Node and in browsers, no native code).
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm'

export type BackendName = 'wasm' | 'cpu'

export interface BackendOptions {
  /** Browsers: the URL folder serving tfjs-backend-wasm's .wasm files (e.g. '/tfjs-wasm/'). Node finds them itself. */
  wasmPaths?: string
}

/**
 * Selects the TF.js backend for training: wasm where it initialises, else the pure-JS cpu
 * backend. Measured on the 2-core machine, 784-128-10 at batch 64: wasm ~5,400 samples/s,
 * cpu ~1,000 (bench:train). Returns the backend actually in use.
 */
export async function useBackend(preferred: BackendName = 'wasm', options: BackendOptions = {}): Promise<BackendName> {
  // PROD skips TF.js' per-op debug checks and its "install tfjs-node" banner: tfjs-node cannot
  // be installed here, and the banner would end up in every worker's log.
  tf.env().set('PROD', true)
  if (preferred === 'wasm') {
    if (options.wasmPaths) setWasmPaths(options.wasmPaths)
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false)
    try {
      if (tf.getBackend() === 'wasm' || (await tf.setBackend('wasm'))) {
        await tf.ready()
        return 'wasm'
      }
    } catch {
      // fall through to cpu: e.g. a browser without WebAssembly, or .wasm files not served
    }
  }
  if (tf.getBackend() !== 'cpu') await tf.setBackend('cpu')
  await tf.ready()
  return 'cpu'
}
