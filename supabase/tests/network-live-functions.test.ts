import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../src/db/database.ts'
import { anon, service, signUp, type Actor } from './support/actors.ts'
import { BACKENDS, freshDatabase } from './support/databases.ts'
import { fundedJob, registerWorker, startRound, trainingSpec, validResult, validSpec } from './support/fixtures.ts'
import { expectNothingPrivate as expectPublicSafe } from './support/public-answers.ts'

// What the live network views read besides network_topology (visualizer/, web/'s Network page):
// claims counter, per-job curves and the leaderboard, all callable by anon and public-safe.

interface Curve {
  job_id: string
  status: string
  rounds: number
  current_round: number
  points: Array<{ round: number; accuracy: number | null; epsilon: number | null }>
}

interface Leader {
  worker_id: string
  kind: string
  tasks_completed: number
  tasks_failed: number
  reputation: number
  online: boolean
}

describe.each(BACKENDS)('the live network functions (%s)', (backend) => {
  let db: Database
  let coordinator: Actor
  let creator: Actor & { userId: string }
  let operator: Actor & { userId: string }
  let trained: { id: string }
  let ended: { id: string }
  let cliWorker: string
  let browserWorker: string

  const callAsAnon = async <T>(name: string, args?: Record<string, unknown>): Promise<T> => {
    const [row] = await anon(db).rpc<Record<string, unknown>>(name, args)
    return row![name] as T
  }

  beforeAll(async () => {
    db = await freshDatabase(backend)
    coordinator = service(db)
    creator = await signUp(db)
    operator = await signUp(db)
    cliWorker = await registerWorker(operator, 'leader-cli')
    const [browser] = await operator.rpc<{ id: string }>('register_worker', {
      p_name: 'leader-browser', p_kind: 'browser', p_capabilities: { backend: 'webgpu' },
    })
    browserWorker = browser!.id

    // A two-round private job: round 1 trained by the CLI worker and aggregated, round 2 running.
    trained = await fundedJob(creator, coordinator, trainingSpec({ rounds: 2, shards: 2 }))
    await startRound(coordinator, trained.id, 1)
    for (let shard = 0; shard < 2; shard++) {
      const [claim] = await operator.rpc<{ task_id: number }>('claim_task', { p_worker_id: cliWorker })
      await operator.rpc('complete_task', { p_task_id: claim!.task_id, p_worker_id: cliWorker, p_result: validResult() })
    }
    await coordinator.rpc('begin_round_aggregation', { p_job_id: trained.id })
    await coordinator.rpc('finish_round', { p_job_id: trained.id, p_test_accuracy: 0.625, p_test_loss: 0.9, p_epsilon_spent: 0.5, p_metrics: {} })
    await startRound(coordinator, trained.id, 2)
    await operator.rpc('claim_task', { p_worker_id: browserWorker })

    // A job that ended a moment ago, and one that was never funded.
    ended = await fundedJob(creator, coordinator)
    await coordinator.rpc('fail_job', { p_job_id: ended.id, p_reason: 'test' })
    await creator.rpc('create_job', { p_spec: validSpec(), p_reward_wei: '5000' })
  })
  afterAll(() => db?.close())

  const expectNothingPrivate = (answer: unknown) =>
    expectPublicSafe(answer, [creator.userId, operator.userId, 'leader-cli', 'leader-browser', 'MNIST digits', 'webgpu'])

  it('network_stats counts claims (leases granted) next to the task counts', async () => {
    const stats = await callAsAnon<{ tasks: Record<string, number> }>('network_stats')
    expect(stats.tasks).toEqual({ queued: 1, leased: 1, completed: 2, failed: 0, claims: 3 })
    await operator.rpc('claim_task', { p_worker_id: cliWorker })
    expect((await callAsAnon<{ tasks: Record<string, number> }>('network_stats')).tasks).toMatchObject({ queued: 0, leased: 2, claims: 4 })
    expectNothingPrivate(stats)
  })

  it('network_job_curves gives active jobs first with their aggregated rounds, then recently ended ones', async () => {
    const curves = await callAsAnon<Curve[]>('network_job_curves')
    expect(curves).toEqual([
      { job_id: trained.id, status: 'running', rounds: 2, current_round: 2, points: [{ round: 1, accuracy: 0.625, epsilon: 0.5 }] },
      { job_id: ended.id, status: 'failed', rounds: 3, current_round: 0, points: [] },
    ])
    expect(await callAsAnon<Curve[]>('network_job_curves', { p_limit: 1 })).toHaveLength(1)
    expectNothingPrivate(curves)
  })

  it('network_job_curves forgets jobs that ended more than an hour ago', async () => {
    await coordinator.query(`update public.jobs set finished_at = now() - interval '2 hours' where id = $1::uuid`, [ended.id])
    expect((await callAsAnon<Curve[]>('network_job_curves')).map((c) => c.job_id)).toEqual([trained.id])
  })

  it('network_leaderboard ranks workers by completed tasks, pseudonymously', async () => {
    const leaders = await callAsAnon<Leader[]>('network_leaderboard')
    expect(leaders).toEqual([
      { worker_id: cliWorker, kind: 'cli', tasks_completed: 2, tasks_failed: 0, reputation: 0.75, online: true },
      { worker_id: browserWorker, kind: 'browser', tasks_completed: 0, tasks_failed: 0, reputation: 0.5, online: true },
    ])
    // The limit is clamped to 1..100.
    expect(await callAsAnon<Leader[]>('network_leaderboard', { p_limit: 0 })).toHaveLength(1)
    await coordinator.query(`update public.workers set last_seen_at = now() - interval '1 minute' where id = $1::uuid`, [browserWorker])
    expect((await callAsAnon<Leader[]>('network_leaderboard'))[1]).toMatchObject({ worker_id: browserWorker, online: false })
    expectNothingPrivate(leaders)
  })

  it('answers empty arrays on an empty network', async () => {
    const empty = await freshDatabase(backend)
    try {
      for (const name of ['network_job_curves', 'network_leaderboard']) {
        const [row] = await anon(empty).rpc<Record<string, unknown>>(name)
        expect(row![name]).toEqual([])
      }
      const [row] = await anon(empty).rpc<Record<string, { tasks: Record<string, number> }>>('network_stats')
      expect(row!.network_stats!.tasks.claims).toBe(0)
    } finally {
      await empty.close()
    }
  })
})
