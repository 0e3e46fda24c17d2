import * as tf from '@tensorflow/tfjs'
// Registers the 'wasm' backend (XNNPACK kernels; runs in Node and in browsers, no native code).
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm'

export type BackendName = 'wasm' | 'cpu'

export interface BackendOptions {
  /** Browsers: the URL folder serving tfjs-backend-wasm's .wasm files (e.g. '/tfjs-wasm/'). Node finds them itself. */
  wasmPaths?: string
  /** Told why wasm could not start when training falls back to the (~5× slower) cpu backend. */
  onFallback?: (reason: string) => void
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
    let reason = 'the wasm backend did not initialise (are the .wasm files served?)'
    try {
      // engine().backendName, not getBackend(): the latter initialises the best registered backend
      // first, which in a browser is webgl (a GPU context in a Web Worker, warnings without one).
      if (tf.engine().backendName === 'wasm' || (await tf.setBackend('wasm'))) {
        await tf.ready()
        return 'wasm'
      }
    } catch (error) {
      // e.g. a browser without WebAssembly, or .wasm files not served
      reason = `the wasm backend failed: ${(error as Error).message ?? String(error)}`
    }
    options.onFallback?.(reason)
  }
  if (tf.engine().backendName !== 'cpu') await tf.setBackend('cpu')
  await tf.ready()
  return 'cpu'
}
