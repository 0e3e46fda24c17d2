/**
 * BN254's scalar field r (circom's and snarkjs' `p`): every signal is an integer mod r, negatives
 * read r − |v|, and a Groth16 public signal must be < r or the verifier refuses it.
 */
export const BN254_PRIME = 21888242871839275222246405745257275088548364400416034343698204186575808495617n
