// @oblivion/model/zk/node: the Node-only half of the ZK compiler (circom2 compile, witnesses,
// trusted setup, artifacts, proving). The isomorphic half is @oblivion/model/zk.
export * from './compile.node.ts'
export * from './ptau.node.ts'
export * from './setup.node.ts'
export * from './artifacts.node.ts'
export * from './prover.node.ts'
export * from './zkey-redaction.node.ts'
