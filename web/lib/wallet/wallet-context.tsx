'use client'
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react'
import { usePublicConfig } from '../config-context.tsx'
import { useSupabase } from '../supabase-context.tsx'
import { discoverWallets, injectedWallet, isUserRejection, type DiscoveredWallet } from './eip1193.ts'

export type WalletStatus = 'disconnected' | 'connecting' | 'connected'

/** A problem with the wallet, with what the person can do about it. */
export interface WalletProblem {
  message: string
  next: string
}

interface WalletState {
  /** Wallets found (EIP-6963), or the window.ethereum fallback. */
  wallets: DiscoveredWallet[]
  wallet: DiscoveredWallet | null
  /** Checksum-less lower-case address of the connected account. */
  account: string | null
  chainId: number | null
  status: WalletStatus
  /** The wallet is on another chain than the network's. */
  wrongChain: boolean
  /** Signed in to the network (a Supabase session from Sign-In with Ethereum) as this account. */
  signedIn: boolean
  problem: WalletProblem | null
  connect(wallet?: DiscoveredWallet): Promise<void>
  switchChain(): Promise<void>
  signIn(): Promise<boolean>
  signOut(): Promise<void>
  clearProblem(): void
}

const WalletContext = createContext<WalletState | null>(null)

const hexChainId = (id: number) => `0x${id.toString(16)}`
/** The wallet last connected (its EIP-6963 rdns: the uuid changes with every page load): reconnected silently after a reload. */
const LAST_WALLET_KEY = 'oblivion-last-wallet'

/**
 * The wallet the page acts with: discovered by EIP-6963 (window.ethereum as the fallback),
 * connected with eth_requestAccounts, kept in sync through accountsChanged / chainChanged, and
 * used to sign in to the network with Sign-In with Ethereum (supabase-js signInWithWeb3).
 */
