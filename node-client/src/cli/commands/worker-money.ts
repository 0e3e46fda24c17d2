import { chainNow, onChain, receiptEvent, sendOnChain, withChainSession, type ChainSession, type WalletCommandOptions } from '../chain-session.ts'
import type { ExitCode } from '../cli-error.ts'
import { chainTime, coins } from '../render/format.ts'
import { isoTime } from '../render/money-renderer.ts'
import { describePayout, listWorkerPayouts, payoutRecord, signInAsWorker } from './worker-claim.ts'

const readBond = (session: ChainSession) => onChain(session, 'reading the bond', () => session.contract.bondOf(session.address))

/** Fields every money line carries: which chain, which wallet. */
const where = (session: ChainSession) => ({ chainId: session.target.chainId, address: session.address })

/** `oblivion worker bond <amount>`: adds to the wallet's bond, the stake that lets its workers lease tasks of chain-funded jobs. */
export function runWorkerBondCommand(options: WalletCommandOptions & { amountWei: bigint }): Promise<ExitCode> {
  return withChainSession(options, async (session, out) => {
    const receipt = await sendOnChain(session, 'bond', [], { value: options.amountWei })
    const bond = await readBond(session)
    out.emit(
      'bonded',
      { ...where(session), amountWei: String(options.amountWei), bondedWei: String(bond.bonded), unbondingWei: String(bond.unbonding), txHash: receipt.hash, blockNumber: receipt.blockNumber },
      `bonded ${coins(options.amountWei)} from ${session.address} (tx ${receipt.hash}); bonded total ${coins(bond.bonded)}`,
    )
  })
}

/** `oblivion worker unbond <amount>`: moves part of the bond to unbonding; it can be withdrawn after the unbonding delay. */
export function runWorkerUnbondCommand(options: WalletCommandOptions & { amountWei: bigint }): Promise<ExitCode> {
  return withChainSession(options, async (session, out) => {
    const receipt = await sendOnChain(session, 'requestUnbond', [options.amountWei], {
      explain: {
        InsufficientBond: async () => ({
          message: `cannot unbond ${coins(options.amountWei)}: ${session.address} has ${coins((await readBond(session)).bonded)} bonded`,
        }),
      },
    })
    const [bond, now] = await Promise.all([readBond(session), chainNow(session)])
    out.emit(
      'unbond-requested',
      { ...where(session), amountWei: String(options.amountWei), bondedWei: String(bond.bonded), unbondingWei: String(bond.unbonding), unlockAt: isoTime(bond.unlockAt), txHash: receipt.hash },
      [
        `requested ${coins(options.amountWei)} back (tx ${receipt.hash}); ${coins(bond.bonded)} stays bonded`,
        `  ${coins(bond.unbonding)} unbonding, withdrawable from ${chainTime(Number(bond.unlockAt), now)} with \`oblivion worker withdraw\``,
      ].join('\n'),
    )
  })
}

/** `oblivion worker withdraw`: pays out the unbonding amount once its delay has passed. */
export function runWorkerWithdrawCommand(options: WalletCommandOptions): Promise<ExitCode> {
  return withChainSession(options, async (session, out) => {
    const receipt = await sendOnChain(session, 'withdrawUnbonded', [], {
      explain: {
        StillUnbonding: async ({ args }) => {
          const unlockAt = Number(args[0])
          const [now, bond] = await Promise.all([chainNow(session), readBond(session)])
          return {
            message: `${coins(bond.unbonding)} is still unbonding: withdrawable from ${isoTime(unlockAt)}, ${Math.max(0, unlockAt - now)} s from now`,
            hint: `run \`oblivion worker withdraw\` again after ${chainTime(unlockAt, now)}`,
          }
        },
        ZeroAmount: () => ({
          message: `nothing is unbonding for ${session.address}`,
          hint: 'ask for part of the bond back first with `oblivion worker unbond <amount>`, then withdraw it after the unbonding delay',
        }),
      },
    })
    const amount = receiptEvent(session, receipt, 'Withdrawn')?.amount ?? 0n
    out.emit('withdrawn', { ...where(session), amountWei: String(amount), txHash: receipt.hash }, `withdrew ${coins(amount)} to ${session.address} (tx ${receipt.hash})`)
  })
}

/** `oblivion worker stake [--name <worker>]`: the wallet's balance, bond and credits; with --name, its payouts. */
export function runWorkerStakeCommand(options: WalletCommandOptions & { name?: string | undefined }): Promise<ExitCode> {
  return withChainSession(options, async (session, out) => {
    const [balance, bond, credits, now] = await onChain(session, 'reading the stake', () =>
      Promise.all([session.provider.getBalance(session.address), session.contract.bondOf(session.address), session.contract.credits(session.address), chainNow(session)]),
    )
    const unlockAt = bond.unlockAt > 0n ? Number(bond.unlockAt) : null
    out.emit(
      'stake',
      {
        ...where(session),
        balanceWei: String(balance),
        bondedWei: String(bond.bonded),
        unbondingWei: String(bond.unbonding),
        unlockAt: unlockAt === null ? null : isoTime(unlockAt),
        withdrawable: unlockAt !== null && unlockAt <= now,
        creditsWei: String(credits),
      },
      [
        `wallet    ${session.address} on chain ${session.target.chainId}`,
        `balance   ${coins(balance)}`,
        `bonded    ${coins(bond.bonded)}`,
        `unbonding ${coins(bond.unbonding)}${unlockAt === null ? '' : `, withdrawable from ${chainTime(unlockAt, now)}`}`,
        `credits   ${coins(credits)}${credits > 0n ? ' (withdraw with `oblivion job refund`)' : ''}`,
      ].join('\n'),
    )
    if (options.name === undefined) return
    const { supabase, close } = await signInAsWorker(options, options.name)
    try {
      const payouts = await listWorkerPayouts(session, supabase)
      if (payouts.length === 0) out.emit('payouts', { worker: options.name, count: 0 }, `payouts   none for worker ${options.name} yet`)
      for (const payout of payouts) out.emit('payout', payoutRecord(payout), `payout    ${describePayout(payout, now)}`)
    } finally {
      await close()
    }
  })
}
