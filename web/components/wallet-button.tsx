'use client'
import { useWallet } from '../lib/wallet/wallet-context.tsx'
import { usePublicConfig } from '../lib/config-context.tsx'

const short = (address: string) => `${address.slice(0, 6)}…${address.slice(-4)}`

/** Connect → switch network → sign in, whichever comes next; the problem, if any, below it. */
export function WalletButton() {
  const wallet = useWallet()
  const config = usePublicConfig()
  let action
  if (wallet.status !== 'connected') {
    action = (
      <button type="button" className="button" onClick={() => wallet.connect()} disabled={wallet.status === 'connecting'} data-testid="connect-wallet">
        {wallet.status === 'connecting' ? 'Connecting…' : 'Connect wallet'}
      </button>
    )
  } else if (wallet.wrongChain) {
    action = (
      <button type="button" className="button warn" onClick={() => wallet.switchChain()} data-testid="switch-chain">
        Switch to {config.chain?.name}
      </button>
    )
  } else if (!wallet.signedIn) {
    action = (
      <button type="button" className="button" onClick={() => wallet.signIn()} data-testid="sign-in">
        Sign in as {short(wallet.account!)}
      </button>
    )
  } else {
    action = (
      <span className="account" data-testid="signed-in" title={wallet.account ?? ''}>
        {short(wallet.account!)}{' '}
        <button type="button" className="link" onClick={() => wallet.signOut()}>
          sign out
        </button>
      </span>
    )
  }
  return (
    <div className="wallet">
      {action}
      {wallet.problem && (
        <div className="problem" role="alert" data-testid="wallet-problem">
          <strong>{wallet.problem.message}</strong> {wallet.problem.next}
          <button type="button" className="link" onClick={wallet.clearProblem} aria-label="dismiss">
            ×
          </button>
        </div>
      )}
    </div>
  )
}
