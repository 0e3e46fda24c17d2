import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import os from 'node:os'
import path from 'node:path'

export const REPO_ROOT = path.resolve(import.meta.dirname, '../../..')
export const BIN = path.join(REPO_ROOT, 'node-client/bin/oblivion.mjs')

/** A port that was free a moment ago (fetch refuses well-known ports such as 9 as "bad port"). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** Nothing listens there: a command that reached for the network would fail differently. */
export const DEAD_URL = `http://127.0.0.1:${await closedPort()}`

export interface CliRun {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * The environment a CLI under test gets: no inherited OBLIVION_* / SUPABASE_* settings (a
 * developer's shell must not change what a test sees), stdout a pipe (so: JSON lines).
 */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(OBLIVION_|SUPABASE_)/.test(key)) env[key] = value
  }
  return { ...env, ...extra }
}

export function startCli(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? REPO_ROOT, env: cliEnv(options.env) })
}

/** Runs `oblivion <args>` to the end. */
export function runCli(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<CliRun> {
  const child = startCli(args, options)
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** The JSON lines a command printed. */
export function jsonLines(text: string): Array<Record<string, unknown> & { type: string }> {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown> & { type: string })
}

/** A temporary folder, removed by the returned function. */
export async function tempDir(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix))
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) }
}

export async function writeJson(file: string, value: unknown): Promise<string> {
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`)
  return file
}

/** A valid job spec (v1), as in supabase/README.md; tests break one field at a time. */
export function validSpec(): Record<string, unknown> {
  return {
    version: 1,
    name: 'MNIST digits',
    dataset: { source: 'builtin', name: 'mnist' },
    model: { type: 'mlp', layers: [{ units: 128, activation: 'relu' }, { units: 10, activation: 'softmax' }] },
    training: { optimizer: 'sgd', learningRate: 0.1, batchSize: 64, localEpochs: 1, rounds: 2, shards: 3, testFraction: 0.1 },
    privacy: { clipNorm: 1, noiseMultiplier: 1.1, delta: 1e-5 },
  }
}
