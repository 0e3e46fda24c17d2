/**
 * What went wrong with a request to the network, and what the person can do next. Every error a
 * page shows goes through here or through TransactionProblem (chain) and WalletProblem (wallet),
 * so each one has a message and a way forward.
 */
export interface Problem {
  message: string
  next: string
  /** The stable code when the network gave one (OB0xx from the database, PGRST…, storage's). */
  code?: string
}

interface RequestError {
  message?: string
  code?: string
  details?: string | null
  hint?: string | null
  statusCode?: string | number
}

const UNREACHABLE = /failed to fetch|networkerror|fetch failed|load failed|network request failed|ECONNREFUSED/i

/** `what` names the request in the sentence: "Could not load your jobs", "The network refused the job". */
export function requestProblem(what: string, error: unknown): Problem {
  const e = (error ?? {}) as RequestError
  const message = e.message ?? String(error)
  const code = e.code
  if (UNREACHABLE.test(message)) {
    return { message: `${what}: the network could not be reached.`, next: 'Check your connection and that the network (npm start) is running, then retry.', code: 'UNREACHABLE' }
  }
  if (code === 'OB001' || code === 'PGRST301' || /jwt expired|invalid jwt|not signed in/i.test(message)) {
    return { message: `${what}: you are not signed in (or your session expired).`, next: 'Connect your wallet and sign in again.', code: code ?? 'SESSION' }
  }
  if (code === 'OB020') return { message: `${what}: this job is not one of yours.`, next: 'Only the job’s creator can do that. Check that you are signed in with the right wallet.', code }
  const hint = e.hint ?? null
  const detail = e.details ? ` (${e.details})` : ''
  return {
    message: `${what}: ${message}${detail}`,
    next: hint ?? (code === 'OB021' ? 'Reload the page to see the job’s current state.' : 'Try again; if it keeps failing, reload the page.'),
    ...(code ? { code } : {}),
  }
}
