import { access, stat } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { startJsonProcess } from '../../../sample_job/src/local-processes.ts'
import type { DemoSummary } from '../../src/network/demo-scenario.ts'
import { cliEnv, tempDir } from '../support/run-cli.ts'
import { DEMO } from './support/launcher.ts'

const cleanup: (() => Promise<void>)[] = []
afterAll(() => Promise.all(cleanup.map((step) => step())))

describe('npm run demo', () => {
  it('runs the whole scenario headless: job funded, trained, downloaded, settled, every payout claimed, totals that add up to the reward, then a proven inference', async () => {
    const out = await tempDir('oblivion-demo-model-')
    cleanup.push(out.remove)
    // The shortest real run: one round of two shards, two workers.
    const demo = startJsonProcess('demo', process.execPath, ['--import', 'tsx', DEMO, '--rounds', '1', '--shards', '2', '--out', out.dir, '--json'], {
      env: cliEnv(),
      captureStderr: true,
    })
    cleanup.push(() => demo.stop(60_000)) // a failed run must not leave its network behind
    const code = await demo.exited
    expect(code, demo.stderr()).toBe(0)

    const steps = demo.lines.filter((l) => l.type === 'step' && l.phase === 'end').map((l) => l.step)
    expect(steps).toEqual([
      'start the network',
      'write the job spec',
      'create and fund the job',
      'train',
      'download the model',
      'wait for the settlement',
      'close the challenge window',
      'claim the payouts',
      "withdraw the creator's remainder",
      'wait for the marketplace',
      'buy a proven inference',
      'read the gas used',
    ])
    const summary = demo.lines.find((l) => l.type === 'summary') as unknown as DemoSummary & { home: string | null }
    expect(summary.job).toMatchObject({ rounds: 1, shards: 2, rewardWei: '1000000000000000000' })
    expect(summary.accuracy).toBeGreaterThan(0.8)
    expect(summary.epsilon).toBeNull() // mnist-nonprivate
    expect(summary.model.out).toBe(out.dir)
    expect(summary.model.files.map((f) => f.format).sort()).toEqual(['h5', 'onnx', 'pkl', 'pt', 'tfjs', 'tfjs'])
    for (const file of summary.model.files) expect((await stat(file.file)).size).toBe(file.bytes)

    // Two tasks of 0.5 coin: each claimed by the worker that trained it, nothing left over.
    const paid = summary.payouts.reduce((sum, p) => sum + BigInt(p.amountWei), 0n)
    expect(paid.toString()).toBe(summary.settlement.totalWei)
    expect(summary.totals).toEqual({ rewardWei: '1000000000000000000', paidToWorkersWei: paid.toString(), leftToCreatorWei: (10n ** 18n - paid).toString(), balanced: true })
    for (const p of summary.payouts.filter((p) => p.amountWei !== '0')) expect(p.txHash).toMatch(/^0x[0-9a-f]{64}$/)
    const what = summary.transactions.map((t) => t.what)
    expect(what).toEqual(expect.arrayContaining(['fund the escrow (creator)', 'mark the job started (coordinator)', 'settle (coordinator)']))
    for (const t of summary.transactions) expect(BigInt(t.gasUsed)).toBeGreaterThan(21_000n)
    expect(BigInt(summary.gasTotalWei)).toBe(summary.transactions.reduce((sum, t) => sum + BigInt(t.costWei), 0n))

    // The marketplace's sample model (mnist-zk, trained by the same network meanwhile) answered
    // with a proof the buyer's CLI and the chain both accepted; the owner was paid the price.
    const { inference } = summary
    expect(inference).toMatchObject({ input: 'row 0 of mnist-14x14', proofVerified: true, chainVerified: true, priceWei: '10000000000000000' })
    expect(inference.predicted).toBe(inference.label)
    expect(inference.probabilities).toHaveLength(10)
    const market = summary.transactions.filter((t) => t.what.startsWith('request an inference') || t.what.startsWith('fulfil it with a proof'))
    expect(market.map((t) => t.txHash)).toEqual([inference.requestTxHash, inference.fulfilTxHash])
    // The fulfilment verifies the Groth16 proof on chain: a pairing check alone costs over 180k gas.
    expect(BigInt(market[1]!.gasUsed)).toBeGreaterThan(180_000n)

    // The temporary network folder is gone with everything in it.
    expect(summary.home).toBeNull()
    await expect(access(path.join(out.dir, 'onnx', 'model.onnx'))).resolves.toBeUndefined()
  }, 420_000)
})
