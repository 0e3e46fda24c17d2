import path from 'node:path'

/**
 * The project's own powers-of-tau file (2^14 constraints), made once by
 * model/zk/scripts/generate-ptau.ts and committed. Every per-model phase-2 setup starts from it.
 * Never regenerate it casually: `prepare phase2` alone takes 10–18 min on 2 cores.
 */
export const DEFAULT_PTAU_FILE = path.resolve(import.meta.dirname, '../../zk/ptau/oblivion_14.ptau')
export const DEFAULT_PTAU_POWER = 14
