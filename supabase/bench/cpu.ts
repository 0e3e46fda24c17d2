import { readdirSync, readFileSync } from 'node:fs'
import type { Database } from '../src/db/database.ts'

/** CPU time used so far (ms): this Node process, and every process of the PostgreSQL cluster. */
export interface CpuSample {
  node_ms: number
  postgres_ms: number | null
}

export type CpuMeter = () => CpuSample

// /proc/<pid>/stat counts in clock ticks: USER_HZ, 100 on every Linux that Node supports.
const TICK_MS = 10

/** ppid, utime + stime (ms) of a process; the fields after the parenthesised command name. */
function procStat(pid: number): { ppid: number; cpuMs: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return { ppid: Number(fields[1]), cpuMs: (Number(fields[11]) + Number(fields[12])) * TICK_MS }
  } catch {
    return undefined
  }
}

function nodeCpuMs(): number {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

/**
 * CPU is the honest cost on a busy machine: wall-clock throughput moves with the neighbours,
 * CPU per cycle does not. The server's share is only readable when it runs here (the throwaway
 * cluster); otherwise `postgres_ms` is null. Processes that exit between two samples (a closed
 * pool's backends) drop out of the sum, so sample only while a level's pool is open.
 */
export async function cpuMeter(db: Database, serverIsLocal: boolean): Promise<CpuMeter> {
  let postmaster: number | undefined
  if (serverIsLocal && db.kind === 'postgres') {
    const { rows } = await db.query<{ pid: number }>('select pg_backend_pid() as pid')
    postmaster = procStat(rows[0]!.pid)?.ppid
  }
  const postgresCpuMs = (): number | null => {
    if (postmaster === undefined) return null
    let total = procStat(postmaster)?.cpuMs ?? 0
    for (const entry of readdirSync('/proc')) {
      const pid = Number(entry)
      if (!Number.isInteger(pid)) continue
      const stat = procStat(pid)
      if (stat?.ppid === postmaster) total += stat.cpuMs
    }
    return total
  }
  return () => ({ node_ms: nodeCpuMs(), postgres_ms: postgresCpuMs() })
}
