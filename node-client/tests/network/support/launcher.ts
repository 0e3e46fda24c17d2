import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { startJsonProcess, type JsonLine, type NetworkProcess } from '../../../../sample_job/src/local-processes.ts'
import { cliEnv, REPO_ROOT } from '../../support/run-cli.ts'

export const LAUNCHER = path.join(REPO_ROOT, 'node-client/src/network/start-network.ts')
export const DEMO = path.join(REPO_ROOT, 'node-client/src/network/demo.ts')

const started: NetworkProcess[] = []

/** `npm start -- <args>` (the launcher itself, as npm execs it), stdout as lines, stderr kept. */
export function startLauncher(args: string[]): NetworkProcess {
  const proc = startJsonProcess('npm start', process.execPath, ['--import', 'tsx', LAUNCHER, ...args], { env: cliEnv(), captureStderr: true })
  started.push(proc)
  return proc
}

/**
 * After each test: a launcher a failed assertion left running gets Ctrl-C (SIGINT), its orderly
 * stop (SIGKILL would skip it and orphan the network), and SIGKILL only if that hangs.
 */
export async function stopLaunchers(): Promise<void> {
  await Promise.all(started.splice(0).map((proc) => proc.stop(60_000)))
}

/** The status object `npm start -- --json` prints once every service is ready. */
export interface ReadyLine {
  type: 'ready'
  readyMs: number
  home: string
  logDir: string
  gateway: { url: string; anonKey: string }
  chain: { rpcUrl: string; chainId: number; settlement: string; challengeWindow: number } | null
  services: { name: string; state: string; url: string | null; notes: string; log: string | null; readyMs: number | null; pid: number | null }[]
}

export const readyLine = (line: JsonLine) => line.type === 'ready'

/** The process groups (by id) among `groups` that still have a process in them. */
export function liveProcessGroups(groups: number[]): number[] {
  const alive = new Set(
    execFileSync('ps', ['-eo', 'pgid='], { encoding: 'utf8' })
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter(Boolean),
  )
  return groups.filter((group) => alive.has(group))
}

/** Every child process group of a ready network (each service leads its own). */
export function serviceGroups(ready: ReadyLine, launcherPid: number): number[] {
  return [...new Set(ready.services.map((s) => s.pid).filter((pid): pid is number => pid !== null && pid !== launcherPid))]
}

/** The text printed so far (stdout lines; JSON lines as their JSON). */
export function printed(proc: NetworkProcess): string {
  return proc.lines.map((line) => (line.type === 'text' ? String(line.text) : JSON.stringify(line))).join('\n')
}
