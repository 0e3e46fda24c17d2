import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Contract, JsonRpcProvider, Network, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadArtifact } from '../../src/deploy/artifact.ts'
import { deploySettlement, writeDeployment } from '../../src/deploy/deploy-settlement.ts'
import { startAnvil, type AnvilChain } from '../../src/local-chain/anvil.ts'

let chain: AnvilChain
let provider: JsonRpcProvider
const dirs: string[] = []
beforeAll(async () => {
  chain = await startAnvil()
  provider = new JsonRpcProvider(chain.url, undefined, { staticNetwork: Network.from(chain.chainId), cacheTimeout: -1 })
})
afterAll(async () => {
  provider?.destroy()
  await chain?.stop()
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })))
})

describe('deploySettlement', () => {
  it('deploys with a legacy transaction priced by eth_gasPrice and passes the constructor arguments', async () => {
    const artifact = await loadArtifact()
    const deployer = new Wallet(chain.accounts[0]!.privateKey)
    const validator = chain.accounts[1]!.address
    const gasPrice = BigInt(await provider.send('eth_gasPrice', []))

    const deployed = await deploySettlement({ rpcUrl: chain.url, deployer, validator, unbondingDelay: 600, challengeWindow: 120, artifact })

    const tx = await provider.getTransaction(deployed.txHash)
    expect(tx).toMatchObject({ type: 0, gasPrice, from: deployer.address, to: null })
    expect(deployed).toMatchObject({ deployer: deployer.address, gasPrice })
    expect(await provider.getCode(deployed.address)).not.toBe('0x')
    expect((await provider.getTransactionReceipt(deployed.txHash))?.blockNumber).toBe(deployed.blockNumber)
    const settlement = new Contract(deployed.address, artifact.abi, provider)
    expect(await settlement.getFunction('validator')()).toBe(validator)
    expect(await settlement.getFunction('owner')()).toBe(deployer.address)
    expect(await settlement.getFunction('unbondingDelay')()).toBe(600n)
    expect(await settlement.getFunction('challengeWindow')()).toBe(120n)
  })

  it('refuses to send when the deployer cannot pay, before signing anything', async () => {
    const artifact = await loadArtifact()
    const broke = Wallet.createRandom()
    await expect(
      deploySettlement({ provider, deployer: new Wallet(broke.privateKey), validator: broke.address, unbondingDelay: 1, challengeWindow: 1, artifact }),
    ).rejects.toMatchObject({ code: 'DEPLOY_INSUFFICIENT_FUNDS' })
    expect(await provider.getTransactionCount(broke.address)).toBe(0)
  })
})

describe('writeDeployment', () => {
  it('writes <dir>/<chainId>.json and keeps the entries of other contracts', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'oblivion-deployments-'))
    dirs.push(dir)
    const entry = {
      address: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
      txHash: `0x${'ab'.repeat(32)}`,
      blockNumber: 7,
      deployedAt: '2026-01-01T00:00:00.000Z',
      validator: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
      unbondingDelay: 86400,
      challengeWindow: 3600,
      artifactSourceHash: 'abc',
    }
    await writeDeployment(dir, 8119, { network: 'testnet', contracts: { Verifier: { ...entry, blockNumber: 3 } } })
    const file = await writeDeployment(dir, 8119, { network: 'testnet', contracts: { OblivionSettlement: entry } })
    expect(file).toBe(path.join(dir, '8119.json'))
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({
      chainId: 8119,
      network: 'testnet',
      contracts: { Verifier: { ...entry, blockNumber: 3 }, OblivionSettlement: entry },
    })
  })
})
