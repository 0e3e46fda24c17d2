import * as tf from '@tensorflow/tfjs'

/**
 * Per-example clip factors for an MLP without materialising per-example gradients.
 * For a Dense layer with input a_i and delta δ_i, example i's kernel gradient is the outer
 * product a_i ⊗ δ_i, whose squared Frobenius norm is ‖a_i‖²·‖δ_i‖², and its bias gradient is
 * δ_i. So ‖g_i‖² = Σ_l (‖a_{l,i}‖² + 1)·‖δ_{l,i}‖², and c_i = min(1, C / ‖g_i‖) clips example
 * i's whole gradient to norm C (Abadi et al. 2016; Goodfellow 2015, "ghost" norms).
 */
export function perExampleClipFactors(
  layerInputs: tf.Tensor2D[],
  deltas: tf.Tensor2D[],
  clipNorm: number,
): { factors: tf.Tensor1D; norms: tf.Tensor1D; clippedCount: tf.Scalar } {
  let squared: tf.Tensor1D | null = null
  for (let l = 0; l < deltas.length; l++) {
    const inputNorm = tf.add(tf.sum(tf.square(layerInputs[l]!), 1), 1)
    const term = tf.mul(inputNorm, tf.sum(tf.square(deltas[l]!), 1)) as tf.Tensor1D
    squared = squared === null ? term : (tf.add(squared, term) as tf.Tensor1D)
  }
  const norms = tf.sqrt(squared!) as tf.Tensor1D
  // 1e-12 keeps a zero gradient (perfectly fitted example) from dividing by zero.
  const factors = tf.minimum(1, tf.div(clipNorm, tf.add(norms, 1e-12))) as tf.Tensor1D
  const clippedCount = tf.sum(tf.cast(tf.greater(norms, clipNorm), 'float32')) as tf.Scalar
  return { factors, norms, clippedCount }
}
