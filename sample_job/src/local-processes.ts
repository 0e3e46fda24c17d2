import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const OBLIVION_BIN = path.join(REPO_ROOT, 'node-client/bin/oblivion.mjs')
export const START_SCRIPT = path.join(REPO_ROOT, 'supabase/src/cli/start.ts')

export type JsonLine = Record<string, unknown> & { type?: string }

/** A child process of the local network whose stdout is JSON lines. */
export interface NetworkProcess {
  name: string
  child: ChildProcess
  /** Every line printed so far (a line that is not JSON becomes {type: 'text', text}). */
  lines: JsonLine[]
  /**
   * What it wrote to stderr, when started with captureStderr (else stderr is passed through,
   * prefixed); with logFile, its last 8 kB.
   */
  stderr(): string
  /** The exit code; null when it was killed by a signal (or could not be started). */
  exited: Promise<number | null>
  /** Resolves with the first JSON line that matches (already printed or to come). */
  waitFor(match: (line: JsonLine) => boolean, timeoutMs?: number): Promise<JsonLine>
  /** SIGINT (drain/stop), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>
  /** Sends a signal now (to its whole process group with ownProcessGroup); false if nothing was there to get it. */
  signal(signal: NodeJS.Signals): boolean
}

export interface ProcessOptions {
  /** Called with each JSON line as it is printed. */
  echo?: (name: string, line: JsonLine) => void
  env?: NodeJS.ProcessEnv
  /** Keep stderr for stderr() instead of passing it through to ours. */
  captureStderr?: boolean
  /**
   * Append everything it prints, stdout and stderr, to this file (created if missing). Its
   * stderr is then not passed through: stderr() keeps the last 8 kB for error messages.
   */
  logFile?: string
  /**
   * Run it in a process group of its own (its children too: npm → sh → next, start.ts → anvil).
   * A Ctrl-C in our terminal then reaches only us, so we choose the order things stop in, and
   * signal() and stop() reach the whole group, leaving no grandchild behind.
   */
  ownProcessGroup?: boolean
  /**
   * Keep only the last N lines in `lines` (default: all). A long-running worker prints a line
   * per task and progress report: unbounded, that is memory that grows for as long as it runs.
   */
  keepLines?: number
}

/** How much of stderr a process with a log file keeps in memory, for error messages. */
const STDERR_TAIL_BYTES = 8 * 1024

/** Starts a process whose stdout is JSON lines (see NetworkProcess). */
export function startJsonProcess(name: string, command: string, args: string[], options: ProcessOptions = {}): NetworkProcess {
  const { echo } = options
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: options.env ?? { ...process.env },
    detached: options.ownProcessGroup === true,
  })
  const log = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined
  log?.on('error', () => {}) // a log that cannot be written must not take the process down with it
  let stderr = ''
  const lines: JsonLine[] = []
  const waiters = new Set<() => void>()
  let buffered = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    log?.write(chunk)
    buffered += chunk
    let newline
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const text = buffered.slice(0, newline).trim()
      buffered = buffered.slice(newline + 1)
      if (!text) continue
      let line: JsonLine
      try {
        line = JSON.parse(text) as JsonLine
      } catch {
        line = { type: 'text', text }
      }
      lines.push(line)
      if (options.keepLines !== undefined && lines.length > options.keepLines) lines.splice(0, lines.length - options.keepLines)
      echo?.(name, line)
      for (const waiter of [...waiters]) waiter()
    }
  })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    if (log) {
      log.write(chunk)
      stderr = (stderr + chunk).slice(-STDERR_TAIL_BYTES)
    } else if (options.captureStderr) stderr += chunk
    else for (const text of chunk.split('\n')) if (text.trim()) process.stderr.write(`[${name}] ${text}\n`)
  })
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => resolve(code))
    // spawn failed (ENOENT, EACCES): there is no process, and 'exit' never comes.
    child.on('error', (error) => {
      stderr += `${error.message}\n`
      log?.write(`${error.message}\n`)
      resolve(null)
    })
  })
  // The streams close after 'exit' once the last output is read: end the log after that.
  child.on('close', () => log?.end())
  const signal = (sig: NodeJS.Signals): boolean => {
    if (child.pid === undefined) return false
    try {
      if (options.ownProcessGroup) process.kill(-child.pid, sig)
      else if (child.exitCode === null && child.signalCode === null) child.kill(sig)
      else return false
      return true
    } catch {
      return false // ESRCH: nothing left in the group
    }
  }
  return {
    name,
    child,
    lines,
    stderr: () => stderr,
    exited,
    waitFor(match, timeoutMs = 120_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find(match)
          if (!found) return false
          waiters.delete(check)
          clearTimeout(timer)
          resolve(found)
          return true
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          const last = lines.slice(-5).map((line) => JSON.stringify(line)).join('\n')
          reject(new Error(`${name}: nothing expected was printed within ${timeoutMs / 1000} s; last lines:\n${last}\n${stderr.slice(-1500)}`))
        }, timeoutMs)
        void exited.then((code) => {
          if (waiters.has(check)) {
            waiters.delete(check)
            clearTimeout(timer)
            reject(new Error(`${name} exited (code ${code}) before printing what was expected`))
          }
        })
        if (!check()) waiters.add(check)
      })
    },
    async stop(graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) {
        signal('SIGINT')
        const timer = setTimeout(() => signal('SIGKILL'), graceMs)
        await exited
        clearTimeout(timer)
      }
      // Whatever it started and left behind in its group (none, when it stopped cleanly).
      if (options.ownProcessGroup) signal('SIGKILL')
    },
    signal,
  }
}

/** `npm start` in a process of its own, on a free port, with its state in `home`. */
export async function startNetwork(home: string): Promise<{ url: string; process: NetworkProcess }> {
  // The chain is not used by training yet; --no-chain keeps these runs off port 8545.
  const proc = startJsonProcess('network', process.execPath, ['--import', 'tsx', START_SCRIPT, '--home', home, '--port', '0', '--no-chain', '--json'])
  const ready = await proc.waitFor((line) => typeof line.url === 'string', 180_000)
  return { url: String(ready.url), process: proc }
}

/** `oblivion <args>` against the network at `url` with state in `home`, JSON output. */
export function startOblivion(name: string, args: string[], network: { url: string; home: string }, options: ProcessOptions = {}): NetworkProcess {
  return startJsonProcess(name, process.execPath, [OBLIVION_BIN, ...args, '--url', network.url, '--home', network.home, '--json'], options)
}

/** Runs `oblivion <args>` to the end and returns its JSON lines (throws on a non-zero exit). */
export async function runOblivion(args: string[], network: { url: string; home: string }): Promise<JsonLine[]> {
  const proc = startOblivion(`oblivion ${args[0]} ${args[1] ?? ''}`.trim(), args, network)
  const code = await proc.exited
  if (code !== 0) throw new Error(`oblivion ${args.join(' ')} exited with code ${code}: ${JSON.stringify(proc.lines.slice(-3))}`)
  return proc.lines
}
