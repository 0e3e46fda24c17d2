import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { encryptKeystoreJsonSync, JsonRpcProvider, Network, parseEther, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadArtifact } from '../../src/deploy/artifact.ts'
import { startAnvil, type AnvilChain } from '../../src/local-chain/anvil.ts'

const execFileAsync = promisify(execFile)
const DEPLOY = path.resolve(import.meta.dirname, '../../scripts/deploy.ts')
const TSX = path.resolve(import.meta.dirname, '../../../node_modules/.bin/tsx')

let chain: AnvilChain
let provider: JsonRpcProvider
let work: string
beforeAll(async () => {
  chain = await startAnvil()
  provider = new JsonRpcProvider(chain.url, undefined, { staticNetwork: Network.from(8119), cacheTimeout: -1 })
  work = await mkdtemp(path.join(os.tmpdir(), 'oblivion-deploy-'))
})
afterAll(async () => {
  provider?.destroy()
  await chain?.stop()
  if (work) await rm(work, { recursive: true, force: true })
})

interface Outcome {
  code: number
  stdout: string
  stderr: string
}

/** `npm run deploy:contracts -- <args>` with only the given secrets in its environment. */
async function deploy(args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  const { DEPLOYER_PRIVATE_KEY: _k, KEYSTORE_PASSWORD: _p, SHARDEUM_RPC_URL: _u, ...inherited } = process.env
  try {
    const { stdout, stderr } = await execFileAsync(TSX, [DEPLOY, ...args], { env: { ...inherited, ...env } })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string }
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr }
  }
}

/** A fresh deployer holding 1 coin, so its key appears nowhere but where the test puts it. */
async function fundedDeployer() {
  const deployer = Wallet.createRandom()
  const funder = new Wallet(chain.accounts[0]!.privateKey, provider)
  const gasPrice = BigInt(await provider.send('eth_gasPrice', []))
  const tx = await funder.sendTransaction({ type: 0, to: deployer.address, value: parseEther('1'), gasPrice })
  await tx.wait()
  return deployer
}

function expectNoSecret(outcome: Outcome, ...secrets: string[]) {
  for (const secret of secrets) {
    const bare = secret.replace(/^0x/, '').toLowerCase()
    expect(outcome.stdout.toLowerCase()).not.toContain(bare)
    expect(outcome.stderr.toLowerCase()).not.toContain(bare)
  }
}

