/** An EIP-1193 provider (MetaMask, Rabby, a test page's injected wallet…). */
export interface Eip1193Provider {
  request(args: { method: string; params?: unknown[] | Record<string, unknown> }): Promise<unknown>
  on?(event: string, listener: (...args: any[]) => void): void
  removeListener?(event: string, listener: (...args: any[]) => void): void
}

/** EIP-6963 provider info: how the wallet names itself. */
export interface WalletInfo {
  uuid: string
  name: string
  /** A data: URI image. */
  icon: string
  rdns: string
}

export interface DiscoveredWallet {
  info: WalletInfo
  provider: Eip1193Provider
}

/**
 * EIP-6963 discovery: every installed wallet announces itself in answer to a request event, so
 * several wallets can coexist without fighting over window.ethereum. Calls `onWallet` for each
 * announcement (now and later); returns the unsubscribe.
 */
export function discoverWallets(onWallet: (wallet: DiscoveredWallet) => void): () => void {
  const listener = (event: Event) => {
    const detail = (event as CustomEvent<DiscoveredWallet>).detail
    if (detail?.info?.uuid && typeof detail.provider?.request === 'function') onWallet(detail)
  }
  window.addEventListener('eip6963:announceProvider', listener)
  window.dispatchEvent(new Event('eip6963:requestProvider'))
  return () => window.removeEventListener('eip6963:announceProvider', listener)
}

/** The EIP-1193 fallback: a wallet that only sets window.ethereum (older extensions). */
export function injectedWallet(): DiscoveredWallet | null {
  const ethereum = (window as unknown as { ethereum?: Eip1193Provider }).ethereum
  if (!ethereum || typeof ethereum.request !== 'function') return null
  return { info: { uuid: 'window.ethereum', name: 'Browser wallet', icon: '', rdns: 'window.ethereum' }, provider: ethereum }
}

/** EIP-1193 error 4001: the person declined the request in the wallet. */
export function isUserRejection(error: unknown): boolean {
  const e = error as { code?: unknown; error?: { code?: unknown }; info?: { error?: { code?: unknown } }; message?: unknown }
  return e?.code === 4001 || e?.code === 'ACTION_REJECTED' || e?.error?.code === 4001 || e?.info?.error?.code === 4001 || /user (rejected|denied)/i.test(String(e?.message ?? ''))
}
