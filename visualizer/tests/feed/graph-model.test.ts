import { describe, expect, it } from 'vitest'
import { buildGraph, countGraph, COORDINATOR_NODE_ID, linkPairs, type GraphInput } from '../../src/feed/graph-model.ts'
import type { TopologyJob, TopologyWorker } from '../../src/feed/network-answers.ts'

const worker = (id: string, kind: 'cli' | 'browser' = 'cli'): TopologyWorker => ({ id, kind, leases_held: 0, tasks_completed: 0, reputation: 0.5 })
const job = (id: string, status = 'running'): TopologyJob => ({ id, kind: 'training', status, current_round: 1, rounds: 3, shards: 4 })

const input: GraphInput = {
  workers: [worker('w1'), worker('w2', 'browser'), worker('w3')],
  jobs: [job('j1'), job('j2', 'funded')],
  leases: [
    { worker_id: 'w1', job_id: 'j1', tasks: 2 },
    { worker_id: 'w2', job_id: 'j1', tasks: 1 },
    { worker_id: 'gone', job_id: 'j1', tasks: 1 }, // a worker no longer shown
    { worker_id: 'w3', job_id: 'ended', tasks: 1 }, // a job no longer active
  ],
  coordinatorOnline: true,
}

describe('the topology as a graph', () => {
  it('has the coordinator pinned at the centre, jobs linked to it, and workers linked to the jobs they lease', () => {
    const graph = buildGraph(input)
    expect(graph.nodes.map((n) => `${n.kind}:${n.id}`).sort()).toEqual(
      ['coordinator:coordinator', 'job:j:j1', 'job:j:j2', 'cli:w:w1', 'browser:w:w2', 'cli:w:w3'].sort(),
    )
    expect(linkPairs(graph)).toEqual(['coordinator>j:j1', 'coordinator>j:j2', 'w:w1>j:j1', 'w:w2>j:j1'])
    const coordinator = graph.nodes.find((n) => n.id === COORDINATOR_NODE_ID)!
    expect([coordinator.fx, coordinator.fy]).toEqual([0, 0])
    // Active: running jobs and workers holding a lease.
    expect(Object.fromEntries(graph.nodes.map((n) => [n.id, n.active]))).toMatchObject({ 'j:j1': true, 'j:j2': false, 'w:w1': true, 'w:w3': false })
    expect(countGraph(graph)).toEqual({ workers: 3, cli: 2, browser: 1, jobs: 2, leaseLinks: 2, leasedTasks: 3 })
  })

  it('gives back the same graph object when only numbers changed, updating them in place', () => {
    const first = buildGraph(input)
    const w1 = first.nodes.find((n) => n.id === 'w:w1')!
    w1.x = 12 // where the layout put it
    const again = buildGraph({ ...input, leases: [{ worker_id: 'w1', job_id: 'j1', tasks: 5 }, { worker_id: 'w2', job_id: 'j1', tasks: 1 }] }, first)
    expect(again).toBe(first)
    expect(countGraph(again).leasedTasks).toBe(6)
    expect(again.nodes.find((n) => n.id === 'w:w1')!.x).toBe(12)
  })

  it('makes a new graph when a node or link comes or goes, keeping the surviving node objects (and their positions)', () => {
    const first = buildGraph(input)
    const w1 = first.nodes.find((n) => n.id === 'w:w1')!
    const left = buildGraph({ ...input, workers: [worker('w1'), worker('w3')] }, first)
    expect(left).not.toBe(first)
    expect(left.nodes.find((n) => n.id === 'w:w1')).toBe(w1)
    expect(linkPairs(left)).toEqual(['coordinator>j:j1', 'coordinator>j:j2', 'w:w1>j:j1'])
    const moved = buildGraph({ ...input, leases: [{ worker_id: 'w1', job_id: 'j2', tasks: 1 }] }, left)
    expect(moved).not.toBe(left)
    expect(linkPairs(moved)).toContain('w:w1>j:j2')
  })

  it('places a new worker next to the job it leases, so the layout settles quickly', () => {
    const first = buildGraph(input)
    const j1 = first.nodes.find((n) => n.id === 'j:j1')!
    j1.x = 500
    j1.y = -300
    const next = buildGraph({ ...input, workers: [...input.workers, worker('w4')], leases: [...input.leases, { worker_id: 'w4', job_id: 'j1', tasks: 1 }] }, first)
    const w4 = next.nodes.find((n) => n.id === 'w:w4')!
    expect(Math.hypot(w4.x! - 500, w4.y! + 300)).toBeCloseTo(40)
  })

  it('marks the coordinator inactive when presence says none is there', () => {
    expect(buildGraph({ ...input, coordinatorOnline: false }).nodes.find((n) => n.kind === 'coordinator')!.active).toBe(false)
    expect(buildGraph({ ...input, coordinatorOnline: null }).nodes.find((n) => n.kind === 'coordinator')!.active).toBe(true)
  })

  it('is an empty network: only the coordinator', () => {
    const graph = buildGraph({ workers: [], jobs: [], leases: [], coordinatorOnline: null })
    expect(graph.nodes.map((n) => n.id)).toEqual([COORDINATOR_NODE_ID])
    expect(graph.links).toEqual([])
  })
})
