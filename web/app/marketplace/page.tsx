import type { Metadata } from 'next'
import { MarketplaceView } from '../../components/marketplace/marketplace-view.tsx'

export const metadata: Metadata = { title: 'Marketplace · Oblivion' }

/** /marketplace: listed models are public (marketplace_models() is granted to anon), read in the browser. */
export default function MarketplacePage() {
  return <MarketplaceView />
}
