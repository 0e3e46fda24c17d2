import path from 'node:path'
import { JsonRpcProvider, Network, parseEther } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  connectOblivionSettlement,
  jobIdFromUuid,
  LegacyWallet,
  parseOblivionSettlementLogs,
  startLocalChain,
  writeChainConfig,
  type ChainConfig,
  type LocalChain,
  type OblivionSettlement,
} from '@oblivion/contracts'
import { settleJobOnChain } from '../../src/chain/settle-job.ts'
import { specHash } from '../../src/chain/spec-hash.ts'
import { startTestGateway, type TestGateway } from '../../../supabase/tests/gateway/support/test-gateway.ts'
import { DEAD_URL, jsonLines, runCli, startCli, tempDir, validSpec, writeJson } from '../support/run-cli.ts'

/** Seconds; the test moves anvil's clock past them (evm_increaseTime) instead of waiting. */
const CHALLENGE_WINDOW = 300
const UNBONDING_DELAY = 300
const MODEL_CID = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'

type Line = ReturnType<typeof jsonLines>[number]

/**
 * The money commands (worker bond/unbond/withdraw/claim/stake, job create's escrow, job
 * fund/cancel/refund) as child processes against a real local network: the gateway (PGlite) and
 * anvil with the settlement contract, described in <home>/chain.json as `npm start` writes it.
 * The coordinator's part (settling a job, its settlements row) is played here with the
 * validator's key and the database.
 */
