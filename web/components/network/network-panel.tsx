'use client'
import dynamic from 'next/dynamic'
import { Loading } from '../states.tsx'

/** The topology draws on a canvas and its module touches `window`: never rendered on the server. */
export const NetworkPanel = dynamic(() => import('./network-topology.tsx'), {
  ssr: false,
  loading: () => <Loading testId="network-loading">Loading the network view…</Loading>,
})
