/**
 * `--json` output (also what a non-TTY stdout gets): one JSON object per line, each with `ts`
 * (ISO time) and `type`, so that `jq`, log shippers and tests read it without parsing prose.
 */
export interface JsonLog {
  write(type: string, fields?: object): void
}

export function jsonLog(stream: NodeJS.WritableStream = process.stdout): JsonLog {
  return {
    write(type, fields = {}) {
      stream.write(`${JSON.stringify({ ts: new Date().toISOString(), type, ...fields })}\n`)
    },
  }
}

export interface ProgressThrottle {
  /** Whether this progress report should be written. */
  allow(key: string, stage: string, fraction: number): boolean
  /** The key is done (task finished): drop what was remembered about it. */
  forget(key: string): void
}

/**
 * Lets a progress line through at most once per `intervalMs` per key, and always when its stage
 * changes or it reaches the end: a training step reports tens of times a second, which nobody
 * reads and which would make the log of a long run mostly progress lines.
 */
export function progressThrottle(intervalMs = 1_000): ProgressThrottle {
  const last = new Map<string, { at: number; stage: string }>()
  return {
    allow(key, stage, fraction) {
      const now = Date.now()
      const previous = last.get(key)
      if (previous && previous.stage === stage && fraction < 1 && now - previous.at < intervalMs) return false
      last.set(key, { at: now, stage })
      return true
    },
    forget(key) {
      last.delete(key)
    },
  }
}
