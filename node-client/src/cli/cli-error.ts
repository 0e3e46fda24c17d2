/**
 * The exit codes every `oblivion` command keeps (listed in `oblivion --help`), and the one error
 * type commands throw for a problem a person can act on.
 */
export const EXIT = {
  ok: 0,
  /** Something went wrong: the network, the gateway, a refused call, a job that did not complete. */
  error: 1,
  /** The command line was wrong: unknown option, bad value, conflicting flags. */
  usage: 2,
  /** Stopped by the operator (a second Ctrl-C or SIGTERM). */
  interrupted: 130,
} as const

export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

/**
 * Stable codes for the CLI's own errors (database errors keep their SQLSTATE, e.g. OB003; a call
 * the settlement contract refuses keeps the contract's error name, e.g. InsufficientBond).
 * Scripts may match on them; the messages may change.
 */
export type CliErrorCode =
  | 'CLI_USAGE'
  | 'CLI_NO_ANON_KEY'
  | 'CLI_NO_SERVICE_KEY'
  | 'CLI_BAD_GATEWAY_FILE'
  | 'CLI_UNREACHABLE'
  | 'CLI_KEY_REFUSED'
  | 'CLI_SIGN_IN'
  | 'CLI_CREDENTIALS'
  | 'CLI_SPEC_FILE'
  | 'CLI_DATASET_FILE'
  | 'CLI_UPLOAD'
  | 'CLI_REQUEST'
  | 'CLI_NOT_FOUND'
  | 'CLI_NO_MODEL'
  | 'CLI_DOWNLOAD'
  | 'CLI_CID_MISMATCH'
  | 'CLI_OUTPUT'
  | 'CLI_NO_CHAIN'
  | 'CLI_NO_CONTRACT'
  | 'CLI_NO_WALLET'
  | 'CLI_BAD_KEYSTORE'
  | 'CLI_RPC_UNREACHABLE'
  | 'CLI_INSUFFICIENT_FUNDS'
  | 'CLI_REVERTED'
  | 'CLI_ALREADY_FUNDED'
  | 'CLI_JOB_STATE'
  | 'CLI_FUND_FAILED'
  | 'CLI_NO_IDENTITY'
  | 'CLI_CLAIM_FAILED'
  | 'OB003'

export class CliError extends Error {
  constructor(
    readonly code: CliErrorCode | (string & {}),
    message: string,
    readonly options: { hint?: string; exitCode?: ExitCode; details?: string[]; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'CliError'
  }

  get exitCode(): ExitCode {
    return this.options.exitCode ?? EXIT.error
  }
}

/** A command-line mistake found after parsing (e.g. a flag that does not fit the spec): exit 2. */
export function usageError(message: string, hint?: string): CliError {
  return new CliError('CLI_USAGE', message, { exitCode: EXIT.usage, ...(hint ? { hint } : {}) })
}

/** A PostgREST/Storage error as supabase-js returns it, turned into a CliError with context. */
export function requestError(what: string, error: { message: string; code?: string; details?: string | null; hint?: string | null }): CliError {
  const details = error.details ? [error.details] : []
  return new CliError(error.code && /^OB\d{3}$/.test(error.code) ? error.code : 'CLI_REQUEST', `${what}: ${error.message}`, {
    ...(error.hint ? { hint: error.hint } : {}),
    details,
  })
}
