import { HDNodeWallet } from 'ethers'

/**
 * Anvil's (and Hardhat's) default mnemonic. Its keys are public knowledge: they are for the local
 * chain only, and anything they hold on a real network gets swept within seconds.
 */
export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk'

export interface DevAccount {
  address: string
  privateKey: string
}

let derived: DevAccount[] = []

/**
 * The first `count` accounts anvil funds (BIP-44 path m/44'/60'/0'/0/i of ANVIL_MNEMONIC).
 * The seed is computed once per process (PBKDF2, ~5 ms) and the children are cached.
 */
export function devAccounts(count = 10): DevAccount[] {
  if (derived.length < count) {
    const parent = HDNodeWallet.fromPhrase(ANVIL_MNEMONIC, undefined, "m/44'/60'/0'/0")
    derived = Array.from({ length: count }, (_, i) => {
      const child = parent.deriveChild(i)
      return { address: child.address, privateKey: child.privateKey }
    })
  }
  return derived.slice(0, count)
}
