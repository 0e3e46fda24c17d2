import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { contentId, decodeWeights, encodeWeights } from '@oblivion/model'
import { connectOblivionSettlement, jobIdFromUuid, LegacyWallet, type OblivionSettlement } from '@oblivion/contracts'
import { JsonRpcProvider, Network, parseEther, type EventLog } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JsonLine, NetworkProcess } from '../../../sample_job/src/local-processes.ts'
import { signedSiwe } from '../../../supabase/tests/gateway/auth/auth-helpers.ts'
import { officialClient } from '../../../supabase/tests/gateway/support/test-gateway.ts'
import { REPO_ROOT } from '../support/run-cli.ts'
import { TrainingNetwork } from './support/training-network.ts'

/**
 * Issue 5's acceptance run: a job funded in escrow on anvil by `oblivion job create`, trained by
 * two bonded `oblivion worker` processes while a third, rogue worker delivers a NaN update, then
 * settled by the coordinator in one transaction. The rogue bond is slashed to the creator, the
 * honest workers claim their payouts with `oblivion worker claim`, the creator withdraws the
 * remainder with `oblivion job refund`, and the contract ends holding exactly what it owes.
 *
 * Dev accounts (chain.json): 1 validator (the coordinator), 2 creator, 4 and 5 workers, 6 rogue.
 */
const CREATOR = 2
const WORKERS = [
  { name: 'bonded-a', account: 4 },
  { name: 'bonded-b', account: 5 },
]
const ROGUE = 6
const REWARD = parseEther('1') + 7n // 8 tasks: 0.125 coin each, 7 wei of rounding dust
const ROUNDS = 2
const SHARDS = 4

let network: TrainingNetwork
let provider: JsonRpcProvider
let contract: OblivionSettlement
let workers: NetworkProcess[]

const account = (index: number) => network.chain!.config.accounts[index]!
const wallet = (index: number) => new LegacyWallet(account(index).privateKey, provider)
const lastLine = (lines: JsonLine[], type: string) => lines.filter((l) => l.type === type).at(-1)

