import type { Log, Provider } from 'ethers'
import { MAX_LOG_RANGE } from './settlement-events.ts'

/**
 * The latest log of `address` with these topics that `matches`, searched backwards from the head
 * down to `fromBlock` in MAX_LOG_RANGE-block getLogs calls (public RPCs cap the range). How a
 * validator action that may already have been mined (a restart after broadcasting, a lost
 * receipt) is found before it is sent again.
 */
export async function findLatestLog(
  provider: Provider,
  address: string,
  topics: (string | null)[],
  fromBlock: number,
  matches: (log: Log) => boolean = () => true,
): Promise<Log | null> {
  const head = await provider.getBlockNumber()
  for (let end = head; end >= fromBlock; end -= MAX_LOG_RANGE) {
    const start = Math.max(fromBlock, end - MAX_LOG_RANGE + 1)
    const logs = await provider.getLogs({ address, topics, fromBlock: start, toBlock: end })
    for (const log of logs.reverse()) if (matches(log)) return log
  }
  return null
}
