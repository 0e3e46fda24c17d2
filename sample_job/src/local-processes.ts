import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const OBLIVION_BIN = path.join(REPO_ROOT, 'node-client/bin/oblivion.mjs')
const START_SCRIPT = path.join(REPO_ROOT, 'supabase/src/cli/start.ts')

export type JsonLine = Record<string, unknown> & { type?: string }

/** A child process of the local network whose stdout is JSON lines. */
export interface NetworkProcess {
  name: string
  child: ChildProcess
  exited: Promise<number | null>
  /** Resolves with the first JSON line that matches (already printed or to come). */
  waitFor(match: (line: JsonLine) => boolean, timeoutMs?: number): Promise<JsonLine>
  /** SIGINT (drain/stop), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>
}

/**
 * Starts a process whose stdout is JSON lines, echoing them (prefixed with `name`) through
 * `echo` when given; stderr goes to ours, prefixed.
 */
export function startJsonProcess(name: string, command: string, args: string[], echo?: (name: string, line: JsonLine) => void): NetworkProcess {
  const child = spawn(command, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } })
  const lines: JsonLine[] = []
  const waiters = new Set<() => void>()
  let buffered = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
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
      echo?.(name, line)
      for (const waiter of [...waiters]) waiter()
    }
  })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    for (const text of chunk.split('\n')) if (text.trim()) process.stderr.write(`[${name}] ${text}\n`)
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return {
    name,
    child,
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
          reject(new Error(`${name}: nothing expected was printed within ${timeoutMs / 1000} s`))
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
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGINT')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      await exited
      clearTimeout(timer)
    },
  }
}

/** `npm start` in a process of its own, on a free port, with its state in `home`. */
export async function startNetwork(home: string, echo?: (name: string, line: JsonLine) => void): Promise<{ url: string; process: NetworkProcess }> {
  const proc = startJsonProcess('network', process.execPath, ['--import', 'tsx', START_SCRIPT, '--home', home, '--port', '0', '--json'], echo)
  const ready = await proc.waitFor((line) => typeof line.url === 'string', 180_000)
  return { url: String(ready.url), process: proc }
}

/** `oblivion <args>` against the network at `url` with state in `home`, JSON output. */
export function startOblivion(name: string, args: string[], network: { url: string; home: string }, echo?: (name: string, line: JsonLine) => void): NetworkProcess {
  return startJsonProcess(name, process.execPath, [OBLIVION_BIN, ...args, '--url', network.url, '--home', network.home, '--json'], echo)
}

/** Runs `oblivion <args>` to the end and returns its JSON lines (throws on a non-zero exit). */
export async function runOblivion(args: string[], network: { url: string; home: string }): Promise<JsonLine[]> {
  const lines: JsonLine[] = []
  const proc = startOblivion(`oblivion ${args[0]} ${args[1] ?? ''}`.trim(), args, network, (_, line) => lines.push(line))
  const code = await proc.exited
  if (code !== 0) throw new Error(`oblivion ${args.join(' ')} exited with code ${code}: ${JSON.stringify(lines.slice(-3))}`)
  return lines
}
