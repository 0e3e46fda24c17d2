'use client'
import { memo, useCallback, useEffect, useMemo, useRef, useState, type CSSProperties } from 'react'
import ForceGraph2D, { type ForceGraphMethods, type LinkObject, type NodeObject } from 'react-force-graph-2d'
import { countGraph, type GraphLink, type GraphNode, type NetworkGraph } from '../feed/graph-model.ts'
import { KIND_COLORS, LINK_COLORS } from './palette.ts'

export interface NetworkGraphViewProps {
  graph: NetworkGraph
  /**
   * A new structure (a node or link came or went) restarts the layout; this is the least time
   * between two restarts (default 1,000 ms). The data attributes count what is drawn.
   */
  minLayoutIntervalMs?: number
  /** Changes whenever the numbers in the graph may have changed (NetworkView.updatedAt): redraws without a new layout. */
  version?: number | null
  style?: CSSProperties
}

type Methods = ForceGraphMethods<NodeObject<GraphNode>, LinkObject<GraphNode, GraphLink>>

/** Nodes are drawn by drawNodes, all of one colour in one path: force-graph's own painter fills them one by one. */
const HIDDEN = () => false
const linkColor = (link: GraphLink) => LINK_COLORS[link.kind]
const linkWidth = (link: GraphLink) => (link.kind === 'lease' ? 1 : 0.6)
/** Every colour a node can have, in drawing order (workers below jobs below the coordinator). */
const PAINT_ORDER = (['browser', 'cli', 'job', 'coordinator'] as const).flatMap((kind) => [
  { kind, active: false, color: KIND_COLORS[kind].idle },
  { kind, active: true, color: KIND_COLORS[kind].active },
])
/** A wheel or drag on the graph leaves the view where the person put it for this long. */
const HANDS_OFF_MS = 30_000
const REFIT_MS = 5_000
/**
 * A weak pull toward the centre: without it idle workers (no link) drift out of view, pushed by
 * the others' charge. d3-force's forceX/forceY do this; this is the same in six lines, without
 * another dependency.
 */
function gravity(strength: number) {
  let nodes: GraphNode[] = []
  const force = (alpha: number) => {
    for (const node of nodes) {
      node.vx = (node.vx ?? 0) - (node.x ?? 0) * strength * alpha
      node.vy = (node.vy ?? 0) - (node.y ?? 0) * strength * alpha
    }
  }
  force.initialize = (all: GraphNode[]) => (nodes = all)
  return force
}

/**
 * The full-size topology on a canvas (react-force-graph-2d): the coordinator pinned at the
 * centre, jobs around it, workers by kind attached to the jobs they lease. Fills its parent.
 *
 * Kept smooth at thousands of nodes by: no React render per frame (the graph object changes only
 * when a node or link comes or goes), nodes batched into one canvas path per colour, no pointer
 * picking (it repaints a hidden canvas), and a layout restarted at most once a second that
 * cools down within 120 ticks. What is drawn is counted on data attributes (data-workers,
 * data-jobs, data-lease-links…) for tests.
 */
