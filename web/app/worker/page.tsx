'use client'
import { BrowserWorkerPanel } from '../../components/browser-worker/browser-worker-panel.tsx'
import { useBrowserWorker } from '../../components/browser-worker/use-browser-worker.ts'
import { WorkerPayouts } from '../../components/browser-worker/worker-payouts.tsx'
import { useWallet } from '../../lib/wallet/wallet-context.tsx'

/** /worker: the built-in browser worker and the wallet's payouts. */
export default function WorkerPage() {
  const worker = useBrowserWorker()
  const { account } = useWallet()
  return (
    <>
      <h1>Browser worker</h1>
      <p className="muted">
        Train shards of open jobs in this tab, with the same worker core and training code as the <span className="mono">oblivion worker</span> CLI. Each
        accepted task earns the job’s reward ÷ (rounds × shards), paid when the job is settled on chain.
      </p>
      <BrowserWorkerPanel worker={worker} />
      <WorkerPayouts address={worker.ready ? account : null} refreshKey={worker.completed.length} />
    </>
  )
}
