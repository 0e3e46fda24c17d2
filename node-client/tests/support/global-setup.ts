import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { TestProject } from 'vitest/node'
import { dumpPglite, openPglite } from '../../../supabase/src/db/pglite.ts'
import { prepareDatabase } from '../../../supabase/src/migrate/prepare.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplatePath: string
  }
}

/**
 * One migrated PGlite template per run (bootstrap, migrations and seed, as `npm start` prepares
 * a database), which supabase's startTestGateway('pglite') reloads for each test file.
 * The CLI tests need no PostgreSQL server.
 */
export default async function setup(project: TestProject) {
  const lite = await openPglite()
  await prepareDatabase(lite)
  const dumpDir = await mkdtemp(path.join(os.tmpdir(), 'oblivion-cli-pglite-'))
  const dumpPath = path.join(dumpDir, 'template.tar')
  await writeFile(dumpPath, Buffer.from(await (await dumpPglite(lite)).arrayBuffer()))
  await lite.close()
  project.provide('pgliteTemplatePath', dumpPath)
  return async () => {
    await rm(dumpDir, { recursive: true, force: true })
  }
}
