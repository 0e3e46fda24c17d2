import { readFileSync } from 'node:fs'
import path from 'node:path'
import { CONTRACTS_ROOT, EVM_VERSION, OPTIMIZER, compileSolidity, hashSources } from './compile.ts'
import { generateBindings } from './generate-bindings.ts'

/** A contract the build compiles, and the two generated files committed for it. */
export interface ContractTarget {
  contractName: string
  /** Relative to contracts/. */
  source: string
  artifactFile: string
  bindingsFile: string
}

function target(contractName: string): ContractTarget {
  return {
    contractName,
    source: `src/${contractName}.sol`,
    artifactFile: path.join(CONTRACTS_ROOT, `artifacts/${contractName}.json`),
    bindingsFile: path.join(CONTRACTS_ROOT, `bindings/${contractName}.ts`),
  }
}

export const SETTLEMENT_TARGET = target('OblivionSettlement')
export const MARKET_TARGET = target('InferenceMarket')
/** What `npm run build -w contracts` writes and the drift test checks. */
export const CONTRACT_TARGETS: readonly ContractTarget[] = [SETTLEMENT_TARGET, MARKET_TARGET]

export interface ContractBuild {
  /** Contents of artifacts/<Name>.json. */
  artifactJson: string
  /** Contents of bindings/<Name>.ts. */
  bindingsTs: string
  warnings: string[]
}

/**
 * Compiles one contract and renders both generated files in memory; `scripts/build.ts` writes them,
 * the drift test compares them with the committed ones. Deterministic: same sources and same solc
 * give byte-identical files (the bytecode's metadata hash covers the sources too). Imports of
 * `./X.sol` resolve under contracts/src (see compile.ts).
 */
export function buildContract(target: ContractTarget): ContractBuild {
  const source = readFileSync(path.join(CONTRACTS_ROOT, target.source), 'utf8')
  const compilation = compileSolidity({ [target.source]: source })
  const contract = compilation.contracts.get(target.source)?.get(target.contractName)
  if (!contract) throw new Error(`${target.source} compiled without a ${target.contractName} contract`)
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
    bindingsTs: generateBindings({ ...contract, sourceHash, sourcePath: `contracts/${target.source}` }),
    warnings: compilation.warnings,
  }
}
