import { readFileSync } from 'node:fs'
import path from 'node:path'
import { CONTRACTS_ROOT, EVM_VERSION, OPTIMIZER, compileSolidity, hashSources } from './compile.ts'
import { generateBindings } from './generate-bindings.ts'

/** The settlement contract's source and the two generated files committed next to it. */
export const SETTLEMENT_SOURCE = 'src/OblivionSettlement.sol'
export const SETTLEMENT_ARTIFACT_FILE = path.join(CONTRACTS_ROOT, 'artifacts/OblivionSettlement.json')
export const SETTLEMENT_BINDINGS_FILE = path.join(CONTRACTS_ROOT, 'bindings/OblivionSettlement.ts')

export interface SettlementBuild {
  /** Contents of artifacts/OblivionSettlement.json. */
  artifactJson: string
  /** Contents of bindings/OblivionSettlement.ts. */
  bindingsTs: string
  warnings: string[]
}

/**
 * Compiles the settlement contract and renders both generated files in memory; `scripts/build.ts`
 * writes them, the drift test compares them with the committed ones. Deterministic: same sources and
 * same solc give byte-identical files (the bytecode's metadata hash covers the sources too).
 */
export function buildSettlement(): SettlementBuild {
  const source = readFileSync(path.join(CONTRACTS_ROOT, SETTLEMENT_SOURCE), 'utf8')
  const compilation = compileSolidity({ [SETTLEMENT_SOURCE]: source })
  const contract = compilation.contracts.get(SETTLEMENT_SOURCE)?.get('OblivionSettlement')
  if (!contract) throw new Error(`${SETTLEMENT_SOURCE} compiled without an OblivionSettlement contract`)
  const sourceHash = hashSources(compilation.sources)
  const artifact = {
    contractName: contract.contractName,
    abi: contract.abi,
    bytecode: contract.bytecode,
    deployedBytecode: contract.deployedBytecode,
    compiler: { solc: compilation.solcVersion, evmVersion: EVM_VERSION, optimizer: OPTIMIZER },
    sourceHash,
  }
  return {
    artifactJson: `${JSON.stringify(artifact, null, 2)}\n`,
    bindingsTs: generateBindings({ ...contract, sourceHash, sourcePath: `contracts/${SETTLEMENT_SOURCE}` }),
    warnings: compilation.warnings,
  }
}
