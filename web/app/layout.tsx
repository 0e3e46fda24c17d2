import type { Metadata } from 'next'
import Link from 'next/link'
import type { ReactNode } from 'react'
import { Providers } from '../components/providers.tsx'
import { WalletButton } from '../components/wallet-button.tsx'
import { getPublicConfig } from '../lib/public-config.server.ts'
import './globals.css'

export const metadata: Metadata = {
  title: 'Oblivion',
  description: 'Train models together with differential privacy, paid on chain.',
}

export default async function RootLayout({ children }: { children: ReactNode }) {
  const config = await getPublicConfig()
  return (
    <html lang="en">
      <body>
        <Providers config={config}>
          <header className="topbar">
            <Link href="/" className="brand">
              Oblivion
            </Link>
            <nav>
              <Link href="/">Dashboard</Link>
              <Link href="/jobs/new">Create job</Link>
              <Link href="/marketplace">Marketplace</Link>
              <Link href="/worker">Browser worker</Link>
              <Link href="/network">Network</Link>
            </nav>
            <WalletButton />
          </header>
          <main>{children}</main>
        </Providers>
      </body>
    </html>
  )
}
