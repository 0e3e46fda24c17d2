import { spawn } from 'node:child_process'
import { access } from 'node:fs/promises'
import path from 'node:path'
import { REPO_ROOT } from '../../sample_job/src/local-processes.ts'

/**
 * `npm run bench:web` — runs each benchmark of the local network's apps that exists, one after
 * another (they share two cores: side by side they would measure each other), and prints one
 * JSON object: each script's JSON object (the last one it prints, one line or pretty-printed)
 * under the script's key. A script that fails is reported under "errors" and makes the run
 * exit 1; the others still run. To add one, add it here.
 */
const BENCHES = [
  { key: 'startup', script: 'node-client/bench/ready.ts' }, // npm start: time to every service ready, web build time
  { key: 'browserWorker', script: 'web/bench/browser-worker.ts' }, // the browser worker's training samples/s
  { key: 'visualizer', script: 'visualizer/bench/fps.ts' }, // the visualizer's frames per second under load
]

const exists = (file: string) => access(file).then(() => true, () => false)

async function main(): Promise<number> {
  const merged: Record<string, unknown> = {}
  const errors: Record<string, string> = {}
  for (const { key, script } of BENCHES) {
    const file = path.join(REPO_ROOT, script)
    if (!(await exists(file))) continue
    const { code, stdout, stderr } = await run(file)
    const result = lastJsonObject(stdout)
    if (code !== 0 || !result) {
      errors[key] = `${script} exited ${code}${result ? '' : ' without a JSON object'}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`
      continue
    }
    merged[key] = result
  }
  console.log(JSON.stringify(Object.keys(errors).length > 0 ? { ...merged, errors } : merged))
  return Object.keys(errors).length > 0 ? 1 : 0
}

function run(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  // Progress goes to our stderr as it comes (a bench runs for minutes).
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-8_000)
    process.stderr.write(chunk)
  })
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
}

/** The last JSON object in a script's output: a line of its own, or pretty-printed over several. */
function lastJsonObject(stdout: string): Record<string, unknown> | null {
  const text = stdout.trimEnd()
  for (let start = text.lastIndexOf('{'); start >= 0; start = text.lastIndexOf('{', start - 1)) {
    if (start > 0 && text[start - 1] !== '\n') continue
    try {
      const value = JSON.parse(text.slice(start)) as unknown
      if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>
    } catch {
      // not the start of the last object: look further back
    }
  }
  return null
}

main().then((code) => process.exit(code))
