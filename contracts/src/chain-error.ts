/** Stable codes for the errors the local chain and the deploy command report to people. */
export type ChainErrorCode =
  | 'ANVIL_MISSING'
  | 'ANVIL_PORT_IN_USE'
  | 'ANVIL_BAD_STATE'
  | 'ANVIL_START_FAILED'
  | 'ARTIFACT_MISSING'
  | 'CHAIN_CONFIG_INVALID'
  | 'DEPLOY_BAD_OPTIONS'
  | 'DEPLOY_NO_KEY'
  | 'DEPLOY_BAD_KEYSTORE'
  | 'DEPLOY_RPC_UNREACHABLE'
  | 'DEPLOY_WRONG_CHAIN'
  | 'DEPLOY_INSUFFICIENT_FUNDS'
  | 'DEPLOY_FAILED'

/** An error a person can act on: `message` says what happened and what to do next. */
export class ChainError extends Error {
  override name = 'ChainError'
  constructor(
    readonly code: ChainErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}