export const NetworkGraphView = memo(function NetworkGraphView({ graph, version, style, minLayoutIntervalMs = 1_000 }: NetworkGraphViewProps) {
  const container = useRef<HTMLDivElement>(null)
  const methods = useRef<Methods | undefined>(undefined)
  const [size, setSize] = useState({ width: 0, height: 0 })
  const touchedAt = useRef(0)
  const shown = useLatestAtMostEvery(graph, minLayoutIntervalMs)
  const counts = useMemo(() => countGraph(shown), [shown])

  useEffect(() => {
    const element = container.current
    if (!element) return
    const observer = new ResizeObserver(() => setSize({ width: element.clientWidth, height: element.clientHeight }))
    observer.observe(element)
    const touched = () => (touchedAt.current = Date.now())
    element.addEventListener('wheel', touched, { passive: true })
    element.addEventListener('pointerdown', touched)
    return () => {
      observer.disconnect()
      element.removeEventListener('wheel', touched)
      element.removeEventListener('pointerdown', touched)
    }
  }, [])

  // Numbers changed in place (a worker became idle): repaint once, the layout stays.
  useEffect(() => {
    const graphMethods = methods.current
    if (!graphMethods) return
    const center = graphMethods.centerAt()
    graphMethods.centerAt(center.x, center.y)
  }, [version])

  const drawNodes = useCallback(
    (ctx: CanvasRenderingContext2D, scale: number) => {
      // At least 1.5 px on screen, however far out the view is zoomed.
      const minRadius = 1.5 / scale
      for (const paint of PAINT_ORDER) {
        ctx.beginPath()
        let any = false
        for (const node of shown.nodes) {
          if (node.kind !== paint.kind || node.active !== paint.active || node.x === undefined || node.y === undefined) continue
          const r = Math.max(node.radius, minRadius)
          ctx.moveTo(node.x + r, node.y)
          ctx.arc(node.x, node.y, r, 0, 2 * Math.PI)
          any = true
        }
        if (!any) continue
        ctx.fillStyle = paint.color
        ctx.fill()
      }
    },
    [shown],
  )

  // Once the graph exists (after the first measured size): add the pull toward the centre.
  const ready = size.width > 0 && size.height > 0
  useEffect(() => {
    const graphMethods = methods.current
    if (!ready || !graphMethods) return
    graphMethods.d3Force('gravity', gravity(0.04))
    // Many-body repulsion (Barnes–Hut) is the page's largest cost in a profile at 2,000 workers,
    // ~27 % of the CPU; a coarser approximation and no push beyond 400 units trim it (~7 % fewer
    // samples, within the noise of a busy machine) for a layout that looks the same.
    const charge = graphMethods.d3Force('charge')
    charge?.theta?.(1.2)
    charge?.distanceMax?.(400)
  }, [ready])

  const fit = useCallback(() => {
    if (Date.now() - touchedAt.current < HANDS_OFF_MS) return
    methods.current?.zoomToFit(400, 40)
  }, [])
  // Under steady churn the layout never stops: fit every few seconds as well.
  useEffect(() => {
    if (!ready) return
    const timer = setInterval(fit, REFIT_MS)
    return () => clearInterval(timer)
  }, [ready, fit])

  return (
    <div
      ref={container}
      data-testid="network-graph"
      data-nodes={shown.nodes.length}
      data-workers={counts.workers}
      data-cli-workers={counts.cli}
      data-browser-workers={counts.browser}
      data-jobs={counts.jobs}
      data-lease-links={counts.leaseLinks}
      style={{ position: 'absolute', inset: 0, overflow: 'hidden', ...style }}
    >
      {ready && (
        <ForceGraph2D<GraphNode, GraphLink>
          ref={methods}
          graphData={shown as { nodes: NodeObject<GraphNode>[]; links: LinkObject<GraphNode, GraphLink>[] }}
          width={size.width}
          height={size.height}
          nodeId="id"
          nodeVisibility={HIDDEN}
          linkColor={linkColor}
          linkWidth={linkWidth}
          onRenderFramePost={drawNodes}
          enablePointerInteraction={false}
          enableNodeDrag={false}
          maxZoom={6}
          warmupTicks={0}
          cooldownTicks={120}
          d3AlphaDecay={0.04}
          d3VelocityDecay={0.5}
          onEngineStop={fit}
        />
      )}
    </div>
  )
})

/**
 * `value`, but changing at most once per `intervalMs`: the first change at once, later ones when
 * the interval is over (the latest then). 1,000 workers' lease churn can restructure the graph
 * several times a second; each restart of the layout costs a second of simulation.
 */
function useLatestAtMostEvery<T>(value: T, intervalMs: number): T {
  const [shown, setShown] = useState(value)
  const shownAt = useRef(0)
  useEffect(() => {
    if (value === shown) return
    const wait = shownAt.current + intervalMs - Date.now()
    const show = () => {
      shownAt.current = Date.now()
      setShown(value)
    }
    if (wait <= 0) return show()
    const timer = setTimeout(show, wait)
    return () => clearTimeout(timer)
  }, [value, shown, intervalMs])
  return shown
}
