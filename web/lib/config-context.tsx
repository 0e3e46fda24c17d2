'use client'
import { createContext, useContext, type ReactNode } from 'react'
import type { PublicConfig } from '@oblivion/visualizer/config'

const ConfigContext = createContext<PublicConfig | null>(null)

export function ConfigProvider({ config, children }: { config: PublicConfig; children: ReactNode }) {
  return <ConfigContext.Provider value={config}>{children}</ConfigContext.Provider>
}

/** The network's public configuration (gateway, anon key, chain). */
export function usePublicConfig(): PublicConfig {
  const config = useContext(ConfigContext)
  if (!config) throw new Error('usePublicConfig outside ConfigProvider')
  return config
}
