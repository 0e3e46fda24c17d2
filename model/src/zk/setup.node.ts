// Node-only: the per-model phase 2 of the Groth16 trusted setup, in steps that can run on
// different machines (each reads one zkey file and writes the next):
//   1. newZkey       the model owner: r1cs + the project's powers of tau → zkey0 (no secret yet)
//   2. contribute    the network's coordinator: fresh entropy from its CSPRNG, never stored
//   3. applyBeacon   anyone: a public random beacon (e.g. a block hash fixed AFTER step 2)
//   4. verifySetup   anyone: the final zkey follows from r1cs + ptau through the listed steps
//
// Trust (shared/notes/zk.md pitfall 7): whoever knows the whole toxic waste δ can forge proofs
// for ANY public signals, and the owner is the prover. δ is the product of every contribution's
// secret, so the owner alone cannot forge as long as the coordinator's entropy is unknown to
// them, or the beacon was unpredictable when the last secret contribution was made (the beacon
// then stops the last contributor choosing δ adaptively). Hence: the coordinator, not the owner,
// contributes; the beacon is a value nobody knew before step 2 finished (a future block's hash);
// verifySetup re-derives zkey0 from public files, so a verifier needs nobody's word. Phase 1
// (the ptau) is the project's own file (model/zk/scripts/generate-ptau.ts): production should
// start from a public ceremony's file.
import { randomBytes } from 'node:crypto'
import { rm, stat } from 'node:fs/promises'
// @ts-expect-error snarkjs ships no types
import * as snarkjs from 'snarkjs'

export interface SetupContribution {
  /** Who contributed, recorded in the zkey and the transcript (e.g. `oblivion coordinator`). */
  name: string
  /** Default: 64 bytes from crypto.randomBytes. Never written anywhere; pass one only for tests. */
  entropy?: string
}

export interface SetupBeacon {
  /** 64 hex digits (32 bytes), e.g. a block hash without 0x, that nobody could know before the contribution. */
  hash: string
  name?: string
  /** snarkjs hashes the beacon 2^numIterationsExp times (a delay); default 10. */
  numIterationsExp?: number
}

/** One contribution as snarkjs' verification reads it back from the final zkey. */
export interface VerifiedContribution {
  name: string
  /** 64-byte blake2b contribution hash, hex (snarkjs prints the same). */
  contributionHash: string
  /** Set for the beacon. */
  beacon?: { hash: string; numIterationsExp: number }
}

export interface SetupTranscript {
  ptauFile: string
  ptauBytes: number
  constraints?: number
  /** In the order applied; the last is the beacon. */
  contributions: Array<{ name: string; contributionHash: string; ms: number; beacon?: { hash: string; numIterationsExp: number } }>
  verification: { ok: boolean; circuitHash: string; contributions: VerifiedContribution[]; ms: number }
  timings: { newZkeyMs: number; contributeMs: number; beaconMs: number; verifyMs: number; exportVkMs: number; totalMs: number }
}

/** A Groth16 verification key as snarkjs exports it (JSON; numbers as decimal strings). */
export type VerificationKey = Record<string, unknown> & { protocol: 'groth16'; curve: string; nPublic: number }

export class SetupError extends Error {
  override readonly name = 'SetupError'
}

/** Step 1 (model owner): the initial zkey from the circuit and the powers of tau. */
export async function newZkey(r1csFile: string, ptauFile: string, zkeyOut: string): Promise<{ circuitHash: string; ms: number }> {
  const logger = captureLogger()
  const started = performance.now()
  const result = (await snarkjs.zKey.newZKey(r1csFile, ptauFile, zkeyOut, logger)) as Uint8Array | number
  if (!(result instanceof Uint8Array)) {
    throw new SetupError(
      `snarkjs could not make a zkey from ${r1csFile} and ${ptauFile}: ${logger.errors.join('; ') || 'no reason given'}. ` +
        'A circuit too big for the ptau needs a larger powers-of-tau file (2^14 holds ~16k constraints), or fewer inputs or hidden units.',
    )
  }
  return { circuitHash: toHex(result), ms: performance.now() - started }
}

/** Step 2 (coordinator): a secret contribution; the entropy is used once and dropped. */
export async function contribute(zkeyIn: string, zkeyOut: string, contribution: SetupContribution): Promise<{ name: string; contributionHash: string; ms: number }> {
  if (!contribution.name.trim()) throw new SetupError('a contribution needs a name (it is recorded in the zkey for verifiers)')
  const logger = captureLogger()
  const started = performance.now()
  const hash = (await snarkjs.zKey.contribute(zkeyIn, zkeyOut, contribution.name, contribution.entropy ?? randomBytes(64).toString('hex'), logger)) as
    | Uint8Array
    | undefined
  if (!(hash instanceof Uint8Array)) throw new SetupError(`contributing to ${zkeyIn} failed: ${logger.errors.join('; ') || 'no reason given'}`)
  return { name: contribution.name, contributionHash: toHex(hash), ms: performance.now() - started }
}

/** Step 3 (anyone, last): the public beacon; redoable by anyone who has the previous zkey. */
export async function applyBeacon(
  zkeyIn: string,
  zkeyOut: string,
  beacon: SetupBeacon,
): Promise<{ name: string; contributionHash: string; ms: number; beacon: { hash: string; numIterationsExp: number } }> {
  const hash = beacon.hash.replace(/^0x/i, '').toLowerCase()
  if (!/^[0-9a-f]{64}$/.test(hash)) throw new SetupError(`the beacon must be 32 bytes as 64 hex digits (e.g. a block hash), got ${beacon.hash}`)
  const numIterationsExp = beacon.numIterationsExp ?? 10
  const name = beacon.name ?? 'public beacon'
  const logger = captureLogger()
  const started = performance.now()
  const result = (await snarkjs.zKey.beacon(zkeyIn, zkeyOut, name, hash, numIterationsExp, logger)) as Uint8Array | false
  if (!(result instanceof Uint8Array)) throw new SetupError(`applying the beacon to ${zkeyIn} failed: ${logger.errors.join('; ') || 'no reason given'}`)
  return { name, contributionHash: toHex(result), ms: performance.now() - started, beacon: { hash, numIterationsExp } }
}

