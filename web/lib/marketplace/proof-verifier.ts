/**
 * Groth16 verification in the buyer's browser: snarkjs (≈ 540 kB) is imported only when a proof
 * arrives, as a separate chunk, so the marketplace pages load without it. Verification itself
 * takes 15–30 ms (shared/notes/zk.md) and runs its pairing in ffjavascript's WebAssembly (with
 * its own worker threads), so the page stays responsive.
 */
export interface OffChainVerdict {
  ok: boolean
  ms: number
}

export async function verifyProof(verificationKey: unknown, publicSignals: readonly string[], proof: unknown): Promise<OffChainVerdict> {
  const { groth16 } = await import('snarkjs')
  const started = performance.now()
  const ok = await groth16.verify(verificationKey, publicSignals, proof)
  return { ok, ms: performance.now() - started }
}
