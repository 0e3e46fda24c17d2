import type { GraphNode, NodeKind } from '../feed/graph-model.ts'

/** One colour per kind of node, in the graph, the legend and the tables alike. */
export const KIND_COLORS: Record<NodeKind, { active: string; idle: string; label: string }> = {
  coordinator: { active: '#f8fafc', idle: '#64748b', label: 'coordinator' },
  job: { active: '#f59e0b', idle: '#a16207', label: 'job' },
  cli: { active: '#38bdf8', idle: '#1e6a8f', label: 'CLI worker' },
  browser: { active: '#c084fc', idle: '#7e4ca8', label: 'browser worker' },
}

export const LINK_COLORS = { lease: 'rgba(250, 204, 21, 0.55)', job: 'rgba(148, 163, 184, 0.25)' }

export const nodeColor = (node: GraphNode) => (node.active ? KIND_COLORS[node.kind].active : KIND_COLORS[node.kind].idle)

export const CHART_COLORS = { claims: '#38bdf8', completions: '#4ade80', accuracy: '#4ade80', epsilon: '#f472b6' }

export const THEME = {
  background: '#0b1020',
  panel: 'rgba(15, 23, 42, 0.86)',
  border: 'rgba(148, 163, 184, 0.25)',
  text: '#e2e8f0',
  muted: '#94a3b8',
  problem: '#fca5a5',
}

/** A pseudonymous id, shortened for display: the first 8 characters. */
export const shortId = (id: string) => (id.startsWith('synthetic-') ? id.replace('synthetic-', '') : id.slice(0, 8))
