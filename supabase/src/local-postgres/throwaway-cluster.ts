import { execFile } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface PostgresServer {
  /** Superuser connection string (trust auth on loopback). */
  url: string
  /** true when we started it and `stop()` removes it; false for a DATABASE_URL server. */
  owned: boolean
  stop(): Promise<void>
}

/** The newest Debian PostgreSQL server binaries (`/usr/lib/postgresql/<major>/bin`). */
function findPostgresBinaries(): string {
  const root = '/usr/lib/postgresql'
  const majors = existsSync(root)
    ? readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a))
    : []
  if (majors.length === 0) {
    throw new Error(
      'No PostgreSQL server found (looked for /usr/lib/postgresql/*/bin/initdb). ' +
        'Install it with `apt-get install -y postgresql`, or set DATABASE_URL to a server where you may create databases.',
    )
  }
  return path.join(root, majors[0]!, 'bin')
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

/**
 * Starts a private PostgreSQL cluster in a temp folder: loopback only, trust auth, and durability
 * off (fsync, synchronous_commit, full_page_writes) because it is thrown away afterwards — on
 * this disk fsync limits autocommit writes to ~200/s. Never use these settings for real data.
 * initdb refuses to run as root, so as root the binaries run as the `postgres` user.
 */
export async function startThrowawayCluster(): Promise<PostgresServer> {
  const bin = findPostgresBinaries()
  const dir = await mkdtemp(path.join(os.tmpdir(), 'oblivion-pg-'))
  const dataDir = path.join(dir, 'data')
  const logFile = path.join(dir, 'postgres.log')
  const asRoot = process.getuid?.() === 0
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres'])
    const { stdout: gid } = await run('id', ['-g', 'postgres'])
    await chown(dir, Number(stdout.trim()), Number(gid.trim()))
  }
  const pg = (tool: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args]) : run(path.join(bin, tool), args)

  await pg('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'])
  const port = await freePort()
  const options = [
    `-p ${port}`, `-k ${dir}`, '-c listen_addresses=127.0.0.1', '-c fsync=off', '-c synchronous_commit=off',
    '-c full_page_writes=off', '-c max_connections=200', '-c shared_buffers=256MB',
  ].join(' ')
  try {
    await pg('pg_ctl', ['-D', dataDir, '-o', options, '-l', logFile, '-w', '-t', '60', 'start'])
  } catch (error) {
    const log = await readFile(logFile, 'utf8').catch(() => '')
    throw new Error(`Could not start a throwaway PostgreSQL in ${dir}: ${(error as Error).message}\n${log}`, { cause: error })
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    owned: true,
    async stop() {
      await pg('pg_ctl', ['-D', dataDir, '-m', 'immediate', 'stop']).catch(() => {})
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** DATABASE_URL when set (left running), else a throwaway cluster of Debian's PostgreSQL. */
export async function resolvePostgresServer(): Promise<PostgresServer> {
  const url = process.env.DATABASE_URL
  if (url) return { url, owned: false, stop: async () => {} }
  return startThrowawayCluster()
}

/** The same server, another database name. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url)
  u.pathname = `/${database}`
  return u.toString()
}
