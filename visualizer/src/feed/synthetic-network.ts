import { mulberry32 } from '@oblivion/model/seeded-random'
import { buildGraph } from './graph-model.ts'
import type { JobCurve, LeaderboardEntry, StatsAnswer, TopologyJob, TopologyLease, TopologyWorker } from './network-answers.ts'
import { ViewStore, INITIAL_VIEW, type NetworkSource } from './network-view.ts'
import { addSample, EMPTY_HISTORY, rateSeries, type CounterHistory } from './rate-series.ts'

export interface SyntheticOptions {
  /** Workers online at any time. */
  workers: number
  /** The same seed makes the same network. */
  seed?: number
  /** How often leases change (a claim or a completion each), ms. */
  churnMs?: number
}

/**
 * A made-up network of N workers with live lease churn, for the wall screen without a network
 * (`/?synthetic=500`) and for the frame-rate benchmark (visualizer/bench/fps.ts). It produces the
 * same NetworkView as NetworkFeed, through the same graph building, so what is measured is what
 * a real network of that size draws.
 *
 * Every tick, ~3 % of the workers finish a lease or claim one, one worker leaves and another
 * joins; every 2 s one job aggregates a round.
 */
export class SyntheticNetwork implements NetworkSource {
  private readonly store = new ViewStore({ ...INITIAL_VIEW, synthetic: true })
  readonly subscribe = this.store.subscribe
  readonly getSnapshot = this.store.getSnapshot

  private readonly random: () => number
  private readonly churnMs: number
  private readonly workers = new Map<string, TopologyWorker & { failed: number }>()
  private readonly jobs: TopologyJob[] = []
  private readonly leases = new Map<string, string>() // worker id → job id
  private readonly curves = new Map<string, JobCurve>()
  private nextWorker = 0
  private claims = 0
  private completed = 0
  private ticks = 0
  private history: CounterHistory = EMPTY_HISTORY
  /** Rebuilt only when they change, as NetworkFeed's are: the panels re-render only then. */
  private curveList: JobCurve[] | null = null
  private leaderboard: LeaderboardEntry[] | null = null
  private timer: ReturnType<typeof setInterval> | null = null

  constructor(options: SyntheticOptions) {
    this.random = mulberry32(options.seed ?? 1)
    this.churnMs = options.churnMs ?? 500
    const jobCount = Math.max(3, Math.min(80, Math.round(options.workers / 25)))
    for (let i = 0; i < jobCount; i++) {
      const id = `synthetic-job-${String(i).padStart(3, '0')}`
      const rounds = 5 + Math.floor(this.random() * 20)
      const job: TopologyJob = { id, kind: 'training', status: 'running', current_round: 1, rounds, shards: 4 + Math.floor(this.random() * 60) }
      this.jobs.push(job)
      this.curves.set(id, { job_id: id, status: 'running', rounds, current_round: 1, points: [] })
      // Jobs are met halfway through, with their first rounds' curves.
      for (let done = Math.floor((this.random() * rounds) / 2); done > 0; done--) this.aggregateRound(job)
    }
    for (let i = 0; i < options.workers; i++) this.join()
    for (const id of this.workers.keys()) if (this.random() < 0.7) this.claim(id)
    this.publish()
  }

  start(): void {
    this.timer ??= setInterval(() => this.tick(), this.churnMs)
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  private tick(): void {
    this.ticks++
    const ids = [...this.workers.keys()]
    const changes = Math.max(1, Math.round(ids.length * 0.03))
    for (let i = 0; i < changes; i++) {
      const id = ids[Math.floor(this.random() * ids.length)]!
      if (this.leases.has(id)) this.complete(id)
      else this.claim(id)
    }
    // One worker leaves (its lease goes back), another joins.
    const leaving = ids[Math.floor(this.random() * ids.length)]!
    this.leases.delete(leaving)
    this.workers.delete(leaving)
    this.join()
    if (this.ticks % Math.max(1, Math.round(2000 / this.churnMs)) === 0) this.aggregateRound()
    this.publish()
  }

  private join(): void {
    const n = this.nextWorker++
    const id = `synthetic-worker-${String(n).padStart(5, '0')}`
    this.workers.set(id, { id, kind: n % 3 === 0 ? 'browser' : 'cli', leases_held: 0, tasks_completed: 0, reputation: 0.5, failed: 0 })
  }

  private claim(workerId: string): void {
    this.leases.set(workerId, this.jobs[Math.floor(this.random() * this.jobs.length)]!.id)
    this.claims++
  }

  private complete(workerId: string): void {
    this.leases.delete(workerId)
    const worker = this.workers.get(workerId)!
    if (this.random() < 0.03) worker.failed++
    else {
      worker.tasks_completed++
      this.completed++
    }
    worker.reputation = (worker.tasks_completed + 1) / (worker.tasks_completed + worker.failed + 2)
  }

  private aggregateRound(job = this.jobs[Math.floor(this.random() * this.jobs.length)]!): void {
    const curve = this.curves.get(job.id)!
    if (job.current_round >= job.rounds) return
    const round = job.current_round
    const accuracy = Math.min(0.99, 0.97 - 0.8 * Math.exp(-round / 3) + (this.random() - 0.5) * 0.02)
    this.curves.set(job.id, {
      ...curve,
      points: [...curve.points, { round, accuracy: Math.max(0, accuracy), epsilon: 0.35 * Math.sqrt(round) }],
      current_round: round + 1,
    })
    job.current_round = round + 1
    this.curveList = null
  }

  private publish(): void {
    const now = Date.now()
    const leases: TopologyLease[] = []
    const held = new Map<string, number>()
    for (const [worker_id, job_id] of this.leases) {
      leases.push({ worker_id, job_id, tasks: 1 })
      held.set(worker_id, 1)
    }
    const workers = [...this.workers.values()].map((w) => ({ ...w, leases_held: held.get(w.id) ?? 0 }))
    const stats: StatsAnswer = {
      generated_at: new Date(now).toISOString(),
      workers: {
        registered: this.nextWorker,
        online: workers.length,
        online_browser: workers.filter((w) => w.kind === 'browser').length,
        online_cli: workers.filter((w) => w.kind === 'cli').length,
      },
      tasks: { queued: this.jobs.length * 8, leased: leases.length, completed: this.completed, failed: 0, claims: this.claims },
      jobs: { active: this.jobs.length, running: this.jobs.length, completed: 0, total: this.jobs.length },
    }
    this.history = addSample(this.history, { t: now, claims: this.claims, completed: this.completed })
    // Read every 3 s at most by NetworkFeed: the same here.
    if (this.leaderboard === null || this.ticks % Math.max(1, Math.round(3000 / this.churnMs)) === 0) {
      this.leaderboard = [...workers]
        .sort((a, b) => b.tasks_completed - a.tasks_completed || a.id.localeCompare(b.id))
        .slice(0, 10)
        .map((w) => ({ worker_id: w.id, kind: w.kind, tasks_completed: w.tasks_completed, tasks_failed: w.failed, reputation: w.reputation, online: true }))
    }
    this.curveList ??= [...this.curves.values()].slice(0, 6)
    const graph = buildGraph({ workers, jobs: this.jobs, leases, coordinatorOnline: true }, this.store.getSnapshot().graph)
    this.store.update({
      phase: 'live',
      realtime: 'live',
      updatedAt: now,
      graph,
      stats,
      rates: rateSeries(this.history, now),
      curves: this.curveList,
      leaderboard: this.leaderboard,
      coordinatorOnline: true,
    })
  }
}
