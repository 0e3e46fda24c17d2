'use client'
import { useCallback, useEffect, useState } from 'react'
import { jobIdFromUuid } from '@oblivion/contracts/browser'
import { payoutOf, pendingBlockTime, readWorkerSettlements, type WorkerPayout } from '@oblivion/node-client/chain'
import { readSettlement, sendLegacy, TransactionProblem, walletSettlement } from '../../lib/chain/settlement.ts'
import { usePublicConfig } from '../../lib/config-context.tsx'
import { requestProblem, type Problem } from '../../lib/errors/request-problem.ts'
import { useSupabase } from '../../lib/supabase-context.tsx'
import { useWallet } from '../../lib/wallet/wallet-context.tsx'

export interface ClaimOutcome {
  jobId: string
  txHash: string | null
  problem: Problem | null
}

/** Refusals of claimPayout in words (the contract's custom errors). */
const CLAIM_REVERTS: Record<string, string> = {
  ChallengeWindowOpen: 'The challenge window has not closed yet: claim after the time shown.',
  AlreadyClaimed: 'This payout was claimed already.',
  InvalidProof: 'The proof does not match the settlement on chain (was it disputed?). Reload the page.',
  WrongStatus: 'The job is not settled on chain (any more): reload the page.',
  TransferFailed: 'The contract could not send the coins to your address.',
}

/**
 * "Your payouts": the confirmed settlements that pay the signed-in wallet, each checked on chain
 * (node-client/src/chain/worker-payouts.ts, shared with `oblivion worker claim`), the chain's
 * time for "claimable at", and claiming one with the connected wallet.
 */
export function useWorkerPayouts(address: string | null, refreshKey: unknown) {
  const config = usePublicConfig()
  const { supabase, session } = useSupabase()
  const { wallet } = useWallet()
  const [payouts, setPayouts] = useState<WorkerPayout[] | null>(null)
  const [chainTime, setChainTime] = useState<number | null>(null)
  const [problem, setProblem] = useState<Problem | null>(null)
  const [claiming, setClaiming] = useState<string | null>(null)
  const [outcome, setOutcome] = useState<ClaimOutcome | null>(null)
  const chain = config.chain

  const load = useCallback(async () => {
    if (!address || !session || !chain) return
    const { rows, error } = await readWorkerSettlements(supabase, { chainId: chain.chainId, address })
    if (error) return setProblem(requestProblem('Could not read your settlements', error))
    const { contract, provider } = readSettlement(chain)
    try {
      const [pending, latest, window] = await Promise.all([
        pendingBlockTime(provider),
        provider.getBlock('latest'),
        rows.length ? contract.challengeWindow() : Promise.resolve(BigInt(chain.challengeWindow)),
      ])
      const now = pending ?? latest?.timestamp ?? Math.floor(Date.now() / 1000)
      const list: WorkerPayout[] = []
      for (const row of rows) list.push(await payoutOf(contract, address, row, now, Number(window)))
      setChainTime(now)
      setPayouts(list)
      setProblem(null)
    } catch (error) {
      setProblem({ message: `Could not read your payouts on chain: ${(error as Error).message ?? String(error)}`, next: `Check that the chain (${chain.rpcUrl}) is reachable, then retry.`, code: 'CHAIN_UNREACHABLE' })
    } finally {
      provider.destroy()
    }
  }, [address, session, chain, supabase])

  useEffect(() => {
    void load()
    const timer = setInterval(() => void load(), 15_000)
    return () => clearInterval(timer)
  }, [load, refreshKey])

  const claim = useCallback(
    async (payout: WorkerPayout) => {
      if (!chain) return
      if (!wallet) {
        setOutcome({ jobId: payout.jobId, txHash: null, problem: { message: 'Connect your wallet to claim.', next: 'Click “Connect wallet”.' } })
        return
      }
      setClaiming(payout.jobId)
      setOutcome(null)
      try {
        const contract = await walletSettlement(chain, wallet.provider)
        const receipt = await sendLegacy(contract, 'claimPayout', [jobIdFromUuid(payout.jobId), payout.amountWei, payout.proof], { explain: CLAIM_REVERTS })
        setOutcome({ jobId: payout.jobId, txHash: receipt.hash, problem: null })
      } catch (error) {
        const problem: Problem =
          error instanceof TransactionProblem ? { message: error.message, next: error.next } : { message: `The claim failed: ${(error as Error).message ?? String(error)}`, next: 'Try again.' }
        setOutcome({ jobId: payout.jobId, txHash: null, problem })
      } finally {
        setClaiming(null)
        await load()
      }
    },
    [chain, wallet, load],
  )

  return { payouts, chainTime, problem, claiming, outcome, claim, reload: load }
}
