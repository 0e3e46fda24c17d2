import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { WorkerEvent, WorkerHandle } from '../../src/worker-core/worker-events.ts'

/**
 * How `oblivion worker` drives the worker core: the options it passes, and the two-step stop
 * (Ctrl-C drains, a second Ctrl-C releases and exits 130). The core and the network are stand-ins
 * here; the core has its own tests.
 */
const fake = vi.hoisted(() => ({
  startOptions: undefined as undefined | Record<string, unknown>,
  onEvent: undefined as undefined | ((event: WorkerEvent) => void),
  finish: () => {},
  handle: undefined as undefined | WorkerHandle,
  notices: [] as string[],
  events: [] as string[],
}))

vi.mock('../../src/cli/connection.ts', () => ({
  connectAsUser: vi.fn(async () => ({ supabase: { fake: true }, userId: 'user-1', newIdentity: false })),
  disconnect: vi.fn(async () => {}),
}))

vi.mock('../../src/cli/render/worker-renderer.ts', () => ({
  createWorkerRenderer: () => ({
    onEvent: (event: WorkerEvent) => fake.events.push(event.type),
    notice: (message: string) => fake.notices.push(message),
    close: () => {},
  }),
}))

vi.mock('../../src/worker-core/index.ts', () => ({
  startWorker: vi.fn(async (options: Record<string, unknown> & { onEvent: (event: WorkerEvent) => void }) => {
    fake.startOptions = options
    fake.onEvent = options.onEvent
    const done = new Promise<void>((resolve) => (fake.finish = resolve))
    fake.handle = { workerId: 'worker-1', done, drain: vi.fn(async () => {}), release: vi.fn(async () => {}) }
    return fake.handle
  }),
}))

const { runWorkerCommand } = await import('../../src/cli/commands/worker.ts')

const options = {
  url: 'http://127.0.0.1:54321',
  home: '/tmp/oblivion-test-home',
  json: true,
  name: 'laptop',
  maxConcurrency: 3,
  leaseSeconds: 90,
  pollSeconds: 1.5,
  backend: 'cpu' as const,
}

async function started(): Promise<void> {
  await vi.waitFor(() => expect(fake.handle).toBeDefined())
}

function claim(taskId: number) {
  fake.onEvent!({ type: 'claimed', task: { taskId, jobId: 'a1b2c3d4-0000-4000-8000-000000000000', round: 1, shardIndex: taskId, attempt: 1 } })
}

describe('oblivion worker', () => {
  const signals = ['SIGINT', 'SIGTERM'] as const
  let before: Map<string, Function[]>
  beforeEach(() => {
    fake.handle = undefined
    fake.notices.length = 0
    fake.events.length = 0
    before = new Map(signals.map((s) => [s, process.listeners(s)]))
  })
  afterEach(() => {
    // A failed test may leave the command's handlers behind; only those are removed.
    for (const signal of signals) {
      for (const listener of process.listeners(signal)) {
        if (!before.get(signal)!.includes(listener)) process.off(signal, listener as () => void)
      }
    }
  })

  it('starts the core as a CLI worker with the options given', async () => {
    const run = runWorkerCommand(options)
    await started()
    expect(fake.startOptions).toMatchObject({
      supabase: { fake: true },
      name: 'laptop',
      kind: 'cli',
      maxConcurrency: 3,
      leaseSeconds: 90,
      pollIntervalMs: 1500,
      backend: 'cpu',
      capabilities: { client: 'oblivion-cli', backend: 'cpu', cores: expect.any(Number), memoryMiB: expect.any(Number) },
    })
    claim(7)
    expect(fake.events).toEqual(['claimed'])
    fake.finish()
    expect(await run).toBe(0)
  })

  it('drains on the first Ctrl-C and exits 0 once the running tasks are delivered', async () => {
    const run = runWorkerCommand(options)
    await started()
    claim(1)
    claim(2)
    fake.onEvent!({ type: 'completed', taskId: 1, sampleCount: 10, artifactCid: 'b', epsilonSpent: null, seconds: 1, trainingSeconds: 0.5, samplesPerSecond: 20 })
    process.emit('SIGINT', 'SIGINT')
    expect(fake.handle!.drain).toHaveBeenCalledOnce()
    expect(fake.handle!.release).not.toHaveBeenCalled()
    expect(fake.notices).toContain('draining 1 running task(s); press Ctrl-C again to release them and exit')
    fake.finish()
    expect(await run).toBe(0)
    expect(process.listeners('SIGINT')).toEqual(before.get('SIGINT'))
  })

  it('releases the running tasks on the second Ctrl-C (or SIGTERM) and exits 130', async () => {
    const run = runWorkerCommand(options)
    await started()
    claim(1)
    claim(2)
    process.emit('SIGTERM', 'SIGTERM')
    process.emit('SIGINT', 'SIGINT')
    expect(fake.handle!.drain).toHaveBeenCalledOnce()
    expect(fake.handle!.release).toHaveBeenCalledWith('worker stopped by its operator (second Ctrl-C)')
    fake.finish()
    expect(await run).toBe(130)
  })
})
