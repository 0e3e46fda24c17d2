'use client'
import { useState } from 'react'
import { formatEther, parseEther } from 'ethers'
import { sendLegacy, TransactionProblem, walletSettlement } from '../../lib/chain/settlement.ts'
import { usePublicConfig } from '../../lib/config-context.tsx'
import type { Problem } from '../../lib/errors/request-problem.ts'
import { coins, shortHex } from '../../lib/format.ts'
import { useWallet } from '../../lib/wallet/wallet-context.tsx'
import type { Stake } from './use-stake.ts'

const BOND_REVERTS: Record<string, string> = {
  ZeroAmount: 'Enter an amount above zero.',
  AmountTooLarge: 'That bond is larger than the contract can hold for one wallet: bond less.',
}

/** Coins (a decimal string) rounded up to 4 decimals: a readable default for the amount input. */
function roundUpCoins(wei: bigint): string {
  const step = 10n ** 14n
  const rounded = ((wei + step - 1n) / step) * step
  return formatEther(rounded)
}

/**
 * The wallet's bond, and a notice when it cannot cover a lease of the open chain-funded jobs (claim_task
 * lets a worker hold leases worth up to twice its bond): what is missing and a Bond action that
 * sends bond() from the connected wallet.
 */
export function StakeNotice({ stake, onBonded }: { stake: Stake; onBonded: () => void }) {
  const config = usePublicConfig()
  const { wallet, wrongChain, switchChain } = useWallet()
  const missing = stake.neededWei > stake.bondedWei ? stake.neededWei - stake.bondedWei : 0n
  const [amount, setAmount] = useState(() => roundUpCoins(missing > 0n ? missing : parseEther('1')))
  const [sending, setSending] = useState(false)
  const [txHash, setTxHash] = useState<string | null>(null)
  const [problem, setProblem] = useState<Problem | null>(null)
  const [open, setOpen] = useState(false)
  const chain = config.chain
  if (!chain) return null

  async function bond() {
    if (!chain) return
    setProblem(null)
    setTxHash(null)
    let value: bigint
    try {
      value = parseEther(amount.trim())
    } catch {
      return setProblem({ message: `“${amount}” is not an amount of coins.`, next: 'Enter a number such as 0.5.' })
    }
    if (value <= 0n) return setProblem({ message: 'Enter an amount above zero.', next: 'The bond is what you stake: leases worth up to twice it.' })
    if (!wallet) return setProblem({ message: 'Connect your wallet to bond.', next: 'Click “Connect wallet”.' })
    setSending(true)
    try {
      const contract = await walletSettlement(chain, wallet.provider)
      const receipt = await sendLegacy(contract, 'bond', [], { value, explain: BOND_REVERTS })
      setTxHash(receipt.hash)
      onBonded()
    } catch (error) {
      setProblem(error instanceof TransactionProblem ? { message: error.message, next: error.next } : { message: `Bonding failed: ${(error as Error).message}`, next: 'Try again.' })
    } finally {
      setSending(false)
    }
  }

  const formOpen = !stake.covered || open
  return (
    <div className={stake.covered ? 'notice stake' : 'notice stake warn'} data-testid="stake-notice" data-covered={stake.covered}>
      {stake.covered ? (
        <p>
          Your bond: <strong data-testid="stake-bond">{coins(stake.bondedWei)}</strong>, leases worth up to {coins(stake.bondedWei * 2n)}
          {stake.openJobs.length > 0 ? ': enough for every open paid job.' : '.'}{' '}
          {!open && (
            <button type="button" className="link" onClick={() => setOpen(true)} data-testid="bond-open">
              Bond more
            </button>
          )}
        </p>
      ) : (
        <p>
          <strong>Your bond ({coins(stake.bondedWei)}) does not cover a lease of the open paid jobs.</strong> A worker may hold leases worth up to twice its
          wallet’s bond; a task of {stake.openJobs.length === 1 ? 'the open job' : `the ${stake.openJobs.length} open jobs`} is worth up to{' '}
          {coins(stake.largestTaskWei)}, so bond at least {coins(stake.neededWei)} ({coins(missing)} more). The bond is slashed only for refused updates
          and comes back after the unbonding delay (<span className="mono">oblivion worker unbond</span>).
        </p>
      )}
      {formOpen && (
      <div className="bond-form">
        <label htmlFor="bond-amount">Bond (coins)</label>
        <input id="bond-amount" data-testid="bond-amount" inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} disabled={sending} />
        {wrongChain ? (
          <button type="button" className="button warn" onClick={() => void switchChain()} data-testid="bond-switch-chain">
            Switch to {chain.name}
          </button>
        ) : (
          <button type="button" className="button" onClick={() => void bond()} disabled={sending} data-testid="bond-submit">
            {sending ? 'Bonding…' : 'Bond'}
          </button>
        )}
      </div>
      )}
      {txHash && (
        <p data-testid="bond-tx">
          Bonded: transaction <span className="mono">{shortHex(txHash)}</span>. The network sees it once the coordinator mirrors the event (a few seconds).
        </p>
      )}
      {problem && (
        <p className="error" role="alert" data-testid="bond-problem">
          <strong>{problem.message}</strong> {problem.next}
        </p>
      )}
    </div>
  )
}
