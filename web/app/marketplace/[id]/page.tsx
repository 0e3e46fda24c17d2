import type { Metadata } from 'next'
import { notFound } from 'next/navigation'
import { ModelPage } from '../../../components/marketplace/model-page.tsx'

export const metadata: Metadata = { title: 'Model · Marketplace · Oblivion' }

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** /marketplace/<model id>[?request=<request id>]: the model, its buy flow, and the buyer's requests (read in the browser). */
export default async function MarketplaceModelPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<{ request?: string }> }) {
  const { id } = await params
  const modelId = id.toLowerCase()
  if (!UUID.test(modelId)) notFound()
  const { request } = await searchParams
  return <ModelPage modelId={modelId} requestId={request && UUID.test(request.toLowerCase()) ? request.toLowerCase() : null} />
}
