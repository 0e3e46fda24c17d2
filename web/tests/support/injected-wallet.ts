import { randomUUID } from 'node:crypto'
import { getBytes, isHexString, JsonRpcProvider, Network, toUtf8Bytes, Transaction, Wallet } from 'ethers'
import type { BrowserContext, Page } from 'playwright-core'

/**
 * A small EIP-1193 wallet for browser tests: injected into every page of a Playwright page or
 * context (window.ethereum, and announced through EIP-6963), it signs in Node with a private key
 * (an anvil dev key) and forwards reads to the chain's RPC. What a person would approve in a real
 * wallet is approved at once, unless the test asks for the next approval to be declined (4001).
 *
 * Methods: eth_requestAccounts, eth_accounts, eth_chainId, personal_sign, eth_sendTransaction
 * (signed as a legacy type-0 transaction priced by eth_gasPrice, sent raw), wallet_switchEthereumChain
 * (4902 for a chain it does not know), wallet_addEthereumChain; anything else goes to the RPC.
 * Events: accountsChanged, chainChanged.
 */

export interface InjectedWalletOptions {
  /** The key it signs with (0x…). */
  privateKey: string
  /** The chain's JSON-RPC endpoint (anvil). */
  rpcUrl: string
  /** The chain id of that RPC. */
  chainId: number
  /** The chain the wallet is on at first (default chainId): another id tests the "wrong network" path. */
  startChainId?: number
  /** Chains a switch may go to without wallet_addEthereumChain (default: chainId and startChainId). */
  knownChainIds?: number[]
  /** How the wallet names itself (EIP-6963 info.name). */
  name?: string
  /** Announce through EIP-6963 (default true). */
  announce?: boolean
  /** Also set window.ethereum, the EIP-1193 fallback (default true). */
  windowEthereum?: boolean
}

/** The methods a person approves in a wallet: the ones `rejectNext` can decline. */
export const APPROVAL_METHODS = ['eth_requestAccounts', 'personal_sign', 'eth_sendTransaction', 'wallet_switchEthereumChain', 'wallet_addEthereumChain'] as const
export type ApprovalMethod = (typeof APPROVAL_METHODS)[number]

export interface InjectedWallet {
  /** Lower-case address of the key. */
  readonly address: string
  /** The chain id the wallet is on now. */
  readonly chainId: number
  /** Every request the pages made, in order (method names). */
  readonly requests: string[]
  /** Transaction hashes it sent. */
  readonly sent: string[]
  /**
   * Declines the next approval request (any of APPROVAL_METHODS, or only `method`) with EIP-1193
   * error 4001 "User rejected the request.", as a person pressing "Reject" would.
   */
  rejectNext(method?: ApprovalMethod): void
  /** Moves the wallet to another chain, as a person switching networks in the wallet (chainChanged). */
  setChain(page: Page, chainId: number): Promise<void>
  close(): void
}

const BRIDGE = '__oblivionWalletRequest'
const hex = (n: number) => `0x${n.toString(16)}`

interface BridgeAnswer {
  result?: unknown
  error?: { code: number; message: string }
  /** Events to emit in the page after answering ([name, payload]). */
  events?: [string, unknown][]
}

/**
 * Runs in the page: the provider object and its announcement. Plain JavaScript in a string, not a
 * serialised function: tsx/esbuild would add helpers (__name) the page does not have.
 */
const PAGE_SCRIPT = `(() => {
  const config = __CONFIG__
  const listeners = new Map()
  const emit = (event, payload) => (listeners.get(event) || new Set()).forEach((listener) => listener(payload))
  const provider = {
    isOblivionTestWallet: true,
    async request(args) {
      if (!args || typeof args.method !== 'string') throw Object.assign(new Error('request needs a method'), { code: -32600 })
      const answer = await window[config.bridge](args.method, args.params === undefined ? [] : args.params)
      if (answer.events) setTimeout(() => answer.events.forEach(([event, payload]) => emit(event, payload)), 0)
      if (answer.error) throw Object.assign(new Error(answer.error.message), { code: answer.error.code })
      return answer.result
    },
    on(event, listener) {
      if (!listeners.has(event)) listeners.set(event, new Set())
      listeners.get(event).add(listener)
      return provider
    },
    removeListener(event, listener) {
      const set = listeners.get(event)
      if (set) set.delete(listener)
      return provider
    },
  }
  window.__oblivionWalletEmit = emit
  if (config.windowEthereum) window.ethereum = provider
  if (config.announce) {
    const icon = 'data:image/svg+xml,' + encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32"><circle cx="16" cy="16" r="14" fill="#7c5cff"/></svg>')
    const detail = Object.freeze({ info: Object.freeze({ uuid: config.uuid, name: config.name, icon, rdns: 'dev.oblivion.test-wallet' }), provider })
    const announce = () => window.dispatchEvent(new CustomEvent('eip6963:announceProvider', { detail }))
    window.addEventListener('eip6963:requestProvider', announce)
    announce()
  }
})()`

