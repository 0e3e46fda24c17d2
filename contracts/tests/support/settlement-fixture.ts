import { parseEther, type TransactionReceipt } from 'ethers'
import { expect } from 'vitest'
import {
  deployOblivionSettlement,
  parseOblivionSettlementLogs,
  type OblivionSettlement,
  type OblivionSettlementEvent,
} from '../../bindings/OblivionSettlement.ts'
import { buildPayoutTree, type Payout, type PayoutTree } from '../../src/merkle/payout-tree.ts'
import { expectBalanceAccounted, mined, randomBytes32, randomJobId, type LegacyWallet, type TestChain } from './chain.ts'

export const UNBONDING_DELAY = 3_600n
export const CHALLENGE_WINDOW = 600n

export const JobStatus = { None: 0n, Funded: 1n, Cancelled: 2n, Expired: 3n, Settled: 4n } as const

export interface Deployment {
  contract: OblivionSettlement
  address: string
  owner: LegacyWallet
  validator: LegacyWallet
  creator: LegacyWallet
  stranger: LegacyWallet
  workers: LegacyWallet[]
  /** The contract as seen by one of the wallets. */
  as(wallet: LegacyWallet): OblivionSettlement
}

/**
 * Deploys a fresh contract per test (account 0 owns it, account 1 validates) and remembers it so
 * `expectAllAccounted` can check the balance invariant after the test.
 */
export class SettlementFixture {
  private deployed: OblivionSettlement[] = []

  constructor(readonly chain: TestChain) {}

  async deploy(): Promise<Deployment> {
    const [owner, validator, creator, stranger, ...workers] = this.chain.wallets as [
      LegacyWallet,
      LegacyWallet,
      LegacyWallet,
      LegacyWallet,
      ...LegacyWallet[],
    ]
    const contract = await deployOblivionSettlement(owner, validator.address, UNBONDING_DELAY, CHALLENGE_WINDOW)
    this.deployed.push(contract)
    return {
      contract,
      address: await contract.getAddress(),
      owner,
      validator,
      creator,
      stranger,
      workers,
      as: (wallet) => contract.connect(wallet),
    }
  }

  /** address(contract).balance == accountedBalance() for every contract the test deployed. */
  async expectAllAccounted(): Promise<void> {
    const deployed = this.deployed
    this.deployed = []
    for (const contract of deployed) await expectBalanceAccounted(this.chain, contract)
  }

  /** Funds a job from `creator` with a deadline `deadlineIn` seconds from the latest block. */
  async fundJob(
    d: Deployment,
    { value = parseEther('10'), deadlineIn = 86_400n, creator = d.creator }: { value?: bigint; deadlineIn?: bigint; creator?: LegacyWallet } = {},
  ) {
    const jobId = randomJobId()
    const specHash = randomBytes32()
    const deadline = (await this.chain.now()) + deadlineIn
    const receipt = await mined(d.as(creator).createJob(jobId, specHash, deadline, { value }))
    return { jobId, specHash, deadline, value, receipt }
  }

  /** Settles a job with a payout tree and returns the tree and the receipt. */
  async settle(d: Deployment, jobId: string, payouts: Payout[]): Promise<{ tree: PayoutTree; receipt: TransactionReceipt }> {
    const tree = buildPayoutTree(payouts)
    const receipt = await mined(
      d.as(d.validator).settle(jobId, tree.root, tree.total, tree.count, randomBytes32(), randomBytes32()),
    )
    return { tree, receipt }
  }

  /** Claims `worker`'s leaf of `tree`. */
  claim(d: Deployment, jobId: string, tree: PayoutTree, worker: LegacyWallet) {
    return mined(d.as(worker).claimPayout(jobId, tree.amounts.get(worker.address)!, tree.proofs.get(worker.address)!))
  }
}

/** The contract's decoded events in a receipt, as plain `{ name, args }`. */
export function eventsOf(d: Deployment, receipt: TransactionReceipt): Pick<OblivionSettlementEvent, 'name' | 'args'>[] {
  return parseOblivionSettlementLogs(receipt.logs, d.address).map(({ name, args }) => ({ name, args }) as Pick<OblivionSettlementEvent, 'name' | 'args'>)
}

/** What the sender paid for a mined transaction (legacy: gasUsed × gasPrice). */
export function feeOf(receipt: TransactionReceipt): bigint {
  return receipt.gasUsed * receipt.gasPrice
}

/** Runs `action` and checks `wallet`'s balance moved by exactly `delta` plus the fee it paid. */
export async function expectBalanceDelta(
  chain: TestChain,
  wallet: LegacyWallet,
  delta: bigint,
  action: () => Promise<TransactionReceipt>,
): Promise<TransactionReceipt> {
  const before = await chain.provider.getBalance(wallet.address)
  const receipt = await action()
  const after = await chain.provider.getBalance(wallet.address)
  expect(after - before).toBe(delta - feeOf(receipt))
  return receipt
}
