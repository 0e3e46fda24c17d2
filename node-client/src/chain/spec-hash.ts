import { sha256, toUtf8Bytes } from 'ethers'
// The file, not the package index: the index loads TF.js, which `job create` does not need.
import { contentId } from '../../../model/src/codec/content-id.ts'
import { canonicalJson } from './canonical-json.ts'

/**
 * The job spec's content id: CIDv1 of its canonical JSON (sorted keys, no whitespace) in UTF-8.
 * Computed from the spec as the database returns it (create_job's row, or a read of jobs.spec),
 * so the creator and the coordinator hash the same values whatever key order the file had.
 */
export async function specCid(spec: unknown): Promise<string> {
  return contentId(toUtf8Bytes(canonicalJson(spec)))
}

/** createJob's specHash: sha-256 of the spec CID's UTF-8 bytes, which binds the escrow to one spec. */
export async function specHash(spec: unknown): Promise<string> {
  return sha256(toUtf8Bytes(await specCid(spec)))
}