/** Injects the wallet into `target` (a page, or a context: every page it opens). Call before navigating. */
export async function injectWallet(target: Page | BrowserContext, options: InjectedWalletOptions): Promise<InjectedWallet> {
  const provider = new JsonRpcProvider(options.rpcUrl, undefined, { staticNetwork: Network.from(options.chainId), cacheTimeout: -1 })
  const signer = new Wallet(options.privateKey)
  const address = signer.address.toLowerCase()
  const known = new Set([options.chainId, options.startChainId ?? options.chainId, ...(options.knownChainIds ?? [])])
  let chainId = options.startChainId ?? options.chainId
  let connected = false
  let rejecting: { method: ApprovalMethod | null } | null = null
  const requests: string[] = []
  const sent: string[] = []

  const declined = (method: string): boolean => {
    if (!rejecting || !(APPROVAL_METHODS as readonly string[]).includes(method)) return false
    if (rejecting.method !== null && rejecting.method !== method) return false
    rejecting = null
    return true
  }

  const sendTransaction = async (tx: Record<string, string | undefined>): Promise<string> => {
    if (chainId !== options.chainId) throw Object.assign(new Error(`the wallet is on chain ${chainId}, not ${options.chainId}`), { code: 4901 })
    const from = (tx.from ?? address).toLowerCase()
    if (from !== address) throw Object.assign(new Error(`this wallet holds ${address}, not ${from}`), { code: 4100 })
    const call = { from: address, to: tx.to ?? null, data: tx.data ?? '0x', value: tx.value ?? '0x0' }
    const gasPrice = tx.gasPrice ? BigInt(tx.gasPrice) : BigInt(await provider.send('eth_gasPrice', []))
    const gasLimit = tx.gas ? BigInt(tx.gas) : (BigInt(await provider.send('eth_estimateGas', [call])) * 12n) / 10n
    const nonce = Number(BigInt(await provider.send('eth_getTransactionCount', [address, 'pending'])))
    const signed = await signer.signTransaction(
      Transaction.from({ type: 0, chainId: options.chainId, nonce, gasPrice, gasLimit, to: call.to, data: call.data, value: BigInt(call.value) }),
    )
    const hash = (await provider.send('eth_sendRawTransaction', [signed])) as string
    sent.push(hash)
    return hash
  }

  const handle = async (method: string, params: unknown): Promise<BridgeAnswer> => {
    requests.push(method)
    const list = Array.isArray(params) ? params : []
    if (declined(method)) return { error: { code: 4001, message: 'User rejected the request.' } }
    try {
      switch (method) {
        case 'eth_requestAccounts':
          connected = true
          return { result: [address] }
        case 'eth_accounts':
          return { result: connected ? [address] : [] }
        case 'eth_chainId':
          return { result: hex(chainId) }
        case 'net_version':
          return { result: String(chainId) }
        case 'personal_sign': {
          const message = list[0] as string
          const bytes = isHexString(message) ? getBytes(message) : toUtf8Bytes(message)
          return { result: await signer.signMessage(bytes) }
        }
        case 'eth_sendTransaction':
          return { result: await sendTransaction(list[0] as Record<string, string | undefined>) }
        case 'wallet_switchEthereumChain': {
          const next = Number.parseInt((list[0] as { chainId: string }).chainId, 16)
          if (!known.has(next)) return { error: { code: 4902, message: `Unrecognized chain ID ${hex(next)}. Try adding the chain using wallet_addEthereumChain first.` } }
          const changed = next !== chainId
          chainId = next
          return { result: null, events: changed ? [['chainChanged', hex(next)]] : [] }
        }
        case 'wallet_addEthereumChain': {
          const next = Number.parseInt((list[0] as { chainId: string }).chainId, 16)
          known.add(next)
          const changed = next !== chainId
          chainId = next
          return { result: null, events: changed ? [['chainChanged', hex(next)]] : [] }
        }
        default:
          if (chainId !== options.chainId) return { error: { code: 4901, message: `the wallet is on chain ${chainId}: no RPC for it` } }
          return { result: await provider.send(method, list) }
      }
    } catch (error) {
      const e = error as { code?: unknown; shortMessage?: string; message?: string; error?: { code?: number; message?: string } }
      // A JSON-RPC error from anvil (a revert on estimateGas…) keeps its code and data for ethers.
      const code = typeof e.error?.code === 'number' ? e.error.code : typeof e.code === 'number' ? e.code : -32603
      return { error: { code, message: e.error?.message ?? e.shortMessage ?? e.message ?? String(error) } }
    }
  }

  await target.exposeFunction(BRIDGE, handle)
  const config = { bridge: BRIDGE, uuid: randomUUID(), name: options.name ?? 'Oblivion test wallet', announce: options.announce ?? true, windowEthereum: options.windowEthereum ?? true }
  await target.addInitScript({ content: PAGE_SCRIPT.replace('__CONFIG__', JSON.stringify(config)) })

  return {
    address,
    get chainId() {
      return chainId
    },
    requests,
    sent,
    rejectNext(method) {
      rejecting = { method: method ?? null }
    },
    async setChain(page, next) {
      known.add(next)
      chainId = next
      await page.evaluate(`window.__oblivionWalletEmit('chainChanged', ${JSON.stringify(hex(next))})`)
    },
    close() {
      provider.destroy()
    },
  }
}
