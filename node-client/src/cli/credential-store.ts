import { chmod, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { NavigatorLockAcquireTimeoutError } from '@supabase/supabase-js'
import { CliError } from './cli-error.ts'

/**
 * Where a CLI identity lives between runs: `<home>/credentials/<profile>.json` (mode 0600), one
 * file per profile (a worker's name, or `cli` for the job commands). supabase-js keeps its
 * session (access + refresh token) there through `auth.storage`; losing the file means signing in
 * as a new anonymous user, who owns none of the old jobs or workers.
 */
export function credentialsFile(home: string, profile: string): string {
  return path.join(home, 'credentials', `${profile}.json`)
}

/** The shape supabase-js's `auth.storage` takes (its own type names the DOM's `Storage`). */
export interface SessionStorage {
  getItem(key: string): Promise<string | null>
  setItem(key: string, value: string): Promise<void>
  removeItem(key: string): Promise<void>
}

/**
 * A session store backed by one JSON file of key → value. Every read goes to the disk, never to
 * a cache: another process of the same profile may have rotated the refresh token meanwhile, and
 * the gateway revokes a session whose refresh token is used twice.
 */
export function fileSessionStorage(file: string): SessionStorage {
  const readAll = async (): Promise<Record<string, string>> => {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {}
      throw new CliError('CLI_CREDENTIALS', `could not read the stored session ${file}: ${(error as Error).message}`)
    }
    try {
      const parsed = JSON.parse(text) as unknown
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, string>
    } catch {
      // fall through to the error below
    }
    throw new CliError('CLI_CREDENTIALS', `the stored session ${file} is not a JSON object`, {
      hint: 'delete the file to sign in as a new anonymous identity (the old one keeps its jobs and workers, out of your reach)',
    })
  }
  const writeAll = async (entries: Record<string, string>): Promise<void> => {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 })
    // Written beside and renamed over: a reader never sees half a file.
    const temp = `${file}.${process.pid}.tmp`
    await writeFile(temp, `${JSON.stringify(entries, null, 2)}\n`, { mode: 0o600 })
    await chmod(temp, 0o600)
    await rename(temp, file)
  }
  return {
    async getItem(key) {
      return (await readAll())[key] ?? null
    },
    async setItem(key, value) {
      await writeAll({ ...(await readAll()), [key]: value })
    },
    async removeItem(key) {
      const entries = await readAll()
      if (!(key in entries)) return
      delete entries[key]
      await writeAll(entries)
    },
  }
}

/** supabase-js's `auth.lock`: `(name, acquireTimeout, fn)`; a negative timeout waits forever. */
export type AuthLock = <R>(name: string, acquireTimeout: number, fn: () => Promise<R>) => Promise<R>

/**
 * A lock that was not acquired in time. supabase-js recognises a timeout by `isAcquireTimeout`
 * and, in its refresh timer, by `instanceof` its own (abstract, unexported) base class, which
 * this exported subclass has: anything else thrown there is an unhandled rejection.
 */
class LockTimeoutError extends NavigatorLockAcquireTimeoutError {}

/**
 * A cross-process lock on `<file>.lock` for supabase-js's auth operations, so that two processes
 * of one profile (a `job status --watch` and a `job create`) never refresh the same token at once.
 * supabase-js's default, lockless coordination leaves such races to the server, but the gateway
 * accepts a refresh token once and revokes the whole session on reuse: the profile would lose its
 * identity, and with it its jobs.
 * A lock left by a process that died is taken over (its pid is gone, or it is older than 60 s).
 */
export function fileLock(lockFile: string): AuthLock {
  const staleAfterMs = 60_000
  const isStale = async (): Promise<boolean> => {
    try {
      const [text, info] = await Promise.all([readFile(lockFile, 'utf8'), stat(lockFile)])
      if (Date.now() - info.mtimeMs > staleAfterMs) return true
      const pid = Number(text.trim())
      if (!Number.isInteger(pid) || pid <= 0) return Date.now() - info.mtimeMs > 1_000
      try {
        process.kill(pid, 0)
        return false
      } catch (error) {
        return (error as NodeJS.ErrnoException).code === 'ESRCH'
      }
    } catch {
      return false // gone meanwhile: the next attempt takes it
    }
  }
  return async (name, acquireTimeout, fn) => {
    const deadline = acquireTimeout < 0 ? Number.POSITIVE_INFINITY : Date.now() + acquireTimeout
    await mkdir(path.dirname(lockFile), { recursive: true, mode: 0o700 })
    for (;;) {
      try {
        const handle = await open(lockFile, 'wx', 0o600)
        await handle.writeFile(String(process.pid))
        await handle.close()
        break
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      }
      if (await isStale()) {
        await rm(lockFile, { force: true })
        continue
      }
      if (Date.now() >= deadline) throw new LockTimeoutError(`could not take the session lock ${name} (${lockFile}) within ${acquireTimeout} ms`)
      await sleep(20 + Math.random() * 30)
    }
    try {
      return await fn()
    } finally {
      await rm(lockFile, { force: true })
    }
  }
}
