import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import solc from 'solc'

/**
 * Compiles Solidity with solc-js (the compiler inside the `solc` npm package, no download) through
 * standard JSON. Shared by `scripts/build.ts`, the drift test and tests that compile fixtures.
 */

/** Shardeum runs Istanbul rules plus PUSH0; solc's newer defaults emit opcodes it lacks, `paris` does not. */
export const EVM_VERSION = 'paris'
/** 200 runs: the settlement contract is called far more often than it is deployed. */
export const OPTIMIZER = { enabled: true, runs: 200 } as const

export const CONTRACTS_ROOT = path.resolve(import.meta.dirname, '../..')

export interface CompiledContract {
  contractName: string
  abi: AbiItem[]
  /** Creation bytecode, 0x-prefixed. */
  bytecode: string
  deployedBytecode: string
}

/** One entry of a JSON ABI, as solc writes it. */
export interface AbiItem {
  type: 'function' | 'constructor' | 'event' | 'error' | 'fallback' | 'receive'
  name?: string
  inputs?: AbiParameter[]
  outputs?: AbiParameter[]
  stateMutability?: 'pure' | 'view' | 'nonpayable' | 'payable'
  anonymous?: boolean
}

export interface AbiParameter {
  name: string
  type: string
  internalType?: string
  indexed?: boolean
  components?: AbiParameter[]
}

export interface Compilation {
  /** Contracts by source unit name, then contract name. */
  contracts: Map<string, Map<string, CompiledContract>>
  /** Every source the compiler read (entry files and resolved imports), by source unit name. */
  sources: Map<string, string>
  solcVersion: string
}

export class CompileError extends Error {
  override name = 'CompileError'
}

interface SolcOutput {
  errors?: { severity: 'error' | 'warning' | 'info'; formattedMessage: string }[]
  sources?: Record<string, unknown>
  contracts?: Record<
    string,
    Record<string, { abi: AbiItem[]; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }>
  >
}

const requireFromHere = createRequire(import.meta.url)

/**
 * Resolves `@scope/package/path.sol` imports from node_modules, as Foundry and Hardhat remap them,
 * and `src/…` units from contracts/.
 * The source unit name stays the import path, so the metadata (and the bytecode's metadata hash)
 * does not depend on where node_modules lies.
 */
function readImport(importPath: string): { contents: string } | { error: string } {
  // Relative imports between the contracts' own sources (`./Groth16Verifier.sol` from
  // src/InferenceMarket.sol) reach here as source unit names under contracts/.
  if (importPath.startsWith('src/')) {
    try {
      return { contents: readFileSync(path.join(CONTRACTS_ROOT, importPath), 'utf8') }
    } catch (error) {
      return { error: `cannot read ${importPath} under contracts/: ${(error as Error).message}` }
    }
  }
  const match = /^(@[^/]+\/[^/]+|[^@/][^/]*)\/(.+)$/.exec(importPath)
  if (!match) return { error: `cannot resolve import ${importPath}: only package imports are supported` }
  const [, packageName, inner] = match as unknown as [string, string, string]
  try {
    const packageRoot = path.dirname(requireFromHere.resolve(`${packageName}/package.json`))
    return { contents: readFileSync(path.join(packageRoot, inner), 'utf8') }
  } catch (error) {
    return { error: `cannot resolve import ${importPath}: ${(error as Error).message} (is ${packageName} installed in contracts/?)` }
  }
}

/**
 * Compiles the given sources (source unit name → contents). Throws a CompileError carrying the
 * compiler's formatted messages when anything fails; warnings are returned, not thrown.
 */
export function compileSolidity(sources: Record<string, string>): Compilation & { warnings: string[] } {
  const input = {
    language: 'Solidity',
    sources: Object.fromEntries(Object.entries(sources).map(([name, content]) => [name, { content }])),
    settings: {
      evmVersion: EVM_VERSION,
      optimizer: OPTIMIZER,
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
    },
  }
  const read = new Map(Object.entries(sources))
  const output = JSON.parse(
    solc.compile(JSON.stringify(input), {
      import: (importPath: string) => {
        const result = readImport(importPath)
        if ('contents' in result) read.set(importPath, result.contents)
        return result
      },
    }),
  ) as SolcOutput
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error')
  if (errors.length > 0) {
    throw new CompileError(`solc ${solc.version()} failed:\n${errors.map((e) => e.formattedMessage).join('\n')}`)
  }
  const contracts = new Map<string, Map<string, CompiledContract>>()
  for (const [unit, byName] of Object.entries(output.contracts ?? {})) {
    const compiled = new Map<string, CompiledContract>()
    for (const [contractName, c] of Object.entries(byName)) {
      compiled.set(contractName, {
        contractName,
        abi: c.abi,
        bytecode: `0x${c.evm.bytecode.object}`,
        deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
      })
    }
    contracts.set(unit, compiled)
  }
  return {
    contracts,
    sources: new Map([...read].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    solcVersion: solc.version(),
    warnings: (output.errors ?? []).filter((e) => e.severity !== 'error').map((e) => e.formattedMessage),
  }
}

/** Compiles one .sol file (path relative to contracts/) and returns the named contract. */
export function compileContractFile(relativePath: string, contractName: string): CompiledContract & { compilation: Compilation } {
  const source = readFileSync(path.join(CONTRACTS_ROOT, relativePath), 'utf8')
  const compilation = compileSolidity({ [relativePath]: source })
  const contract = compilation.contracts.get(relativePath)?.get(contractName)
  if (!contract) throw new CompileError(`${relativePath} has no contract named ${contractName}`)
  return { ...contract, compilation }
}

/**
 * sha-256 over every compiled source, sorted by source unit name (`name NUL contents NUL` each):
 * changes when the contract or a library it imports changes, and identifies a deployment's code.
 */
export function hashSources(sources: Map<string, string>): string {
  const hash = createHash('sha256')
  for (const [name, content] of sources) hash.update(name).update('\0').update(content).update('\0')
  return `0x${hash.digest('hex')}`
}
