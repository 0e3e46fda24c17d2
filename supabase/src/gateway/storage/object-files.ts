import { randomUUID } from 'node:crypto'
import { mkdir, readdir, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import type { Database } from '../../db/database.ts'

const VERSION = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/**
 * Object bytes on local disk. Each write of an object gets a fresh version id (a uuid, kept in
 * `storage.objects.version`) and its bytes live at `objects/<first two chars>/<version>`: a file
 * name never comes from the object's name, so no name can reach outside the storage folder, and
 * an upsert never overwrites the bytes a concurrent download is streaming.
 *
 * Writes go to `tmp/` first and are renamed into place inside the row's transaction, just before
 * COMMIT; a failed transaction removes the renamed file. A crash between rename and COMMIT leaves
 * an unreferenced file, which `sweep()` removes at the next start.
 */
export class ObjectFiles {
  readonly objectsDir: string
  readonly tmpDir: string

  constructor(storageDir: string) {
    this.objectsDir = path.join(storageDir, 'objects')
    this.tmpDir = path.join(storageDir, 'tmp')
  }

  async prepare(): Promise<void> {
    // Leftover temp files belong to uploads cut off by a stop: nothing references them.
    await rm(this.tmpDir, { recursive: true, force: true })
    await mkdir(this.tmpDir, { recursive: true })
    await mkdir(this.objectsDir, { recursive: true })
  }

  newVersion(): string {
    return randomUUID()
  }

  tempPath(): string {
    return path.join(this.tmpDir, `${randomUUID()}.part`)
  }

  /** Where a version's bytes live; undefined for a version that is not one of ours. */
  pathOf(version: unknown): string | undefined {
    if (typeof version !== 'string' || !VERSION.test(version)) return undefined
    return path.join(this.objectsDir, version.slice(0, 2), version)
  }

  async place(tempPath: string, version: string): Promise<string> {
    const target = this.pathOf(version)!
    await mkdir(path.dirname(target), { recursive: true })
    await rename(tempPath, target)
    return target
  }

  async remove(versions: Iterable<unknown>): Promise<void> {
    for (const version of versions) {
      const file = this.pathOf(version)
      if (file) await rm(file, { force: true })
    }
  }

  /** Removes files no `storage.objects` row references (crash between rename and COMMIT). */
  async sweep(db: Database): Promise<number> {
    const { rows } = await db.query<{ version: string }>(
      `select o.version from storage.objects o where o.version is not null`,
    )
    const referenced = new Set(rows.map((row) => row.version))
    let removed = 0
    for (const shard of await readdir(this.objectsDir)) {
      for (const name of await readdir(path.join(this.objectsDir, shard))) {
        if (!referenced.has(name)) {
          await rm(path.join(this.objectsDir, shard, name), { force: true })
          removed++
        }
      }
    }
    return removed
  }
}
