// snarkjs ships no types; the web app uses only Groth16 verification (lib/marketplace/proof-verifier.ts).
declare module 'snarkjs' {
  export const groth16: {
    verify(verificationKey: unknown, publicSignals: readonly (string | number | bigint)[], proof: unknown, logger?: unknown): Promise<boolean>
  }
}
