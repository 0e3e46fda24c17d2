import { CliError, EXIT, type ExitCode } from '../cli-error.ts'
import { jsonLog } from './json-log.ts'

/**
 * Writes an error to stderr and says which exit code it means. A CliError reads
 * `error[CODE]: what happened` then `hint: what to do`; anything else is a bug or an
 * unexpected failure and gets its stack with OBLIVION_DEBUG=1.
 */
export function reportError(error: unknown, options: { json: boolean; stream?: NodeJS.WritableStream }): ExitCode {
  const stream = options.stream ?? process.stderr
  const known = error instanceof CliError
  // @oblivion/contracts' ChainError (anvil, chain.json, RPC, deploy) is a message for people too;
  // recognised by name so that this file does not load ethers for every command.
  const chainError = !known && error instanceof Error && error.name === 'ChainError' && typeof (error as { code?: unknown }).code === 'string'
  const code = known ? error.code : chainError ? (error as unknown as { code: string }).code : 'CLI_UNEXPECTED'
  const message = error instanceof Error ? error.message : String(error)
  const hint = known ? error.options.hint : chainError ? undefined : 'this looks like a bug; run again with OBLIVION_DEBUG=1 for the stack trace'
  const details = known ? (error.options.details ?? []) : []
  if (options.json) {
    jsonLog(stream).write('error', { code, message, ...(hint ? { hint } : {}), ...(details.length ? { details } : {}) })
  } else {
    stream.write(`error[${code}]: ${message}\n`)
    for (const detail of details) stream.write(`  ${detail}\n`)
    if (hint) stream.write(`  hint: ${hint}\n`)
  }
  if (process.env.OBLIVION_DEBUG && error instanceof Error && error.stack) stream.write(`${error.stack}\n`)
  return known ? error.exitCode : EXIT.error
}
