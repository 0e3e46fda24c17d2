/**
 * On chain, a job is named by its uuid right-aligned in 32 bytes: `bytes32(uint256(uint128(uuid)))`,
 * i.e. "0x" + 32 zero digits + the uuid's 32 hex digits. Right-aligned so that the id reads as the
 * uuid's number and survives a round trip through uint256 tooling.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const JOB_ID = /^0x0{32}([0-9a-f]{32})$/i

export function jobIdFromUuid(uuid: string): string {
  if (!UUID.test(uuid)) throw new TypeError(`not a uuid: ${JSON.stringify(uuid)}`)
  return `0x${'0'.repeat(32)}${uuid.replaceAll('-', '').toLowerCase()}`
}

export function uuidFromJobId(jobId: string): string {
  const hex = JOB_ID.exec(jobId)?.[1]?.toLowerCase()
  if (!hex) throw new TypeError(`not a job id (a uuid right-aligned in bytes32): ${JSON.stringify(jobId)}`)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
