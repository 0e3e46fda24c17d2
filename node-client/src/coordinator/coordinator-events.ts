/** What the coordinator reports; the CLI renders these (TTY lines or `--json`). */
export type CoordinatorEvent =
  | { type: 'job-started'; jobId: string; rounds: number; shards: number; noiseMultiplier: number | null; markStartedTx?: string | null }
  | { type: 'round-started'; jobId: string; round: number; tasks: number }
  | { type: 'result-rejected'; jobId: string; taskId: number; reason: string }
  | { type: 'round-aggregated'; jobId: string; round: number; testAccuracy: number; testLoss: number; epsilon: number | null; shardsUsed: number }
  | { type: 'job-completed'; jobId: string; modelId: string; testAccuracy: number; epsilon: number | null }
  | { type: 'job-failed'; jobId: string; reason: string }
  | { type: 'chain-events'; count: number; lastBlock: number }
  | { type: 'job-settled'; jobId: string; txHash: string | null; payouts: number; totalWei: string; remainderWei: string }
  | { type: 'worker-slashed'; jobId: string; address: string; amountWei: string; txHash: string }
  | { type: 'zk-setup-contributed'; setupId: string; modelId: string; contributionHash: string; beaconBlock: number; ms: number }
  | { type: 'zk-setup-failed'; setupId: string; modelId: string; reason: string }
  | { type: 'warning'; message: string }

export interface CoordinatorHandle {
  /** Finish the step in progress, then stop. */
  stop(): Promise<void>
  done: Promise<void>
}
