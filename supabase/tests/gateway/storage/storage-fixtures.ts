import { existsSync } from 'node:fs'
import path from 'node:path'
import type { TestGateway } from '../support/test-gateway.ts'

export const PRIVATE_BUCKET = 'private-files'
export const PUBLIC_BUCKET = 'public-files'

/**
 * A private bucket where each user owns the folder named by their id (the policies from
 * Supabase's storage docs), and a public bucket anyone may read. Created as the superuser,
 * the way a migration would.
 */
export async function createStorageFixture(gw: TestGateway): Promise<void> {
  await gw.db.exec(`
    insert into storage.buckets (id, name, public) values
      ('${PRIVATE_BUCKET}', '${PRIVATE_BUCKET}', false),
      ('${PUBLIC_BUCKET}', '${PUBLIC_BUCKET}', true);

    create policy "Users upload into their own folder" on storage.objects for insert to authenticated
      with check (bucket_id = '${PRIVATE_BUCKET}' and (storage.foldername(name))[1] = (select auth.uid())::text);
    create policy "Users read their own folder" on storage.objects for select to authenticated
      using (bucket_id = '${PRIVATE_BUCKET}' and (storage.foldername(name))[1] = (select auth.uid())::text);
    create policy "Users update their own folder" on storage.objects for update to authenticated
      using (bucket_id = '${PRIVATE_BUCKET}' and (storage.foldername(name))[1] = (select auth.uid())::text)
      with check (bucket_id = '${PRIVATE_BUCKET}' and (storage.foldername(name))[1] = (select auth.uid())::text);
    create policy "Users delete from their own folder" on storage.objects for delete to authenticated
      using (bucket_id = '${PRIVATE_BUCKET}' and (storage.foldername(name))[1] = (select auth.uid())::text);

    create policy "Anyone reads the public bucket" on storage.objects for select to anon, authenticated
      using (bucket_id = '${PUBLIC_BUCKET}');
    create policy "Users upload into the public bucket's own folder" on storage.objects for insert to authenticated
      with check (bucket_id = '${PUBLIC_BUCKET}' and (storage.foldername(name))[1] = (select auth.uid())::text);
  `)
}

/** The file holding an object's bytes, read from its row (undefined when there is no row). */
export async function objectFileOf(gw: TestGateway, bucket: string, name: string): Promise<string | undefined> {
  const { rows } = await gw.db.query<{ version: string }>(
    `select version from storage.objects where bucket_id = $1 and name = $2`,
    [bucket, name],
  )
  const version = rows[0]?.version
  return version ? path.join(gw.storageDir, 'objects', version.slice(0, 2), version) : undefined
}

export function fileExists(file: string | undefined): boolean {
  return file !== undefined && existsSync(file)
}

export async function blobBytes(blob: Blob | null): Promise<Buffer> {
  if (!blob) throw new Error('expected a downloaded Blob, got null')
  return Buffer.from(await blob.arrayBuffer())
}
