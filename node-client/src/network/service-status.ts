/**
 * One row of the status table `npm start` prints: a service of the local network, its state,
 * where to reach it and where its output goes.
 */
export interface ServiceStatus {
  /** 'database', 'gateway', 'chain', 'coordinator', 'worker cli-1', 'web', 'visualizer'. */
  name: string
  state: ServiceState
  /** Where a person or a client reaches it (null: nothing to reach, e.g. a worker). */
  url: string | null
  /** One line: what it is, or why it is skipped or failed. */
  notes: string
  /** Absolute path of its log file (stdout and stderr); null when it runs inside the launcher. */
  log: string | null
  /** Milliseconds from the launch to ready (null until then, or when skipped). */
  readyMs: number | null
  /** Its process (the leader of its process group); null when it runs inside the launcher. */
  pid: number | null
}

/**
 * starting → ready, then exited if it stops on its own, stopped after Ctrl-C; skipped: not run
 * (--no-web, not built yet, …); failed: it did not come up.
 */
export type ServiceState = 'starting' | 'ready' | 'skipped' | 'failed' | 'exited' | 'stopped'

/** A service that did not come up: which, why, and the end of its log. */
export class ServiceStartError extends Error {
  constructor(
    readonly service: string,
    message: string,
    readonly log: string | null = null,
    readonly logTail = '',
    readonly hint?: string,
  ) {
    super(message)
    this.name = 'ServiceStartError'
  }
}
