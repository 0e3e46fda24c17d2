import path from 'node:path'
import type { LocalNetwork, LocalNetworkOptions } from './local-network.ts'
import type { SampleModel } from './sample-model.ts'
import type { ServiceStartError, ServiceStatus } from './service-status.ts'
import { renderStatusTable, shownPath } from './status-table.ts'

/** What `npm start` tells the person (lines and a table) or a program (`--json`: JSON lines). */
export interface NetworkReporter {
  starting(options: LocalNetworkOptions): void
  /** A service changed state; `stopping`: during the stop after Ctrl-C. */
  change(service: ServiceStatus, stopping: boolean): void
  ready(network: LocalNetwork): void
  failed(network: LocalNetwork, error: ServiceStartError): void
  exited(service: ServiceStatus, logTail: string, fatal: boolean): void
  /** The marketplace (prepared after the ready table) lists and serves its sample model. */
  marketplaceReady(network: LocalNetwork, service: ServiceStatus, sample: SampleModel): void
  /** The marketplace could not be prepared; the rest keeps running. */
  backgroundFailed(network: LocalNetwork, service: ServiceStatus, logTail: string): void
  stopping(signal: NodeJS.Signals): void
  forcing(): void
  /** Everything is stopped; we exit with `exitCode`. */
  stopped(exitCode: number): void
}

export function createNetworkReporter(options: { json: boolean }): NetworkReporter {
  return options.json ? jsonReporter() : textReporter()
}

const indent = (text: string) => text.split('\n').map((line) => `    ${line}`).join('\n')
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`

function textReporter(): NetworkReporter {
  const say = (text: string) => process.stdout.write(`${text}\n`)
  return {
    starting(options) {
      say(`Starting the local Oblivion network in ${shownPath(options.home)} (logs in ${shownPath(path.join(options.home, 'logs'))}) …`)
    },
    change(service, stopping) {
      if (stopping) {
        if (service.state === 'stopped') say(`  stopped ${service.name}`)
        return
      }
      if (service.state === 'ready' && service.name !== 'marketplace') say(`  ready    ${service.name} (${seconds(service.readyMs ?? 0)})`)
      else if (service.state === 'skipped') say(`  skipped  ${service.name}: ${service.notes}`)
      else if (service.state === 'starting' && /^(next|vite) build/.test(service.notes)) say(`  building ${service.name}: ${service.notes}`)
    },
    ready(network) {
      const lines = ['', `Oblivion local network ready in ${seconds(network.elapsed())}`, '', renderStatusTable(network.services), '']
      if (network.gateway) {
        lines.push(`  anon key   ${network.gateway.anonKey}`)
        lines.push('             public: createClient(gateway URL, anon key) with @supabase/supabase-js')
      }
      if (network.chain) lines.push(`  wallets    dev accounts and keys in ${shownPath(path.join(network.options.home, 'chain.json'))} (local chain only)`)
      lines.push('', 'Ctrl-C stops everything (the workers finish their running tasks first).')
      say(lines.join('\n'))
    },
    failed(network, error) {
      const lines = [`Could not start the local network: ${error.service}: ${error.message}`]
      if (error.hint) lines.push(`  ${error.hint}`)
      if (error.log) lines.push(`Last lines of ${shownPath(error.log)}:`, indent(error.logTail || '(empty)'))
      if (network.services.length > 0) lines.push('', renderStatusTable(network.services))
      process.stderr.write(`${lines.join('\n')}\n`)
    },
    marketplaceReady(_network, service, sample) {
      const where = service.url ? `: buy a proven inference at ${service.url}` : ''
      say(
        `\nMarketplace ready in ${seconds(service.readyMs ?? 0)}: ${service.notes}${where}\n` +
          `  or: npm run -s oblivion -- infer ${sample.modelId} --test-row 0 --dev-account 3`,
      )
    },
    backgroundFailed(network, service, logTail) {
      const lines = [`The marketplace failed: ${service.notes}`]
      if (service.log) lines.push(`Last lines of ${shownPath(service.log)}:`, indent(logTail || '(empty)'))
      lines.push('The rest keeps running.', '', renderStatusTable(network.services))
      process.stderr.write(`${lines.join('\n')}\n`)
    },
    exited(service, logTail, fatal) {
      const lines = [`${service.name} stopped unexpectedly: ${service.notes}`]
      if (service.log) lines.push(`Last lines of ${shownPath(service.log)}:`, indent(logTail || '(empty)'))
      lines.push(fatal ? 'Nothing works without the database, gateway and chain: stopping everything.' : 'The rest keeps running.')
      process.stderr.write(`${lines.join('\n')}\n`)
    },
    stopping(signal) {
      say(`\n${signal}: stopping (workers finish their running tasks first; Ctrl-C again to kill everything) …`)
    },
    forcing() {
      say('Second Ctrl-C: killing the workers, the coordinator and the web app; closing the database …')
    },
    stopped(exitCode) {
      say(exitCode === 0 ? 'Stopped.' : `Stopped (exit code ${exitCode}).`)
    },
  }
}

function jsonReporter(): NetworkReporter {
  const write = (stream: NodeJS.WriteStream, type: string, fields: object) => stream.write(`${JSON.stringify({ ts: new Date().toISOString(), type, ...fields })}\n`)
  // Rows change after the ready line too (the marketplace prepares in the background): each change is a line.
  let readyPrinted = false
  return {
    starting() {},
    change(service, stopping) {
      if (readyPrinted && !stopping) write(process.stdout, 'service-changed', { service })
    },
    ready(network) {
      readyPrinted = true
      const chain = network.chain
      write(process.stdout, 'ready', {
        readyMs: network.elapsed(),
        home: network.options.home,
        logDir: network.logDir,
        gateway: network.gateway,
        chain: chain && { rpcUrl: chain.rpcUrl, chainId: chain.chainId, settlement: chain.settlement, challengeWindow: chain.challengeWindow, configFile: path.join(network.options.home, 'chain.json') },
        publicConfig: network.publicConfig,
        services: network.services,
      })
    },
    failed(network, error) {
      write(process.stderr, 'error', {
        code: 'NETWORK_SERVICE_FAILED',
        service: error.service,
        message: error.message,
        hint: error.hint ?? null,
        log: error.log,
        logTail: error.logTail,
        services: network.services,
      })
    },
    exited(service, logTail, fatal) {
      write(process.stdout, 'service-exited', { service, fatal, logTail })
    },
    marketplaceReady(_network, service, sample) {
      write(process.stdout, 'marketplace-ready', { ...sample, url: service.url, service })
    },
    backgroundFailed(_network, service, logTail) {
      write(process.stdout, 'service-failed', { service, logTail })
    },
    stopping(signal) {
      write(process.stdout, 'stopping', { signal })
    },
    forcing() {
      write(process.stdout, 'forcing', {})
    },
    stopped(exitCode) {
      write(process.stdout, 'stopped', { exitCode })
    },
  }
}
