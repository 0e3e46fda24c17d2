import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEAD_URL, runCli, tempDir, writeJson } from '../support/run-cli.ts'

const MODEL_ID = '0b6f3c8e-5d1a-4f0e-9c3b-2a7d8e9f1a2b'
const DEV_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'

/** What the marketplace commands refuse before touching the network, with the code a script can match. */
describe('marketplace commands without a chain or a market', () => {
  let noChain: { dir: string; remove: () => Promise<void> }
  let noMarket: { dir: string; remove: () => Promise<void> }
  beforeAll(async () => {
    noChain = await tempDir('oblivion-market-nochain-')
    noMarket = await tempDir('oblivion-market-nomarket-')
    // A chain.json as npm start wrote it before the market existed.
    const account = { address: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', privateKey: DEV_KEY }
    await writeJson(path.join(noMarket.dir, 'chain.json'), {
      network: 'local', rpcUrl: DEAD_URL, chainId: 8119, settlement: '0x5FbDB2315678afecb367f032d93F642f64180aa3', settlementBlock: 1,
      settlementTx: `0x${'1'.repeat(64)}`, deployer: account.address, validator: account, accounts: [account], unbondingDelay: 60, challengeWindow: 60,
      artifactSourceHash: null, deployedAt: new Date().toISOString(),
    })
  })
  afterAll(async () => {
    await noChain.remove()
    await noMarket.remove()
  })

  it.each([
    [['model', 'list', MODEL_ID, '--price', '0.01', '--dev-account', '0'], 'CLI_NO_CHAIN'],
    [['serve', MODEL_ID, '--dev-account', '0'], 'CLI_NO_ARTIFACTS'],
    [['infer', MODEL_ID, '--test-row', '0', '--dev-account', '0'], 'CLI_NO_CHAIN'],
    [['infer', 'refund', MODEL_ID, '--dev-account', '0'], 'CLI_NO_CHAIN'],
  ])('%j without a chain: %s', async (args, code) => {
    const run = await runCli(['--home', noChain.dir, '--url', DEAD_URL, ...args])
    expect(JSON.parse(run.stderr.trim())).toMatchObject({ type: 'error', code })
    expect(run.code).toBe(1)
  })

  it.each([
    [['model', 'list', MODEL_ID, '--price', '0.01', '--dev-account', '0']],
    [['infer', MODEL_ID, '--test-row', '0', '--dev-account', '0']],
  ])('%j on a chain without an InferenceMarket: CLI_NO_MARKET', async (args) => {
    const run = await runCli(['--home', noMarket.dir, '--url', DEAD_URL, ...args])
    expect(JSON.parse(run.stderr.trim())).toMatchObject({ type: 'error', code: 'CLI_NO_MARKET', hint: expect.stringContaining('npm start') })
    expect(run.code).toBe(1)
  })
})
