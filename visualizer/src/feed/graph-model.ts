import type { TopologyJob, TopologyLease, TopologyWorker, WorkerKind } from './network-answers.ts'

/**
 * The topology as a force graph: the coordinator at the hub, active jobs around it, workers
 * attached to the jobs they hold leases on. react-force-graph keeps each node's position on
 * the node object itself, so a rebuild reuses the previous objects by id, and hands back the
 * very same graph object when only numbers changed (no new layout, no React re-render).
 */
export type NodeKind = 'coordinator' | 'job' | WorkerKind

export interface GraphNode {
  id: string
  kind: NodeKind
  /** Radius in graph units. */
  radius: number
  /** Jobs: running or aggregating; the coordinator: present; workers: holds a lease. */
  active: boolean
  // Written by the force layout.
  x?: number
  y?: number
  vx?: number
  vy?: number
  /** Pinned position (the coordinator, at the centre). */
  fx?: number
  fy?: number
}

export interface GraphLink {
  id: string
  kind: 'lease' | 'job'
  /** Node ids; the layout replaces them with the node objects. */
  source: string | GraphNode
  target: string | GraphNode
  /** Leases: tasks the worker holds on the job. */
  tasks: number
}

export interface NetworkGraph {
  nodes: GraphNode[]
  links: GraphLink[]
}

export interface GraphCounts {
  workers: number
  cli: number
  browser: number
  jobs: number
  /** Worker → job links (one per worker and job, whatever the number of tasks). */
  leaseLinks: number
  /** Leased tasks on those links. */
  leasedTasks: number
}

export interface GraphInput {
  workers: readonly TopologyWorker[]
  jobs: readonly TopologyJob[]
  leases: readonly TopologyLease[]
  /** Whether a coordinator is present; null: unknown (no presence state yet). */
  coordinatorOnline: boolean | null
}

export const COORDINATOR_NODE_ID = 'coordinator'
export const workerNodeId = (workerId: string) => `w:${workerId}`
export const jobNodeId = (jobId: string) => `j:${jobId}`

export const EMPTY_GRAPH: NetworkGraph = { nodes: [], links: [] }

const endpointId = (end: string | GraphNode) => (typeof end === 'string' ? end : end.id)

/**
 * Builds the graph from the topology, reusing `previous`'s node objects. Returns `previous`
 * itself when no node or link came or went (their numbers are updated in place): the layout
 * only restarts when the structure changes.
 */
export function buildGraph(input: GraphInput, previous: NetworkGraph = EMPTY_GRAPH): NetworkGraph {
  const old = new Map(previous.nodes.map((n) => [n.id, n]))
  const nodes: GraphNode[] = []
  const add = (id: string, kind: NodeKind, radius: number, active: boolean): GraphNode => {
    const node = old.get(id)
    if (node) {
      node.kind = kind
      node.radius = radius
      node.active = active
      nodes.push(node)
      return node
    }
    const fresh: GraphNode = { id, kind, radius, active }
    nodes.push(fresh)
    return fresh
  }

  const coordinator = add(COORDINATOR_NODE_ID, 'coordinator', 9, input.coordinatorOnline !== false)
  coordinator.x ??= 0
  coordinator.y ??= 0
  coordinator.fx = 0
  coordinator.fy = 0
  const jobIds = new Set<string>()
  for (const job of input.jobs) {
    jobIds.add(job.id)
    // Bigger with more shards (≈ more workers around it), within 4 to 8.
    const node = add(jobNodeId(job.id), 'job', Math.min(8, 4 + Math.log2(1 + job.shards) / 2), job.status === 'running' || job.status === 'aggregating')
    if (node.x === undefined) placeNear(node, coordinator)
  }
  const tasksByWorkerJob = new Map<string, { worker: string; job: string; tasks: number }>()
  const workerIds = new Set(input.workers.map((w) => w.id))
  for (const lease of input.leases) {
    if (!workerIds.has(lease.worker_id) || !jobIds.has(lease.job_id)) continue // an offline or hidden worker
    const key = `${lease.worker_id}>${lease.job_id}`
    const entry = tasksByWorkerJob.get(key)
    if (entry) entry.tasks += lease.tasks
    else tasksByWorkerJob.set(key, { worker: lease.worker_id, job: lease.job_id, tasks: lease.tasks })
  }
  const firstJob = new Map<string, string>()
  for (const lease of tasksByWorkerJob.values()) if (!firstJob.has(lease.worker)) firstJob.set(lease.worker, lease.job)
  const byId = new Map(nodes.map((n) => [n.id, n]))
  for (const worker of input.workers) {
    const job = firstJob.get(worker.id)
    const node = add(workerNodeId(worker.id), worker.kind, 2.5, job !== undefined)
    if (node.x === undefined) placeNear(node, (job !== undefined && byId.get(jobNodeId(job))) || coordinator)
  }

  const links: GraphLink[] = []
  const oldLinks = new Map(previous.links.map((l) => [l.id, l]))
  const link = (id: string, kind: GraphLink['kind'], source: string, target: string, tasks: number) => {
    const existing = oldLinks.get(id)
    if (existing) {
      existing.tasks = tasks
      links.push(existing)
    } else links.push({ id, kind, source, target, tasks })
  }
  for (const jobId of jobIds) link(`c>${jobId}`, 'job', COORDINATOR_NODE_ID, jobNodeId(jobId), 0)
  for (const lease of tasksByWorkerJob.values()) {
    link(`${lease.worker}>${lease.job}`, 'lease', workerNodeId(lease.worker), jobNodeId(lease.job), lease.tasks)
  }

  const sameStructure =
    nodes.length === previous.nodes.length &&
    links.length === previous.links.length &&
    nodes.every((n) => old.has(n.id)) &&
    links.every((l) => oldLinks.get(l.id) === l)
  return sameStructure ? previous : { nodes, links }
}

/** A new node starts next to a node it relates to, so the layout settles in a few ticks. */
function placeNear(node: GraphNode, anchor: GraphNode): void {
  if (anchor.x === undefined || anchor.y === undefined) return
  const angle = Math.random() * 2 * Math.PI
  node.x = anchor.x + Math.cos(angle) * 40
  node.y = anchor.y + Math.sin(angle) * 40
}

export function countGraph(graph: NetworkGraph): GraphCounts {
  const counts: GraphCounts = { workers: 0, cli: 0, browser: 0, jobs: 0, leaseLinks: 0, leasedTasks: 0 }
  for (const node of graph.nodes) {
    if (node.kind === 'cli' || node.kind === 'browser') {
      counts.workers++
      counts[node.kind]++
    } else if (node.kind === 'job') counts.jobs++
  }
  for (const link of graph.links) {
    if (link.kind !== 'lease') continue
    counts.leaseLinks++
    counts.leasedTasks += link.tasks
  }
  return counts
}

/** For tests and debugging: the graph's links as "source>target" strings of node ids. */
export function linkPairs(graph: NetworkGraph): string[] {
  return graph.links.map((l) => `${endpointId(l.source)}>${endpointId(l.target)}`).sort()
}
