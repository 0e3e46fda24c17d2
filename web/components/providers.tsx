'use client'
import type { ReactNode } from 'react'
import type { PublicConfig } from '@oblivion/visualizer/config'
import { ConfigProvider } from '../lib/config-context.tsx'
import { SupabaseProvider } from '../lib/supabase-context.tsx'
import { WalletProvider } from '../lib/wallet/wallet-context.tsx'

/** Everything a page needs from the client side: the network's config, supabase-js, the wallet. */
export function Providers({ config, children }: { config: PublicConfig; children: ReactNode }) {
  return (
    <ConfigProvider config={config}>
      <SupabaseProvider>
        <WalletProvider>{children}</WalletProvider>
      </SupabaseProvider>
    </ConfigProvider>
  )
}
