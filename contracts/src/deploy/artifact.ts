import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { InterfaceAbi } from 'ethers'
import { ChainError } from '../chain-error.ts'

/** The parts of a compiled contract artifact (contracts/artifacts/*.json) deployment needs. */
export interface ContractArtifact {
  contractName: string
  abi: InterfaceAbi
  /** Creation bytecode, 0x-prefixed. */
  bytecode: string
  deployedBytecode?: string
  /** sha-256 of the Solidity sources the build compiled (written by scripts/build.ts). */
  sourceHash?: string
}

/** The committed artifact of the settlement contract. */
export const SETTLEMENT_ARTIFACT = path.resolve(import.meta.dirname, '../../artifacts/OblivionSettlement.json')

/** The committed artifact of the inference market. */
export const MARKET_ARTIFACT = path.resolve(import.meta.dirname, '../../artifacts/InferenceMarket.json')

export async function loadArtifact(file: string = SETTLEMENT_ARTIFACT): Promise<ContractArtifact> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    throw new ChainError('ARTIFACT_MISSING', `no contract artifact at ${file}: build it with npm run build -w contracts`, { cause: error })
  }
  const artifact = JSON.parse(text) as Partial<ContractArtifact>
  if (!Array.isArray(artifact.abi) || typeof artifact.bytecode !== 'string' || !/^0x[0-9a-f]+$/i.test(artifact.bytecode)) {
    throw new ChainError('ARTIFACT_MISSING', `${file} has no abi and bytecode: rebuild it with npm run build -w contracts`)
  }
  return { contractName: artifact.contractName ?? path.basename(file, '.json'), ...artifact } as ContractArtifact
}

/** What identifies the deployed code: the artifact's source hash, else the bytecode's sha-256. */
export function artifactIdentity(artifact: ContractArtifact): string {
  return artifact.sourceHash ?? `bytecode-sha256:${createHash('sha256').update(artifact.bytecode).digest('hex')}`
}
