import { randomUUID } from 'node:crypto'
import { JsonRpcProvider, Network, hexlify, parseEther, randomBytes, type TransactionResponse } from 'ethers'
import {
  deployOblivionSettlement,
  devAccounts,
  jobIdFromUuid,
  LegacyWallet,
  startAnvil,
  type AnvilChain,
  type OblivionSettlement,
} from '@oblivion/contracts'

export const UNBONDING_DELAY = 60
export const CHALLENGE_WINDOW = 60

export { LegacyWallet }

export interface TestChain {
  anvil: AnvilChain
  provider: JsonRpcProvider
  /** Dev accounts: 0 owner, 1 validator, 2 creator, 3 stranger, 4… workers. */
  owner: LegacyWallet
  validator: LegacyWallet
  creator: LegacyWallet
  stranger: LegacyWallet
  workers: LegacyWallet[]
  increaseTime(seconds: number): Promise<void>
  stop(): Promise<void>
}

export async function startTestChain(): Promise<TestChain> {
  const anvil = await startAnvil({ port: 0 })
  const provider = new JsonRpcProvider(anvil.url, undefined, { staticNetwork: Network.from(8119), cacheTimeout: -1 })
  const wallets = devAccounts(10).map((a) => new LegacyWallet(a.privateKey, provider))
  const [owner, validator, creator, stranger, ...workers] = wallets as [LegacyWallet, LegacyWallet, LegacyWallet, LegacyWallet, ...LegacyWallet[]]
  return {
    anvil,
    provider,
    owner,
    validator,
    creator,
    stranger,
    workers,
    async increaseTime(seconds) {
      await provider.send('evm_increaseTime', [seconds])
      await provider.send('evm_mine', [])
    },
    async stop() {
      provider.destroy()
      await anvil.stop()
    },
  }
}

export interface TestDeployment {
  contract: OblivionSettlement
  address: string
  /** The block the contract was deployed in. */
  deployBlock: number
}

export async function deployTestSettlement(chain: TestChain): Promise<TestDeployment> {
  const contract = await deployOblivionSettlement(chain.owner, chain.validator.address, UNBONDING_DELAY, CHALLENGE_WINDOW)
  const receipt = await contract.deploymentTransaction()!.wait()
  return { contract, address: await contract.getAddress(), deployBlock: receipt!.blockNumber }
}

export async function mined(tx: Promise<TransactionResponse>) {
  const receipt = await (await tx).wait()
  if (!receipt || receipt.status !== 1) throw new Error('transaction failed')
  return receipt
}

export function randomBytes32(): string {
  return hexlify(randomBytes(32))
}

/** Funds a new job (uuid) from the creator with `value`, deadline a day ahead. */
export async function fundJob(chain: TestChain, d: TestDeployment, value = parseEther('1')) {
  const uuid = randomUUID()
  const latest = await chain.provider.getBlock('latest')
  const receipt = await mined(d.contract.connect(chain.creator).createJob(jobIdFromUuid(uuid), randomBytes32(), latest!.timestamp + 86_400, { value }))
  return { uuid, jobId: jobIdFromUuid(uuid), receipt }
}
