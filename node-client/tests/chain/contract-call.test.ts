import { parseEther } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectOblivionSettlement } from '@oblivion/contracts'
import { sendContractCall } from '../../src/chain/contract-call.ts'
import { deployTestSettlement, LegacyWallet, startTestChain, type TestChain } from './chain-fixture.ts'

let chain: TestChain
beforeAll(async () => {
  chain = await startTestChain()
})
afterAll(async () => {
  await chain?.stop()
})

describe('sendContractCall', () => {
  it('sends every call when two signers of one wallet send at once (as two processes with the same key do)', async () => {
    const d = await deployTestSettlement(chain)
    const key = chain.workers[0]!.privateKey
    // Two wallet objects, each asking the node for the next nonce on its own.
    const signers = [new LegacyWallet(key, chain.provider), new LegacyWallet(key, chain.provider)]
    const calls = Array.from({ length: 8 }, (_, i) =>
      sendContractCall(connectOblivionSettlement(d.address, signers[i % 2]!), 'bond', [], { value: parseEther('0.01') }),
    )
    const receipts = await Promise.all(calls)
    expect(new Set(receipts.map((r) => r.hash)).size).toBe(8)
    expect((await d.contract.bondOf(signers[0]!.address)).bonded).toBe(parseEther('0.08'))
  })
})
