import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { JsonRpcProvider, Network, parseEther, Wallet } from 'ethers'
import { afterAll, describe, expect, it } from 'vitest'
import { startAnvil, type AnvilChain } from '../../src/local-chain/anvil.ts'

const dirs: string[] = []
const chains: AnvilChain[] = []
afterAll(async () => {
  await Promise.all(chains.map((chain) => chain.stop()))
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })))
})

async function tempDir() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'oblivion-anvil-'))
  dirs.push(dir)
  return dir
}

async function started(options: Parameters<typeof startAnvil>[0] = {}) {
  const chain = await startAnvil(options)
  chains.push(chain)
  return chain
}

function providerFor(chain: AnvilChain) {
  return new JsonRpcProvider(chain.url, undefined, { staticNetwork: Network.from(chain.chainId), cacheTimeout: -1 })
}

describe('startAnvil', () => {
  it('runs a Shardeum-like chain on a free loopback port: chain id 8119, Istanbul rules, funded dev accounts', async () => {
    const chain = await started()
    expect(chain.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(chain.port).toBeGreaterThan(0)
    expect(chain.readyInMs).toBeLessThan(5_000)
    const provider = providerFor(chain)
    expect(Number(await provider.send('eth_chainId', []))).toBe(8119)
    // anvil's default mnemonic, account 0 is the well-known 0xf39F…2266
    expect(chain.accounts).toHaveLength(10)
    expect(chain.accounts[0]!.address).toBe('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266')
    expect(await provider.getBalance(chain.accounts[9]!.address)).toBe(parseEther('10000'))
    // Istanbul: no base fee, so EIP-1559 transactions are refused and legacy ones go through.
    expect((await provider.getBlock('latest'))!.baseFeePerGas).toBeNull()
    const sender = new Wallet(chain.accounts[0]!.privateKey, provider)
    await expect(sender.sendTransaction({ type: 2, to: chain.accounts[1]!.address, value: 1n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 1n })).rejects.toThrow()
    const legacy = await sender.sendTransaction({ type: 0, to: chain.accounts[1]!.address, value: 1n, gasPrice: BigInt(await provider.send('eth_gasPrice', [])) })
    expect((await provider.getTransactionReceipt(legacy.hash))?.status).toBe(1)
    provider.destroy()
  })

  it('keeps the chain across a clean stop and restart through the state file', async () => {
    const stateFile = path.join(await tempDir(), 'anvil-state.json')
    const first = await startAnvil({ stateFile })
    const provider = providerFor(first)
    const recipient = Wallet.createRandom().address
    const sender = new Wallet(first.accounts[0]!.privateKey, provider)
    await sender.sendTransaction({ type: 0, to: recipient, value: 12345n, gasPrice: BigInt(await provider.send('eth_gasPrice', [])) })
    provider.destroy()
    await first.stop()
    expect((await stat(stateFile)).size).toBeGreaterThan(0)

    const second = await started({ stateFile })
    const again = providerFor(second)
    expect(await again.getBalance(recipient)).toBe(12345n)
    expect(await again.getBlockNumber()).toBe(1)
    again.destroy()
  })

  it('says which port is taken when it cannot listen', async () => {
    const chain = await started()
    await expect(startAnvil({ port: chain.port })).rejects.toMatchObject({
      code: 'ANVIL_PORT_IN_USE',
      message: expect.stringMatching(new RegExp(`port ${chain.port} on 127\\.0\\.0\\.1 is in use`)),
    })
  })

  it('names an unreadable state file and how to recover', async () => {
    const stateFile = path.join(await tempDir(), 'anvil-state.json')
    await writeFile(stateFile, '{"half a file')
    await expect(startAnvil({ stateFile })).rejects.toMatchObject({
      code: 'ANVIL_BAD_STATE',
      message: expect.stringMatching(/could not be loaded[\s\S]*delete it to start a fresh chain/),
    })
  })

  it('tells how to reinstall when the binary is missing', async () => {
    await expect(startAnvil({ binary: '/nonexistent/anvil' })).rejects.toMatchObject({
      code: 'ANVIL_MISSING',
      message: expect.stringContaining('npm install'),
    })
  })
})
