'use client'
import type { ReactNode } from 'react'
import { usePublicConfig } from '../lib/config-context.tsx'
import { useWallet } from '../lib/wallet/wallet-context.tsx'

export type WalletStep = 'connect' | 'sign-in' | 'switch' | null

/** What an action still needs from the wallet: a session (signed in), the network's chain, or both. */
export function useWalletStep(needs: { session?: boolean; chain?: boolean }): WalletStep {
  const wallet = useWallet()
  const config = usePublicConfig()
  if (needs.session && !wallet.signedIn) return wallet.status === 'connected' ? 'sign-in' : 'connect'
  if (needs.chain && config.chain) {
    if (wallet.status !== 'connected') return 'connect'
    if (wallet.wrongChain) return 'switch'
  }
  return null
}

/**
 * Inline next step before an action can run ("connect your wallet to …", "switch to …", "sign in
 * to …") with the button that does it; nothing once the wallet is ready. `purpose` ends the
 * sentence: "create a job", "fund the escrow".
 */
export function WalletGate({ needs, purpose, testId = 'wallet-gate' }: { needs: { session?: boolean; chain?: boolean }; purpose: string; testId?: string }) {
  const wallet = useWallet()
  const config = usePublicConfig()
  const step = useWalletStep(needs)
  if (!step) return null
  const chainName = config.chain?.name ?? 'the network’s chain'
  let text: string
  let button: ReactNode
  if (step === 'connect') {
    text = needs.session && !wallet.signedIn ? `Connect your wallet and sign in to ${purpose}.` : `Connect your wallet to ${purpose}.`
    button = (
      <button type="button" className="button" onClick={() => void wallet.connect()} disabled={wallet.status === 'connecting'} data-testid={`${testId}-connect`}>
        {wallet.status === 'connecting' ? 'Connecting…' : 'Connect wallet'}
      </button>
    )
  } else if (step === 'sign-in') {
    text = `Sign in with your wallet to ${purpose}: a signature, not a transaction, so it costs nothing.`
    button = (
      <button type="button" className="button" onClick={() => void wallet.signIn()} data-testid={`${testId}-sign-in`}>
        Sign in
      </button>
    )
  } else {
    text = `Your wallet is on chain ${wallet.chainId ?? '?'}; to ${purpose} it must be on ${chainName} (chain ${config.chain?.chainId}).`
    button = (
      <button type="button" className="button warn" onClick={() => void wallet.switchChain()} data-testid={`${testId}-switch`}>
        Switch to {chainName}
      </button>
    )
  }
  return (
    <div className="notice gate" data-testid={testId} data-step={step}>
      <span>{text}</span> {button}
      {wallet.problem && (
        <div className="field-error" data-testid={`${testId}-problem`}>
          {wallet.problem.message} {wallet.problem.next}
        </div>
      )}
    </div>
  )
}
