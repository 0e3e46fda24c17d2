import type { CoordinatorEvent } from '../../coordinator/coordinator-events.ts'
import { clock, coins, count, epsilon, percent, shortId } from './format.ts'
import { jsonLog, type JsonLog } from './json-log.ts'

/** Turns the coordinator's events into output: a line each (terminal) or a JSON line each. */
export interface CoordinatorRenderer {
  onEvent(event: CoordinatorEvent): void
  notice(message: string): void
}

export function createCoordinatorRenderer(options: { json: boolean; stream?: NodeJS.WritableStream }): CoordinatorRenderer {
  const stream = options.stream ?? process.stdout
  return options.json ? coordinatorJsonLines(jsonLog(stream)) : coordinatorLines(stream)
}

export function coordinatorJsonLines(log: JsonLog): CoordinatorRenderer {
  return {
    onEvent(event) {
      const { type, ...fields } = event
      log.write(type, fields)
    },
    notice(message) {
      log.write('notice', { message })
    },
  }
}

/** The sentence for one event, without the time. */
export function describeCoordinatorEvent(event: CoordinatorEvent): string {
  switch (event.type) {
    case 'job-started':
      return `job ${shortId(event.jobId)} started: ${event.rounds} round(s) × ${count(event.shards)} shard(s)${
        event.noiseMultiplier === null ? ', no differential privacy' : `, noise σ ${event.noiseMultiplier}`
      }${event.markStartedTx ? `; escrow marked started (tx ${event.markStartedTx})` : ''}`
    case 'round-started':
      return `job ${shortId(event.jobId)} round ${event.round}: ${count(event.tasks)} task(s) queued`
    case 'result-rejected':
      return `job ${shortId(event.jobId)} task ${event.taskId}: result rejected (${event.reason})`
    case 'round-aggregated':
      return `job ${shortId(event.jobId)} round ${event.round} aggregated from ${count(event.shardsUsed)} shard(s): accuracy ${percent(
        event.testAccuracy,
      )}, loss ${event.testLoss.toFixed(4)}, ${epsilon(event.epsilon)}`
    case 'job-completed':
      return `job ${shortId(event.jobId)} completed: model ${event.modelId}, accuracy ${percent(event.testAccuracy)}, ${epsilon(event.epsilon)}`
    case 'job-failed':
      return `job ${shortId(event.jobId)} failed: ${event.reason}`
    case 'chain-events':
      return `chain: ${count(event.count)} new event(s) mirrored up to block ${event.lastBlock}`
    case 'job-settled':
      return `job ${shortId(event.jobId)} settled on chain: ${count(event.payouts)} payout(s), ${coins(BigInt(event.totalWei))} paid, ${coins(
        BigInt(event.remainderWei),
      )} back to the creator${event.txHash ? ` (tx ${event.txHash})` : ''}`
    case 'worker-slashed':
      return `worker ${event.address} slashed ${coins(BigInt(event.amountWei))} for job ${shortId(event.jobId)} (tx ${event.txHash})`
    case 'zk-setup-contributed':
      return `ZK setup ${shortId(event.setupId)} of model ${shortId(event.modelId)}: contributed and sealed with the hash of block ${event.beaconBlock} (${(event.ms / 1000).toFixed(1)} s)`
    case 'zk-setup-failed':
      return `ZK setup ${shortId(event.setupId)} of model ${shortId(event.modelId)} failed: ${event.reason}`
    case 'warning':
      return `warning: ${event.message}`
  }
}

export function coordinatorLines(stream: NodeJS.WritableStream): CoordinatorRenderer {
  const line = (text: string) => stream.write(`${clock()} ${text}\n`)
  return {
    onEvent(event) {
      line(describeCoordinatorEvent(event))
    },
    notice(message) {
      line(message)
    },
  }
}