describe('npm run deploy:contracts', () => {
  it('deploys to a chain 8119 RPC from an encrypted keystore, prints only the address, and records the deployment', async () => {
    const deployer = await fundedDeployer()
    const password = 'correct horse battery staple'
    // scrypt N = 2^10 instead of ethers' 2^17 default: decrypting takes ms instead of ~1 s.
    const keystore = path.join(work, 'deployer.json')
    await writeFile(keystore, encryptKeystoreJsonSync({ address: deployer.address, privateKey: deployer.privateKey }, password, { scrypt: { N: 1 << 10 } }))
    const deployments = path.join(work, 'deployments')
    const validator = chain.accounts[1]!.address

    const outcome = await deploy(
      ['--network', 'testnet', '--rpc-url', chain.url, '--keystore', keystore, '--validator', validator, '--deployments-dir', deployments],
      { KEYSTORE_PASSWORD: password },
    )

    expect(outcome.stderr).toBe('')
    expect(outcome.code).toBe(0)
    expectNoSecret(outcome, deployer.privateKey, password)
    expect(outcome.stdout).toContain(deployer.address)
    expect(outcome.stdout).toMatch(/gas\s+price [\d.]+ gwei \(eth_gasPrice\)/)
    expect(outcome.stdout).toMatch(/cost\s+about [\d.]+ SHM/)
    const record = JSON.parse(await readFile(path.join(deployments, '8119.json'), 'utf8'))
    expect(record).toMatchObject({
      chainId: 8119,
      network: 'testnet',
      contracts: {
        OblivionSettlement: {
          validator,
          unbondingDelay: 86400,
          challengeWindow: 3600,
          deployedAt: expect.any(String),
          artifactSourceHash: (await loadArtifact()).sourceHash,
        },
      },
    })
    const entry = record.contracts.OblivionSettlement
    expect(outcome.stdout).toContain(entry.address)
    expect(await provider.getCode(entry.address)).not.toBe('0x')
    const tx = await provider.getTransaction(entry.txHash)
    expect(tx).toMatchObject({ type: 0, from: deployer.address, blockNumber: entry.blockNumber })
  })

  it('refuses an RPC whose chain id is not the network\u2019s, sending nothing', async () => {
    const other = await startAnvil({ chainId: 31337 })
    try {
      const deployer = new Wallet(other.accounts[0]!.privateKey)
      const outcome = await deploy(['--network', 'testnet', '--rpc-url', other.url], { DEPLOYER_PRIVATE_KEY: deployer.privateKey })
      expect(outcome.code).toBe(1)
      expect(outcome.stderr).toMatch(/DEPLOY_WRONG_CHAIN.*chain 31337, but --network testnet is chain 8119: nothing was sent/)
      expectNoSecret(outcome, deployer.privateKey)
      const otherProvider = new JsonRpcProvider(other.url, undefined, { staticNetwork: Network.from(31337), cacheTimeout: -1 })
      expect(await otherProvider.getTransactionCount(deployer.address)).toBe(0)
      otherProvider.destroy()
    } finally {
      await other.stop()
    }
  })

  it('--dry-run prices the deployment from DEPLOYER_PRIVATE_KEY and sends nothing', async () => {
    const deployer = await fundedDeployer()
    const outcome = await deploy(['--network', 'testnet', '--rpc-url', chain.url, '--dry-run', '--json'], { DEPLOYER_PRIVATE_KEY: deployer.privateKey })
    expect(outcome.code).toBe(0)
    expectNoSecret(outcome, deployer.privateKey)
    const summary = JSON.parse(outcome.stdout)
    expect(summary).toMatchObject({ dryRun: true, chainId: 8119, deployer: deployer.address, validator: deployer.address })
    expect(BigInt(summary.expectedCost)).toBe(BigInt(summary.gasEstimate) * BigInt(summary.gasPrice))
    expect(await provider.getTransactionCount(deployer.address)).toBe(0)
  })

  it('rejects mainnet without a named RPC, keys given as flags, bad keystores and a missing artifact, with clear messages', async () => {
    const mainnet = await deploy(['--network', 'mainnet'], { DEPLOYER_PRIVATE_KEY: Wallet.createRandom().privateKey })
    expect(mainnet.code).toBe(2)
    expect(mainnet.stderr).toMatch(/pass --rpc-url or set SHARDEUM_RPC_URL/)

    const keyFlag = await deploy(['--network', 'testnet', '--private-key', '0x01'])
    expect(keyFlag.code).toBe(2)
    expect(keyFlag.stderr).toMatch(/Unknown option '--private-key'/)

    const keystore = path.join(work, 'wrong-password.json')
    const owner = Wallet.createRandom()
    await writeFile(keystore, encryptKeystoreJsonSync({ address: owner.address, privateKey: owner.privateKey }, 'right', { scrypt: { N: 1 << 10 } }))
    const wrong = await deploy(['--network', 'local', '--rpc-url', chain.url, '--keystore', keystore], { KEYSTORE_PASSWORD: 'wrong' })
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toMatch(/DEPLOY_BAD_KEYSTORE.*wrong KEYSTORE_PASSWORD/)
    expectNoSecret(wrong, owner.privateKey)

    const noArtifact = await deploy(['--network', 'local', '--rpc-url', chain.url, '--artifact', path.join(work, 'missing.json')])
    expect(noArtifact.code).toBe(1)
    expect(noArtifact.stderr).toMatch(/ARTIFACT_MISSING.*npm run build -w contracts/)
  })
})