describe('oblivion money commands against a local chain and gateway', () => {
  let gw: TestGateway
  let home: { dir: string; remove: () => Promise<void> }
  let chain: LocalChain
  let config: ChainConfig
  let provider: JsonRpcProvider
  let contract: OblivionSettlement
  let specFile: string
  /** A funded job (`job create`, dev account 2) that the claim test settles. */
  let fundedJobId: string

  const address = (account: number) => config.accounts[account]!.address
  const balance = (account: number) => provider.getBalance(address(account))
  const increaseTime = async (seconds: number) => {
    await provider.send('evm_increaseTime', [seconds])
    await provider.send('evm_mine', [])
  }
  const gasOf = async (txHash: string) => {
    const receipt = await provider.getTransactionReceipt(txHash)
    return receipt!.gasUsed * receipt!.gasPrice
  }

  /** `oblivion <args>` against this network; its JSON lines, the error line, the exit code. */
  const oblivion = async (args: string[], env: Record<string, string> = {}) => {
    const run = await runCli(['--home', home.dir, '--url', gw.url, ...args], { env })
    const error = run.stderr.trim() ? (JSON.parse(run.stderr.trim().split('\n')[0]!) as { code: string; message: string; hint?: string }) : null
    return { code: run.code, lines: jsonLines(run.stdout), error, stderr: run.stderr }
  }
  const line = (lines: Line[], type: string) => {
    const found = lines.find((l) => l.type === type)
    if (!found) throw new Error(`no ${type} line in ${JSON.stringify(lines)}`)
    return found
  }
  const jobCount = async () => (await gw.db.query<{ n: number }>('select count(*)::int as n from public.jobs')).rows[0]!.n

  beforeAll(async () => {
    gw = await startTestGateway('pglite')
    home = await tempDir('oblivion-cli-money-')
    await writeJson(path.join(home.dir, 'gateway.json'), gw.keys)
    chain = await startLocalChain({ home: home.dir, port: 0, challengeWindow: CHALLENGE_WINDOW, unbondingDelay: UNBONDING_DELAY })
    config = chain.config
    provider = new JsonRpcProvider(config.rpcUrl, undefined, { staticNetwork: Network.from(config.chainId), cacheTimeout: -1 })
    contract = connectOblivionSettlement(config.settlement, provider)
    specFile = await writeJson(path.join(home.dir, 'spec.json'), validSpec())
  })
  afterAll(async () => {
    provider?.destroy()
    await chain?.stop()
    await gw?.close()
    await home?.remove()
  })

  it('worker bond adds to the bond (coins or wei) and worker stake shows it', async () => {
    const bond = await oblivion(['worker', 'bond', '1.5', '--dev-account', '5'])
    expect(bond.error).toBeNull()
    expect(bond.code).toBe(0)
    expect(line(bond.lines, 'bonded')).toMatchObject({ address: address(5), amountWei: '1500000000000000000', bondedWei: '1500000000000000000', chainId: 8119 })
    const more = await oblivion(['worker', 'bond', '1000wei', '--dev-account', '5'])
    expect(line(more.lines, 'bonded')).toMatchObject({ amountWei: '1000', bondedWei: '1500000000000001000' })
    expect((await contract.bondOf(address(5))).bonded).toBe(1_500_000_000_000_001_000n)

    const stake = await oblivion(['worker', 'stake', '--dev-account', '5'])
    expect(stake.code).toBe(0)
    expect(line(stake.lines, 'stake')).toMatchObject({
      address: address(5),
      balanceWei: String(await balance(5)),
      bondedWei: '1500000000000001000',
      unbondingWei: '0',
      unlockAt: null,
      creditsWei: '0',
    })
  })

  it('worker unbond starts the delay; withdraw is refused with the unlock time until it has passed, then pays', async () => {
    const tooMuch = await oblivion(['worker', 'unbond', '100', '--dev-account', '5'])
    expect(tooMuch.code).toBe(1)
    expect(tooMuch.error).toMatchObject({ code: 'InsufficientBond', message: expect.stringContaining('cannot unbond 100 SHM') })

    const unbond = await oblivion(['worker', 'unbond', '1', '--dev-account', '5'])
    expect(unbond.code).toBe(0)
    const { unlockAt } = await contract.bondOf(address(5))
    expect(line(unbond.lines, 'unbond-requested')).toMatchObject({
      amountWei: '1000000000000000000',
      bondedWei: '500000000000001000',
      unbondingWei: '1000000000000000000',
      unlockAt: new Date(Number(unlockAt) * 1000).toISOString(),
    })

    const early = await oblivion(['worker', 'withdraw', '--dev-account', '5'])
    expect(early.code).toBe(1)
    expect(early.lines).toEqual([])
    expect(early.error!.code).toBe('StillUnbonding')
    expect(early.error!.message).toContain(new Date(Number(unlockAt) * 1000).toISOString())
    expect(early.error!.message).toMatch(/, (29\d|300) s from now/)

    await increaseTime(UNBONDING_DELAY + 1)
    const before = await balance(5)
    const withdraw = await oblivion(['worker', 'withdraw', '--dev-account', '5'])
    expect(withdraw.code).toBe(0)
    const withdrawn = line(withdraw.lines, 'withdrawn')
    expect(withdrawn).toMatchObject({ amountWei: '1000000000000000000' })
    expect((await balance(5)) - before).toBe(parseEther('1') - (await gasOf(withdrawn.txHash as string)))
    expect((await contract.bondOf(address(5))).toObject()).toMatchObject({ bonded: 500_000_000_000_001_000n, unbonding: 0n })

    const nothing = await oblivion(['worker', 'withdraw', '--dev-account', '5'])
    expect(nothing.code).toBe(1)
    expect(nothing.error).toMatchObject({ code: 'ZeroAmount', hint: expect.stringContaining('oblivion worker unbond') })
  })

  it('oblivion worker signs in with its wallet and registers the wallet address as its payout address', async () => {
    const worker = startCli(['--home', home.dir, '--url', gw.url, 'worker', '--name', 'w1', '--dev-account', '4', '--backend', 'cpu'])
    let stdout = ''
    let stderr = ''
    worker.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const registered = await new Promise<Line>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no registered line within 30 s: ${stdout} ${stderr}`)), 30_000)
      worker.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk
        const found = jsonLines(stdout.slice(0, stdout.lastIndexOf('\n') + 1)).find((l) => l.type === 'registered')
        if (found) {
          clearTimeout(timer)
          resolve(found)
        }
      })
    })
    // Registered is all this test needs (stopping is worker-command.test.ts's subject).
    const exited = new Promise((resolve) => worker.on('close', resolve))
    worker.kill('SIGKILL')
    await exited
    expect(registered).toMatchObject({ name: 'w1', payoutAddress: address(4).toLowerCase() })
    expect(stdout).not.toContain('no payout address')
    const { rows } = await gw.db.query<{ payout_address: string }>(`select payout_address from public.workers where name = 'w1'`)
    expect(rows).toEqual([{ payout_address: address(4).toLowerCase() }])
    // Its identity is the wallet's (Sign-In with Ethereum), which is what lets it name that address.
    const { rows: identities } = await gw.db.query<{ provider_id: string }>(
      `select i.provider_id from auth.identities i join public.workers w on w.owner_id = i.user_id where w.name = 'w1' and i.provider = 'web3'`,
    )
    expect(identities.map((i) => i.provider_id.toLowerCase())).toEqual([`web3:ethereum:${address(4).toLowerCase()}`])
  })

  it('job create funds the escrow: reward, the spec hash of the stored spec, a deadline a week ahead', async () => {
    const created = await oblivion(['job', 'create', specFile, '--reward-wei', '2000000000000000000', '--dev-account', '2'])
    expect(created.error).toBeNull()
    expect(created.code).toBe(0)
    expect(created.lines.map((l) => l.type)).toEqual(['job-created', 'job-funded'])
    fundedJobId = line(created.lines, 'job-created').id as string
    const funded = line(created.lines, 'job-funded')
    expect(funded).toMatchObject({ id: fundedJobId, chainId: 8119, amountWei: '2000000000000000000', creator: address(2) })

    const { rows } = await gw.db.query<{ spec: unknown }>('select spec from public.jobs where id = $1', [fundedJobId])
    const expectedHash = await specHash(rows[0]!.spec)
    const receipt = await provider.getTransactionReceipt(funded.txHash as string)
    expect(receipt!.type).toBe(0)
    const event = parseOblivionSettlementLogs(receipt!.logs, config.settlement).find((e) => e.name === 'JobFunded')
    expect(event?.args).toMatchObject({ jobId: jobIdFromUuid(fundedJobId), creator: address(2), amount: parseEther('2'), specHash: expectedHash })
    const onChain = await contract.getJob(jobIdFromUuid(fundedJobId))
    expect(onChain.toObject()).toMatchObject({ status: 1n, escrow: parseEther('2'), specHash: expectedHash, started: false })
    const block = await provider.getBlock(receipt!.blockNumber)
    const ahead = Number(onChain.deadline) - block!.timestamp
    expect(ahead).toBeLessThanOrEqual(168 * 3600)
    expect(ahead).toBeGreaterThan(168 * 3600 - 10)
    expect(funded.deadline).toBe(new Date(Number(onChain.deadline) * 1000).toISOString())
  })

  it('job create with a chain and no wallet refuses before creating anything', async () => {
    const before = await jobCount()
    const refused = await oblivion(['job', 'create', specFile])
    expect(refused.code).toBe(2)
    expect(refused.lines).toEqual([])
    expect(refused.error).toMatchObject({ code: 'CLI_NO_WALLET' })
    for (const way of ['--dev-account', '--keystore', 'OBLIVION_PRIVATE_KEY', '--no-fund']) expect(refused.error!.hint).toContain(way)
    expect(await jobCount()).toBe(before)
  })

  it('job fund funds a job created with --no-fund, and refuses a job funded already', async () => {
    const created = await oblivion(['job', 'create', specFile, '--reward-wei', '1000', '--no-fund'])
    expect(created.lines.map((l) => l.type)).toEqual(['job-created'])
    const id = line(created.lines, 'job-created').id as string
    const funded = await oblivion(['job', 'fund', id, '--dev-account', '2', '--deadline-hours', '1'])
    expect(funded.code).toBe(0)
    expect(line(funded.lines, 'job-funded')).toMatchObject({ id, amountWei: '1000' })
    expect((await contract.getJob(jobIdFromUuid(id))).escrow).toBe(1000n)

    const again = await oblivion(['job', 'fund', fundedJobId, '--dev-account', '2'])
    expect(again.code).toBe(1)
    expect(again.error).toMatchObject({ code: 'CLI_ALREADY_FUNDED', message: expect.stringContaining('funded, 2 SHM') })
  })

  it('job cancel refunds an escrow no work has started on, refuses one that started, and cancels a job without escrow in the database', async () => {
    const created = await oblivion(['job', 'create', specFile, '--reward-wei', '3000000000000000000', '--dev-account', '3'])
    const id = line(created.lines, 'job-created').id as string
    const before = await balance(3)
    const cancelled = await oblivion(['job', 'cancel', id, '--dev-account', '3'])
    expect(cancelled.error).toBeNull()
    const record = line(cancelled.lines, 'job-cancelled')
    expect(record).toMatchObject({ id, status: 'cancelled', refundWei: '3000000000000000000', chainId: 8119 })
    expect((await balance(3)) - before).toBe(parseEther('3') - (await gasOf(record.txHash as string)))
    expect((await contract.getJob(jobIdFromUuid(id))).status).toBe(2n)
    expect((await gw.db.query<{ status: string }>('select status from public.jobs where id = $1', [id])).rows[0]!.status).toBe('cancelled')

    const startedJob = line((await oblivion(['job', 'create', specFile, '--reward-wei', '1000', '--dev-account', '3'])).lines, 'job-created').id as string
    const validator = new LegacyWallet(config.validator.privateKey, provider)
    await (await contract.connect(validator).markStarted(jobIdFromUuid(startedJob))).wait()
    const refused = await oblivion(['job', 'cancel', startedJob, '--dev-account', '3'])
    expect(refused.code).toBe(1)
    expect(refused.error).toMatchObject({ code: 'AlreadyStarted', message: expect.stringContaining(`oblivion job refund ${startedJob}`) })

    const local = line((await oblivion(['job', 'create', specFile, '--no-fund'])).lines, 'job-created').id as string
    const plain = await oblivion(['job', 'cancel', local])
    expect(plain.code).toBe(0)
    expect(line(plain.lines, 'job-cancelled')).toMatchObject({ id: local, status: 'cancelled', refundWei: null, txHash: null })
  })

  it('job refund expires a job past its deadline and withdraws the credit; then there is nothing left', async () => {
    const created = await oblivion(['job', 'create', specFile, '--reward-wei', '4000000000000000000', '--dev-account', '6', '--deadline-hours', '1'])
    const id = line(created.lines, 'job-created').id as string
    const early = await oblivion(['job', 'refund', id, '--dev-account', '6'])
    expect(early.code).toBe(1)
    expect(early.error).toMatchObject({ code: 'NotExpired', hint: expect.stringContaining(`oblivion job cancel ${id}`) })

    await increaseTime(3601)
    const before = await balance(6)
    const refund = await oblivion(['job', 'refund', id, '--dev-account', '6'])
    expect(refund.code).toBe(0)
    const expired = line(refund.lines, 'job-expired')
    const withdrawn = line(refund.lines, 'credits-withdrawn')
    expect(expired).toMatchObject({ id, refundWei: '4000000000000000000' })
    expect(withdrawn).toMatchObject({ amountWei: '4000000000000000000', address: address(6) })
    const gas = (await gasOf(expired.txHash as string)) + (await gasOf(withdrawn.txHash as string))
    expect((await balance(6)) - before).toBe(parseEther('4') - gas)
    expect((await contract.getJob(jobIdFromUuid(id))).status).toBe(3n)

    const nothing = await oblivion(['job', 'refund', '--dev-account', '6'])
    expect(nothing.code).toBe(0)
    expect(nothing.lines.map((l) => l.type)).toEqual(['nothing-to-withdraw'])
  })

  it('worker claim waits for the challenge window, claims once, then finds nothing left', async () => {
    // The coordinator's part: w1 delivered a result for the job, the validator settles it, the
    // settlement is recorded as confirmed.
    const { rows: workers } = await gw.db.query<{ id: string }>(`select id from public.workers where name = 'w1'`)
    const { rows: tasks } = await gw.db.query<{ id: number }>(
      `insert into public.tasks (job_id, round, shard_index, status) values ($1, 1, 0, 'completed') returning id`,
      [fundedJobId],
    )
    await gw.db.query(
      `insert into public.task_results (task_id, job_id, worker_id, round, artifact_cid, sample_count) values ($1, $2, $3, 1, $4, 10)`,
      [tasks[0]!.id, fundedJobId, workers[0]!.id, MODEL_CID],
    )
    const payouts = [
      { address: address(4).toLowerCase(), amountWei: parseEther('1.2') },
      { address: address(7).toLowerCase(), amountWei: parseEther('0.3') },
    ]
    const validator = new LegacyWallet(config.validator.privateKey, provider)
    const settled = await settleJobOnChain({ contract: contract.connect(validator), jobId: fundedJobId, payouts, modelCid: MODEL_CID, metrics: { accuracy: 0.9 } })
    await gw.db.query(
      `insert into public.settlements (job_id, chain_id, status, merkle_root, payouts, total_wei, tx_hash, block_number)
       values ($1, $2, 'confirmed', $3, $4::jsonb, $5, $6, $7)`,
      [
        fundedJobId,
        config.chainId,
        settled.root.toLowerCase(),
        JSON.stringify(payouts.map((p) => ({ address: p.address, amount_wei: String(p.amountWei) }))),
        String(settled.totalWei),
        settled.txHash,
        settled.blockNumber,
      ],
    )
    const settledAt = Number((await contract.getJob(jobIdFromUuid(fundedJobId))).settledAt)
    const claimableAt = new Date((settledAt + CHALLENGE_WINDOW) * 1000).toISOString()
    const nonce = () => provider.getTransactionCount(address(4))

    const noncesBefore = await nonce()
    const waiting = await oblivion(['worker', 'claim', '--name', 'w1', '--dev-account', '4'])
    expect(waiting.error).toBeNull()
    expect(waiting.code).toBe(0)
    expect(line(waiting.lines, 'not-claimable')).toMatchObject({ jobId: fundedJobId, amountWei: '1200000000000000000', state: 'waiting', claimableAt })
    expect(line(waiting.lines, 'claim-summary')).toMatchObject({ claimed: 0, claimedWei: '0', waiting: 1 })
    expect(await nonce()).toBe(noncesBefore)

    await increaseTime(CHALLENGE_WINDOW + 1)
    const before = await balance(4)
    const claim = await oblivion(['worker', 'claim', '--name', 'w1', '--dev-account', '4'])
    expect(claim.code).toBe(0)
    const claimed = line(claim.lines, 'claimed')
    expect(claimed).toMatchObject({ jobId: fundedJobId, amountWei: '1200000000000000000', state: 'claimed' })
    expect(line(claim.lines, 'claim-summary')).toMatchObject({ claimed: 1, claimedWei: '1200000000000000000', waiting: 0 })
    expect((await balance(4)) - before).toBe(parseEther('1.2') - (await gasOf(claimed.txHash as string)))

    const noncesAfter = await nonce()
    const again = await oblivion(['worker', 'claim', '--name', 'w1', '--dev-account', '4', '--job', fundedJobId])
    expect(again.code).toBe(0)
    expect(again.lines.some((l) => l.type === 'claimed')).toBe(false)
    expect(line(again.lines, 'claim-summary')).toMatchObject({ claimed: 0, claimedBefore: 1 })
    expect(await nonce()).toBe(noncesAfter)

    const stake = await oblivion(['worker', 'stake', '--name', 'w1', '--dev-account', '4'])
    expect(line(stake.lines, 'payout')).toMatchObject({ jobId: fundedJobId, amountWei: '1200000000000000000', state: 'claimed' })
  })

  it('refuses two wallet sources, --dev-account on a non-local chain and bad amounts (exit 2); names a dead RPC (exit 1)', async () => {
    const remote = { OBLIVION_RPC_URL: config.rpcUrl, OBLIVION_SETTLEMENT_ADDRESS: config.settlement }
    const deadHome = await tempDir('oblivion-cli-money-dead-')
    await writeChainConfig(deadHome.dir, { ...config, rpcUrl: DEAD_URL })
    try {
      const [both, devRemote, keyRemote, badAmount, zero, tooPrecise, runOption, dead] = await Promise.all([
        oblivion(['worker', 'stake', '--dev-account', '1'], { OBLIVION_PRIVATE_KEY: config.accounts[1]!.privateKey }),
        oblivion(['worker', 'stake', '--dev-account', '1'], remote),
        oblivion(['worker', 'stake'], { ...remote, OBLIVION_PRIVATE_KEY: config.accounts[8]!.privateKey }),
        oblivion(['worker', 'bond', 'lots', '--dev-account', '1']),
        oblivion(['worker', 'bond', '0', '--dev-account', '1']),
        oblivion(['worker', 'unbond', '0.1234567890123456789', '--dev-account', '1']),
        oblivion(['worker', 'bond', '1', '--dev-account', '1', '--max-concurrency', '3']),
        runCli(['--home', deadHome.dir, '--url', gw.url, 'worker', 'stake', '--dev-account', '1']),
      ])
      expect(both).toMatchObject({ code: 2, error: { code: 'CLI_USAGE', message: '--dev-account and OBLIVION_PRIVATE_KEY both name a wallet: use one' } })
      expect(devRemote).toMatchObject({ code: 2, error: { code: 'CLI_USAGE', message: expect.stringContaining('--dev-account only works on the local chain') } })
      // The same chain reached through OBLIVION_RPC_URL takes a key from the environment.
      expect(keyRemote.code).toBe(0)
      expect(line(keyRemote.lines, 'stake')).toMatchObject({ address: address(8) })
      for (const run of [badAmount, zero, tooPrecise]) {
        expect(run).toMatchObject({ code: 2, error: { code: 'CLI_USAGE', message: expect.stringContaining('Expected a positive amount of coins') } })
      }
      expect(runOption).toMatchObject({ code: 2, error: { code: 'CLI_USAGE', message: expect.stringContaining('--max-concurrency is an option of `oblivion worker`') } })
      expect(dead.code).toBe(1)
      expect(JSON.parse(dead.stderr.trim())).toMatchObject({ code: 'CLI_RPC_UNREACHABLE', message: expect.stringContaining(DEAD_URL) })
    } finally {
      await deadHome.remove()
    }
  })

  it('the coordinator refuses --fund-without-escrow next to a chain, and a key that is not the validator', async () => {
    const [funding, notValidator] = await Promise.all([
      oblivion(['coordinator', '--fund-without-escrow']),
      oblivion(['coordinator'], { OBLIVION_RPC_URL: config.rpcUrl, OBLIVION_SETTLEMENT_ADDRESS: config.settlement, OBLIVION_PRIVATE_KEY: config.accounts[3]!.privateKey }),
    ])
    expect(funding).toMatchObject({ code: 2, error: { code: 'CLI_USAGE', message: expect.stringContaining('--fund-without-escrow cannot run with the settlement contract'), hint: expect.stringContaining('--no-chain') } })
    expect(notValidator).toMatchObject({ code: 1, error: { code: 'CLI_NOT_VALIDATOR', message: expect.stringContaining(`${address(3)} is not the validator`) } })
  })
})
