import { readFile } from 'node:fs/promises'
import { Wallet, type BaseWallet } from 'ethers'
import { ChainError } from '../chain-error.ts'

export interface DeployerKeySource {
  /** An encrypted JSON keystore (geth / ethers / cast wallet format), decrypted with KEYSTORE_PASSWORD. */
  keystoreFile?: string
  /** Where DEPLOYER_PRIVATE_KEY and KEYSTORE_PASSWORD are read (default process.env). */
  env?: NodeJS.ProcessEnv
}

/**
 * The deployer's wallet from DEPLOYER_PRIVATE_KEY or an encrypted keystore, or null when neither
 * is given. Keys never come from command-line flags (they would land in shell history and `ps`),
 * and no error message here repeats a key or a password.
 */
export async function loadDeployerWallet(source: DeployerKeySource): Promise<BaseWallet | null> {
  const env = source.env ?? process.env
  const privateKey = env.DEPLOYER_PRIVATE_KEY?.trim()
  if (source.keystoreFile && privateKey) {
    throw new ChainError('DEPLOY_BAD_OPTIONS', 'both DEPLOYER_PRIVATE_KEY and --keystore are set: use one of them')
  }
  if (source.keystoreFile) {
    const password = env.KEYSTORE_PASSWORD
    if (password === undefined) {
      throw new ChainError('DEPLOY_NO_KEY', `set KEYSTORE_PASSWORD to decrypt ${source.keystoreFile}`)
    }
    let json: string
    try {
      json = await readFile(source.keystoreFile, 'utf8')
    } catch (error) {
      throw new ChainError('DEPLOY_BAD_KEYSTORE', `could not read the keystore ${source.keystoreFile} (${(error as NodeJS.ErrnoException).code})`)
    }
    try {
      return await Wallet.fromEncryptedJson(json, password)
    } catch {
      throw new ChainError('DEPLOY_BAD_KEYSTORE', `could not decrypt ${source.keystoreFile}: wrong KEYSTORE_PASSWORD, or not a JSON keystore`)
    }
  }
  if (privateKey) {
    try {
      return new Wallet(privateKey.startsWith('0x') ? privateKey : `0x${privateKey}`)
    } catch {
      throw new ChainError('DEPLOY_NO_KEY', 'DEPLOYER_PRIVATE_KEY is not a private key (64 hex digits, with or without 0x)')
    }
  }
  return null
}