export function WalletProvider({ children }: { children: ReactNode }) {
  const config = usePublicConfig()
  const { supabase, session } = useSupabase()
  const [wallets, setWallets] = useState<DiscoveredWallet[]>([])
  const [wallet, setWallet] = useState<DiscoveredWallet | null>(null)
  const [account, setAccount] = useState<string | null>(null)
  const [chainId, setChainId] = useState<number | null>(null)
  const [status, setStatus] = useState<WalletStatus>('disconnected')
  const [problem, setProblem] = useState<WalletProblem | null>(null)
  const walletRef = useRef<DiscoveredWallet | null>(null)

  useEffect(() => {
    const found = new Map<string, DiscoveredWallet>()
    const stop = discoverWallets((w) => {
      found.set(w.info.uuid, w)
      setWallets([...found.values()])
    })
    // Wallets announce within a tick; only then fall back to window.ethereum.
    const timer = setTimeout(() => {
      if (found.size === 0) {
        const fallback = injectedWallet()
        if (fallback) setWallets([fallback])
      }
    }, 150)
    return () => {
      stop()
      clearTimeout(timer)
    }
  }, [])

  // After a reload: the wallet connected before answers eth_accounts without a prompt.
  useEffect(() => {
    if (walletRef.current) return
    const last = window.localStorage.getItem(LAST_WALLET_KEY)
    const known = wallets.find((w) => w.info.rdns === last)
    if (!known) return
    let live = true
    void (async () => {
      try {
        const accounts = (await known.provider.request({ method: 'eth_accounts' })) as string[]
        const id = (await known.provider.request({ method: 'eth_chainId' })) as string
        if (!live || !accounts[0] || walletRef.current) return
        walletRef.current = known
        setWallet(known)
        setAccount(accounts[0].toLowerCase())
        setChainId(Number.parseInt(id, 16))
        setStatus('connected')
      } catch {
        // not connected any more: the button offers to connect
      }
    })()
    return () => {
      live = false
    }
  }, [wallets])

  // Follow the connected wallet's account and chain.
  useEffect(() => {
    const provider = wallet?.provider
    if (!provider?.on) return
    const onAccounts = (accounts: string[]) => {
      const next = accounts[0]?.toLowerCase() ?? null
      setAccount(next)
      if (!next) {
        setStatus('disconnected')
        window.localStorage.removeItem(LAST_WALLET_KEY)
      }
    }
    const onChain = (id: string) => setChainId(Number.parseInt(id, 16))
    provider.on('accountsChanged', onAccounts)
    provider.on('chainChanged', onChain)
    return () => {
      provider.removeListener?.('accountsChanged', onAccounts)
      provider.removeListener?.('chainChanged', onChain)
    }
  }, [wallet])

  const connect = useCallback(
    async (chosen?: DiscoveredWallet) => {
      const target = chosen ?? walletRef.current ?? wallets[0] ?? null
      if (!target) {
        setProblem({ message: 'No wallet found in this browser.', next: 'Install a wallet extension such as MetaMask or Rabby, then reload the page.' })
        return
      }
      setStatus('connecting')
      setProblem(null)
      try {
        const accounts = (await target.provider.request({ method: 'eth_requestAccounts' })) as string[]
        const id = (await target.provider.request({ method: 'eth_chainId' })) as string
        if (!accounts[0]) throw new Error('the wallet gave no account')
        walletRef.current = target
        window.localStorage.setItem(LAST_WALLET_KEY, target.info.rdns)
        setWallet(target)
        setAccount(accounts[0].toLowerCase())
        setChainId(Number.parseInt(id, 16))
        setStatus('connected')
      } catch (error) {
        setStatus('disconnected')
        setProblem(
          isUserRejection(error)
            ? { message: 'You declined the connection request.', next: 'Click “Connect wallet” again and approve it in your wallet.' }
            : { message: `The wallet could not connect: ${(error as Error).message ?? String(error)}`, next: 'Unlock your wallet and try again.' },
        )
      }
    },
    [wallets],
  )

  const switchChain = useCallback(async () => {
    const provider = walletRef.current?.provider
    const chain = config.chain
    if (!provider || !chain) return
    setProblem(null)
    try {
      await provider.request({ method: 'wallet_switchEthereumChain', params: [{ chainId: hexChainId(chain.chainId) }] })
    } catch (error) {
      if ((error as { code?: unknown }).code === 4902) {
        // The wallet does not know the chain yet: add it (which also switches to it).
        try {
          await provider.request({
            method: 'wallet_addEthereumChain',
            params: [{ chainId: hexChainId(chain.chainId), chainName: chain.name, rpcUrls: [chain.rpcUrl], nativeCurrency: { name: 'Shardeum', symbol: 'SHM', decimals: 18 } }],
          })
          return
        } catch (addError) {
          error = addError
        }
      }
      setProblem(
        isUserRejection(error)
          ? { message: `You declined switching to ${chain.name}.`, next: 'Switch networks to sign transactions on this network.' }
          : { message: `The wallet could not switch to ${chain.name} (chain ${chain.chainId}).`, next: `Add the network by hand: RPC ${chain.rpcUrl}, chain id ${chain.chainId}.` },
      )
    }
    const id = (await provider.request({ method: 'eth_chainId' }).catch(() => null)) as string | null
    if (id) setChainId(Number.parseInt(id, 16))
  }, [config.chain])

  const signIn = useCallback(async () => {
    const target = walletRef.current
    if (!target) {
      setProblem({ message: 'Connect a wallet first.', next: 'Click “Connect wallet”.' })
      return false
    }
    setProblem(null)
    const nonce = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('')
    try {
      const { error } = await supabase.auth.signInWithWeb3({
        chain: 'ethereum',
        wallet: target.provider as never,
        statement: 'Sign in to Oblivion to create jobs, train shards and claim payouts.',
        options: { signInWithEthereum: { nonce } },
      })
      if (error) throw error
      return true
    } catch (error) {
      setProblem(
        isUserRejection(error)
          ? { message: 'You declined the sign-in signature.', next: 'Signing costs nothing and sends no transaction: click “Sign in” and approve the message to continue.' }
          : { message: `Sign-in failed: ${(error as Error).message ?? String(error)}`, next: 'Check that your wallet is unlocked and try again.' },
      )
      return false
    }
  }, [supabase])

  const signOut = useCallback(async () => {
    await supabase.auth.signOut()
  }, [supabase])

  const sessionAddress = (session?.user.user_metadata?.custom_claims as { address?: string } | undefined)?.address?.toLowerCase() ?? null
  const value = useMemo<WalletState>(
    () => ({
      wallets,
      wallet,
      account,
      chainId,
      status,
      wrongChain: status === 'connected' && config.chain !== null && chainId !== config.chain.chainId,
      signedIn: session !== null && !session.user.is_anonymous && (account === null || sessionAddress === null || sessionAddress === account),
      problem,
      connect,
      switchChain,
      signIn,
      signOut,
      clearProblem: () => setProblem(null),
    }),
    [wallets, wallet, account, chainId, status, config.chain, session, sessionAddress, problem, connect, switchChain, signIn, signOut],
  )
  return <WalletContext.Provider value={value}>{children}</WalletContext.Provider>
}

export function useWallet(): WalletState {
  const state = useContext(WalletContext)
  if (!state) throw new Error('useWallet outside WalletProvider')
  return state
}
