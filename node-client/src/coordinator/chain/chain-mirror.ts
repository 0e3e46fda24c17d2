import type { SupabaseClient } from '@supabase/supabase-js'
import { ChainWatcher, type SettlementEvent } from '../../chain/index.ts'
import { callRpc } from '../../worker-core/rpc.ts'
import type { CoordinatorEvent } from '../coordinator-events.ts'
import type { CoordinatorChain } from './coordinator-chain.ts'

/** record_chain_events takes at most this many events per call. */
const BATCH = 1_000

/**
 * Mirrors the settlement contract's events into the database (record_chain_events): escrows fund,
 * cancel and expire jobs, settlements are confirmed, bonds feed claim_task's stake rule. The cursor
 * lives in chain_cursors, so a restarted coordinator resumes after the last block it stored, and
 * a range read twice changes nothing (events are keyed by transaction and log index).
 */
export function startChainMirror(
  supabase: SupabaseClient,
  chain: CoordinatorChain,
  emit: (event: CoordinatorEvent) => void,
  onChange: () => void,
): ChainWatcher {
  const contract = chain.contractAddress.toLowerCase()
  let cursor = -1
  const watcher = new ChainWatcher({
    provider: chain.provider,
    contractAddress: chain.contractAddress,
    fromBlock: chain.fromBlock,
    local: chain.local,
    pollIntervalMs: chain.pollIntervalMs ?? 2_000,
    async loadCursor() {
      const { data, error } = await supabase
        .from('chain_cursors')
        .select('last_block')
        .eq('chain_id', chain.chainId)
        .eq('contract_address', contract)
        .maybeSingle()
      if (error) throw new Error(`Could not read the chain cursor: ${error.message}`)
      cursor = (data as { last_block: number } | null)?.last_block ?? -1
      return cursor >= 0 ? cursor : null
    },
    async onEvents(events, lastBlock) {
      let inserted = 0
      for (let start = 0; start < events.length || start === 0; start += BATCH) {
        const batch = events.slice(start, start + BATCH).map(forMirror)
        const final = start + BATCH >= events.length
        // Only the last batch moves the cursor to lastBlock: a crash between batches re-reads the range.
        inserted += await callRpc<number>(supabase, 'record_chain_events', {
          p_chain_id: chain.chainId,
          p_contract_address: contract,
          p_events: batch,
          p_last_block: final ? lastBlock : Math.max(cursor, 0),
        })
      }
      cursor = lastBlock
      if (inserted > 0) {
        emit({ type: 'chain-events', count: inserted, lastBlock })
        onChange()
      }
    },
    onError(error, { attempt, retryInMs }) {
      emit({ type: 'warning', message: `chain ${chain.chainId}: ${(error as Error).message} (attempt ${attempt}, retrying in ${Math.round(retryInMs / 100) / 10} s)` })
    },
  })
  watcher.start()
  return watcher
}

/** JobFunded's bytes32 job id goes to jobs.chain_job_id (record_chain_events reads it as args.jobIdHex). */
function forMirror(event: SettlementEvent): SettlementEvent {
  if (event.name !== 'JobFunded' || typeof event.args.jobId !== 'string') return event
  return { ...event, args: { ...event.args, jobIdHex: event.args.jobId } }
}