async function waitUntil<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) {
      const logs = network.processes.map((p) => `--- ${p.name}\n${p.lines.slice(-6).map((l) => JSON.stringify(l)).join('\n')}\n${p.stderr().slice(-1500)}`)
      throw new Error(`timed out waiting for ${what}\n${logs.join('\n')}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
}

beforeAll(async () => {
  network = await TrainingNetwork.start({ chain: true })
  const { config } = network.chain!
  provider = new JsonRpcProvider(config.rpcUrl, undefined, { staticNetwork: Network.from(config.chainId), cacheTimeout: -1 })
  contract = connectOblivionSettlement(config.settlement, provider)
  network.coordinator()
  for (const w of WORKERS) await network.run(['worker', 'bond', '1', '--dev-account', String(w.account)])
  workers = WORKERS.map((w) => network.worker(w.name, ['--dev-account', String(w.account)]))
  await Promise.all(workers.map((w) => w.waitFor((line) => line.type === 'registered', 60_000)))
}, 120_000)

afterAll(async () => {
  provider?.destroy()
  await network?.close()
})

describe('settlement on the local chain', () => {
  it('funds, trains, slashes the rogue update, settles once, and every wei is claimed or refunded', async () => {
    const db = network.gateway.db
    // The rogue wallet bonds 1 coin and registers a worker with that payout address.
    await (await connectOblivionSettlement(network.chain!.config.settlement, wallet(ROGUE)).bond({ value: parseEther('1') })).wait()
    const rogueAddress = account(ROGUE).address.toLowerCase()
    await waitUntil('the rogue bond mirrored', async () => (await db.query(`select 1 from public.wallet_bonds where address = $1`, [rogueAddress])).rows.length > 0, 30_000)
    // Naming the rogue wallet takes signing in with it: a stranger's bond can be neither staked nor slashed.
    const stranger = await network.gateway.createUser()
    const { error: strangerError } = await stranger.client.rpc('register_worker', {
      p_name: 'stranger', p_kind: 'cli', p_capabilities: {}, p_payout_address: rogueAddress,
    })
    expect(strangerError).toMatchObject({ code: 'OB012' })
    const mallory = { client: officialClient(network.gateway.url, network.gateway.keys.anonKey) }
    const signedIn = await mallory.client.auth.signInWithWeb3({ chain: 'ethereum', ...(await signedSiwe(wallet(ROGUE))) })
    expect(signedIn.error).toBeNull()
    const { data: registered, error: registerError } = await mallory.client.rpc('register_worker', {
      p_name: 'mallory', p_kind: 'cli', p_capabilities: {}, p_payout_address: rogueAddress,
    })
    expect(registerError).toBeNull()
    const malloryWorker = (registered as { id: string }).id

    // Pause the honest workers so that the rogue one gets a task of round 1.
    for (const w of workers) w.child.kill('SIGSTOP')
    let jobId: string
    let rogueTask: number
    try {
      const spec = JSON.parse(await readFile(path.join(REPO_ROOT, 'sample_job/jobs/mnist-nonprivate.json'), 'utf8'))
      spec.training = { ...spec.training, rounds: ROUNDS, shards: SHARDS, localEpochs: 1 }
      const specFile = path.join(network.home, 'settled-job.json')
      await writeFile(specFile, JSON.stringify(spec))
      const created = await network.run(['job', 'create', specFile, '--reward-wei', REWARD.toString(), '--dev-account', String(CREATOR)])
      jobId = lastLine(created, 'job-created')!.id as string
      expect(lastLine(created, 'job-funded')).toMatchObject({ amountWei: REWARD.toString() })

      const task = await waitUntil('a task for the rogue worker', async () => {
        const { data } = await mallory.client.rpc('claim_task', { p_worker_id: malloryWorker, p_lease_seconds: 60 })
        return (data as { task_id: number; job_id: string }[])[0]
      }, 60_000)
      expect(task.job_id).toBe(jobId)
      rogueTask = task.task_id
      const global = await mallory.client.storage.from('artifacts').download(`jobs/${jobId}/rounds/1/global.obw`)
      const { weights } = decodeWeights(new Uint8Array(await global.data!.arrayBuffer()))
      weights.layers[0]!.kernel[7] = Number.NaN
      const bytes = encodeWeights(weights)
      const cid = await contentId(bytes)
      const objectPath = `jobs/${jobId}/updates/${rogueTask}/${cid}.obw`
      expect((await mallory.client.storage.from('artifacts').upload(objectPath, bytes)).error).toBeNull()
      const { error } = await mallory.client.rpc('complete_task', {
        p_task_id: rogueTask, p_worker_id: malloryWorker, p_result: { artifact_cid: cid, artifact_path: `artifacts/${objectPath}`, sample_count: 2250 },
      })
      expect(error).toBeNull()
    } finally {
      for (const w of workers) w.child.kill('SIGCONT')
    }

    // The escrow is bound to this job's spec and was marked started before round 1.
    const chainJobId = jobIdFromUuid(jobId)
    expect((await contract.getJob(chainJobId)).started).toBe(true)

    const job = await network.waitForJobEnd(jobId, 280_000)
    expect(job.status).toBe('completed')

    // One settle transaction, confirmed in the database with the payout leaves.
    const settlement = await waitUntil('the settlement confirmed', async () => {
      const { rows } = await db.query<{ status: string; merkle_root: string; payouts: { address: string; amount_wei: string }[]; total_wei: string; tx_hash: string }>(
        `select status, merkle_root, payouts, total_wei, tx_hash from public.settlements where job_id = $1`, [jobId])
      return rows[0]?.status === 'confirmed' ? rows[0] : undefined
    }, 60_000)
    const onChain = await contract.getJob(chainJobId)
    expect(Number(onChain.status)).toBe(4) // Settled
    expect(onChain.payoutRoot.toLowerCase()).toBe(settlement.merkle_root)
    const settledLogs = await contract.queryFilter(contract.filters.JobSettled(chainJobId))
    expect(settledLogs).toHaveLength(1)
    expect(settledLogs[0]!.transactionHash.toLowerCase()).toBe(settlement.tx_hash)

    // Payouts: 0.125 coin per accepted task to the bonded workers; the rogue gets nothing.
    const perTask = REWARD / BigInt(ROUNDS * SHARDS)
    const { rows: accepted } = await db.query<{ address: string; tasks: number }>(
      `select w.payout_address as address, count(*)::int as tasks from public.task_results r join public.workers w on w.id = r.worker_id
        where r.job_id = $1 group by w.payout_address`, [jobId])
    expect(accepted.reduce((n, r) => n + r.tasks, 0)).toBe(ROUNDS * SHARDS)
    expect(accepted.map((r) => r.address)).not.toContain(rogueAddress)
    const expected = Object.fromEntries(accepted.map((r) => [r.address, (perTask * BigInt(r.tasks)).toString()]))
    expect(Object.fromEntries(settlement.payouts.map((p) => [p.address, p.amount_wei]))).toEqual(expected)
    expect(BigInt(settlement.total_wei)).toBe(perTask * BigInt(ROUNDS * SHARDS))

    // The rogue update cost one task's value from the rogue bond, credited to the creator.
    const slash = await waitUntil('the slash confirmed', async () => {
      const { rows } = await db.query<{ status: string; taken_wei: string; address: string; tx_hash: string }>(
        `select status, taken_wei, address, tx_hash from public.slashes where task_id = $1`, [rogueTask])
      return rows[0]?.status === 'confirmed' ? rows[0] : undefined
    }, 60_000)
    expect(slash).toMatchObject({ address: rogueAddress, taken_wei: perTask.toString() })
    expect((await contract.bondOf(account(ROGUE).address)).bonded).toBe(parseEther('1') - perTask)

    // Claims open after the challenge window (5 s here; the CLI tests check the refusal before it).
    await provider.send('evm_increaseTime', [10])
    await provider.send('evm_mine', [])

    let claimedTotal = 0n
    for (const w of WORKERS) {
      const address = account(w.account).address.toLowerCase()
      const balanceBefore = await provider.getBalance(address)
      const lines = await network.run(['worker', 'claim', '--name', w.name, '--dev-account', String(w.account)])
      const claimed = (await contract.queryFilter(contract.filters.PayoutClaimed(chainJobId, account(w.account).address))).reduce(
        (sum, log) => sum + ((log as EventLog).args.amount as bigint),
        0n,
      )
      expect(claimed.toString(), JSON.stringify(lines)).toBe(expected[address] ?? '0')
      const gas = await gasSpentSince(address, balanceBefore, claimed)
      expect(gas).toBeGreaterThan(0n) // paid its own claim transaction
      claimedTotal += claimed
      // A second claim finds nothing left and sends nothing.
      const nonce = await provider.getTransactionCount(address)
      await network.run(['worker', 'claim', '--name', w.name, '--dev-account', String(w.account)])
      expect(await provider.getTransactionCount(address)).toBe(nonce)
    }
    expect(claimedTotal).toBe(BigInt(settlement.total_wei))
    expect((await contract.getJob(chainJobId)).unclaimed).toBe(0n)

    // The creator withdraws the remainder (rounding dust) plus the slashed stake.
    const creator = account(CREATOR).address
    const credit = await contract.credits(creator)
    expect(credit).toBe(REWARD - claimedTotal + perTask)
    await network.run(['job', 'refund', '--dev-account', String(CREATOR)])
    expect(await contract.credits(creator)).toBe(0n)
    const withdrawn = await contract.queryFilter(contract.filters.CreditsWithdrawn(creator))
    expect((withdrawn.at(-1) as EventLog).args.amount).toBe(credit)

    // Every wei the contract holds is owed to someone: the bonds left.
    const address = await contract.getAddress()
    expect(await provider.getBalance(address)).toBe(await contract.accountedBalance())
    const bonds = [...WORKERS.map((w) => account(w.account).address), account(ROGUE).address]
    let bonded = 0n
    for (const a of bonds) {
      const b = await contract.bondOf(a)
      bonded += b.bonded + b.unbonding
    }
    expect(await provider.getBalance(address)).toBe(bonded)
  }, 420_000)
})

/** What an account spent on gas since `before`, given what it received meanwhile. */
async function gasSpentSince(address: string, before: bigint, received: bigint): Promise<bigint> {
  return before + received - (await provider.getBalance(address))
}
