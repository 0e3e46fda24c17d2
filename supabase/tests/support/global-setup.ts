import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { TestProject } from 'vitest/node'
import { dumpPglite, openPglite } from '../../src/db/pglite.ts'
import { openPostgres } from '../../src/db/postgres.ts'
import { resolvePostgresServer, withDatabase } from '../../src/local-postgres/throwaway-cluster.ts'
import { applyPlatformBootstrap, migrate } from '../../src/migrate/migrate.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    pgServerUrl: string
    pgTemplate: string
    pgliteTemplatePath: string
  }
}

/**
 * Builds two migrated templates once per run, as graphile-worker's tests do: a database on a
 * real PostgreSQL server (DATABASE_URL, else a throwaway cluster of Debian's postgresql) that
 * each test file copies with `create database … template`, and a PGlite data-dir dump that each
 * test file reloads (~0.7 s instead of a ~5 s cold start plus migrations).
 */
export default async function setup(project: TestProject) {
  const server = await resolvePostgresServer()
  const template = `oblivion_template_${process.pid}`
  const admin = await openPostgres(server.url, { max: 1 })
  await admin.exec(`drop database if exists ${template}`)
  await admin.exec(`create database ${template}`)
  const templateDb = await openPostgres(withDatabase(server.url, template), { max: 1 })
  await applyPlatformBootstrap(templateDb)
  await migrate(templateDb)
  await templateDb.close()

  const lite = await openPglite()
  await applyPlatformBootstrap(lite)
  await migrate(lite)
  const dumpDir = await mkdtemp(path.join(os.tmpdir(), 'oblivion-pglite-'))
  const dumpPath = path.join(dumpDir, 'template.tar')
  await writeFile(dumpPath, Buffer.from(await (await dumpPglite(lite)).arrayBuffer()))
  await lite.close()

  project.provide('pgServerUrl', server.url)
  project.provide('pgTemplate', template)
  project.provide('pgliteTemplatePath', dumpPath)

  return async () => {
    await admin.exec(`drop database if exists ${template}`).catch(() => {})
    await admin.close()
    await rm(dumpDir, { recursive: true, force: true })
    await server.stop()
  }
}
