import { describe, expect, it } from 'vitest'
import { SyntheticNetwork } from '../../src/feed/synthetic-network.ts'

describe('the synthetic network (for demos and the frame-rate benchmark)', () => {
  it('has N workers, jobs with curves, leases and stats consistent with its graph', () => {
    const view = new SyntheticNetwork({ workers: 500, seed: 7 }).getSnapshot()
    expect(view).toMatchObject({ phase: 'live', synthetic: true, coordinatorOnline: true })
    expect(view.counts.workers).toBe(500)
    expect(view.counts.jobs).toBe(20)
    expect(view.counts.leaseLinks).toBe(view.stats!.tasks.leased)
    expect(view.counts.leaseLinks).toBeGreaterThan(250)
    expect(view.curves!.length).toBeGreaterThan(0)
    expect(view.leaderboard).toHaveLength(10)
  })

  it('is the same network for the same seed', () => {
    const a = new SyntheticNetwork({ workers: 200, seed: 3 }).getSnapshot()
    const b = new SyntheticNetwork({ workers: 200, seed: 3 }).getSnapshot()
    expect(a.counts).toEqual(b.counts)
  })

  it('churns leases while started: a new graph each tick, counters and rates moving', async () => {
    const network = new SyntheticNetwork({ workers: 300, churnMs: 50 })
    const first = network.getSnapshot()
    const snapshots: number[] = []
    const unsubscribe = network.subscribe(() => snapshots.push(network.getSnapshot().stats!.tasks.claims))
    network.start()
    await new Promise((resolve) => setTimeout(resolve, 2_200)) // the first rate point comes on the second whole second
    await network.stop()
    unsubscribe()
    const last = network.getSnapshot()
    expect(snapshots.length).toBeGreaterThan(5)
    expect(last.graph).not.toBe(first.graph)
    expect(last.counts.workers).toBe(300)
    expect(last.stats!.tasks.claims).toBeGreaterThan(first.stats!.tasks.claims)
    expect(last.rates.length).toBeGreaterThan(0)
    const count = snapshots.length
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(snapshots).toHaveLength(count) // stopped
  })
})