/**
 * Step 4 (anyone): snarkjs re-derives zkey0 from the r1cs and ptau and checks every contribution
 * of the zkey on top of it. Returns the contributions as the zkey records them (parsed from
 * snarkjs' report, which is the only place its API exposes them).
 */
export async function verifySetup(r1csFile: string, ptauFile: string, zkeyFile: string): Promise<SetupTranscript['verification']> {
  const logger = captureLogger()
  const started = performance.now()
  const ok = (await snarkjs.zKey.verifyFromR1cs(r1csFile, ptauFile, zkeyFile, logger)) === true
  const ms = performance.now() - started
  const { circuitHash, contributions } = parseVerificationReport(logger.infos)
  return { ok, circuitHash, contributions, ms }
}

export async function exportVerificationKey(zkeyFile: string): Promise<VerificationKey> {
  return (await snarkjs.zKey.exportVerificationKey(zkeyFile)) as VerificationKey
}

export interface ModelSetupOptions {
  r1csFile: string
  ptauFile: string
  /** Where the final zkey goes; the intermediates `<zkey>.0` and `<zkey>.1` are written next to it and removed. */
  zkeyFile: string
  contribution: SetupContribution
  beacon: SetupBeacon
  constraints?: number
}

/** All four steps on one machine (tests, benches, a single-operator network); throws if verification fails. */
export async function runModelSetup(options: ModelSetupOptions): Promise<{ zkeyFile: string; verificationKey: VerificationKey; transcript: SetupTranscript }> {
  const { r1csFile, ptauFile, zkeyFile } = options
  const started = performance.now()
  const initial = `${zkeyFile}.0`
  const contributed = `${zkeyFile}.1`
  const created = await newZkey(r1csFile, ptauFile, initial)
  const contribution = await contribute(initial, contributed, options.contribution)
  const beacon = await applyBeacon(contributed, zkeyFile, options.beacon)
  const verification = await verifySetup(r1csFile, ptauFile, zkeyFile)
  if (!verification.ok) throw new SetupError(`the final zkey ${zkeyFile} does not verify against ${r1csFile} and ${ptauFile}: rerun the setup`)
  const vkStarted = performance.now()
  const verificationKey = await exportVerificationKey(zkeyFile)
  const exportVkMs = performance.now() - vkStarted
  await Promise.all([initial, contributed].map((file) => rm(file, { force: true })))
  const transcript: SetupTranscript = {
    ptauFile: ptauFile.split(/[\\/]/).pop()!,
    ptauBytes: (await stat(ptauFile)).size,
    ...(options.constraints === undefined ? {} : { constraints: options.constraints }),
    contributions: [contribution, beacon],
    verification,
    timings: {
      newZkeyMs: created.ms,
      contributeMs: contribution.ms,
      beaconMs: beacon.ms,
      verifyMs: verification.ms,
      exportVkMs,
      totalMs: performance.now() - started,
    },
  }
  return { zkeyFile, verificationKey, transcript }
}

interface CapturingLogger {
  infos: string[]
  errors: string[]
  info(message: string): void
  debug(): void
  warn(message: string): void
  error(message: string): void
}

function captureLogger(): CapturingLogger {
  const infos: string[] = []
  const errors: string[] = []
  return {
    infos,
    errors,
    info: (message) => void infos.push(String(message)),
    debug: () => {},
    warn: (message) => void errors.push(String(message)),
    error: (message) => void errors.push(String(message)),
  }
}

/**
 * snarkjs' verifyFromInit reports, in order: "Circuit Hash:\n<hash>", then per contribution
 * "contribution #i <name>:\n<hash>" (last contribution first) and for a beacon
 * "Beacon generator: <hex>" and "Beacon iterations Exp: <n>". A hash is 4 lines of 4 hex words.
 * Returned in the order applied.
 */
function parseVerificationReport(infos: string[]): { circuitHash: string; contributions: VerifiedContribution[] } {
  let circuitHash = ''
  const contributions: Array<VerifiedContribution & { index: number }> = []
  const hashOf = (message: string) => message.split('\n').slice(1).join('').replace(/\s+/g, '')
  for (const message of infos) {
    const contribution = /^contribution #(\d+) ?(.*):\n/.exec(message)
    if (message.startsWith('Circuit Hash:')) circuitHash = hashOf(message)
    else if (contribution) contributions.push({ index: Number(contribution[1]), name: contribution[2]!.trim(), contributionHash: hashOf(message) })
    else if (message.startsWith('Beacon generator: ')) {
      const last = contributions[contributions.length - 1]
      if (last) last.beacon = { hash: message.slice('Beacon generator: '.length).trim(), numIterationsExp: NaN }
    } else if (message.startsWith('Beacon iterations Exp: ')) {
      const last = contributions[contributions.length - 1]
      if (last?.beacon) last.beacon.numIterationsExp = Number(message.slice('Beacon iterations Exp: '.length))
    }
  }
  return { circuitHash, contributions: contributions.sort((a, b) => a.index - b.index).map(({ index: _, ...contribution }) => contribution) }
}

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}
