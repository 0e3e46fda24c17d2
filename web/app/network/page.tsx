import type { Metadata } from 'next'
import { NetworkPanel } from '../../components/network/network-panel.tsx'

export const metadata: Metadata = { title: 'Network · Oblivion' }

export default function NetworkPage() {
  return (
    <>
      <h1>Network</h1>
      <p className="muted">The coordinator, the workers online (browser and CLI), the jobs running and a line for each lease held now. Ids are pseudonymous.</p>
      <NetworkPanel />
    </>
  )
}
