import { ContractFactory, getAddress, type JsonRpcProvider, type Wallet } from 'ethers'
import { ChainError } from '../chain-error.ts'
import type { ContractArtifact } from './artifact.ts'
import { waitForReceipt } from './deploy-settlement.ts'

export interface MarketDeployParams {
  provider: JsonRpcProvider
  deployer: Wallet
  /** Seconds a model owner has to answer a request before the buyer may refund. */
  requestTimeout: number
  /** contracts/artifacts/InferenceMarket.json (loadArtifact(MARKET_ARTIFACT)). */
  artifact: ContractArtifact
}

export interface MarketDeployment {
  address: string
  txHash: string
  blockNumber: number
  gasUsed: bigint
}

/**
 * Deploys InferenceMarket(requestTimeout) with a legacy (type 0) transaction priced by
 * eth_gasPrice, as deploySettlement does (Shardeum takes no EIP-1559 transactions), and checks the
 * code is at the new address. Deployment uses ~1.62M gas; the limit is the estimate + 20%.
 */
export async function deployMarket(params: MarketDeployParams): Promise<MarketDeployment> {
  const { provider, requestTimeout, artifact } = params
  if (!Number.isInteger(requestTimeout) || requestTimeout <= 0) {
    throw new ChainError('DEPLOY_FAILED', `requestTimeout must be a positive number of seconds, got ${requestTimeout}`)
  }
  const { data } = await new ContractFactory(artifact.abi, artifact.bytecode).getDeployTransaction(requestTimeout)
  const signer = params.deployer.connect(provider)
  const [gasPriceHex, gasEstimate] = await Promise.all([
    provider.send('eth_gasPrice', []) as Promise<string>,
    provider.estimateGas({ from: signer.address, data }),
  ])
  const sent = await signer.sendTransaction({ type: 0, data, gasPrice: BigInt(gasPriceHex), gasLimit: (gasEstimate * 6n) / 5n })
  const receipt = await waitForReceipt(provider, sent.hash, 300_000)
  if (receipt.status !== 1 || !receipt.contractAddress) {
    throw new ChainError('DEPLOY_FAILED', `the InferenceMarket deployment ${sent.hash} reverted (gas used ${receipt.gasUsed})`)
  }
  if ((await provider.getCode(receipt.contractAddress)) === '0x') {
    throw new ChainError('DEPLOY_FAILED', `transaction ${sent.hash} succeeded but ${receipt.contractAddress} has no code`)
  }
  return { address: getAddress(receipt.contractAddress), txHash: sent.hash, blockNumber: receipt.blockNumber, gasUsed: receipt.gasUsed }
}
