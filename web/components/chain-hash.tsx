'use client'
import { addressUrl, txUrl } from '../lib/chain/explorer.ts'
import { usePublicConfig } from '../lib/config-context.tsx'

/** A transaction hash or an address: in full (selectable), linked to the chain's explorer when it has one. */
export function ChainHash({ value, kind = 'tx', testId }: { value: string; kind?: 'tx' | 'address'; testId?: string }) {
  const { chain } = usePublicConfig()
  const url = kind === 'tx' ? txUrl(chain, value) : addressUrl(chain, value)
  const text = (
    <span className="mono hash" title={value} data-testid={testId} data-value={value}>
      {value}
    </span>
  )
  return url ? (
    <a href={url} target="_blank" rel="noreferrer">
      {text}
    </a>
  ) : (
    text
  )
}
