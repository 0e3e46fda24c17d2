import path from 'node:path'
import { parseArgs } from 'node:util'
import { formatEther, formatUnits, getAddress, isAddress, Wallet, type BaseWallet } from 'ethers'
import { ChainError } from '../src/chain-error.ts'
import { artifactIdentity, loadArtifact, SETTLEMENT_ARTIFACT } from '../src/deploy/artifact.ts'
import { deploySettlement, planSettlementDeployment, writeDeployment } from '../src/deploy/deploy-settlement.ts'
import { loadDeployerWallet } from '../src/deploy/deployer-key.ts'
import { isNetworkName, NETWORKS, type NetworkProfile } from '../src/deploy/networks.ts'
import { connectRpc } from '../src/deploy/rpc.ts'
import { devAccounts } from '../src/local-chain/dev-accounts.ts'

const CONTRACTS_DIR = path.resolve(import.meta.dirname, '..')

const HELP = `Usage: npm run deploy:contracts -- --network testnet|mainnet|local [options]

Deploys OblivionSettlement(validator, unbondingDelay, challengeWindow) with a legacy (type 0)
transaction priced by eth_gasPrice, as Shardeum requires, after checking that the RPC's chain id
is the network's. Asks nothing; prints the gas price and the cost before sending.

Networks:
  testnet   Shardeum testnet "Mezame", chain 8119, https://api-mezame.shardeum.org
  mainnet   Shardeum mainnet, chain 8118: the RPC must be given (--rpc-url or SHARDEUM_RPC_URL)
  local     the anvil chain of npm start (chain 8119, default http://127.0.0.1:8545)

Options:
  --network NAME           testnet, mainnet or local (required)
  --rpc-url URL            JSON-RPC endpoint (default: SHARDEUM_RPC_URL, else the network's)
  --keystore FILE          encrypted JSON keystore of the deployer, decrypted with KEYSTORE_PASSWORD
  --validator ADDR         the coordinator's address (default: the deployer; local: anvil account 1)
  --unbonding-delay S      seconds (default: testnet 86400, mainnet 604800, local 60)
  --challenge-window S     seconds (default: testnet 3600, mainnet 86400, local 60)
  --artifact FILE          compiled contract (default: contracts/artifacts/OblivionSettlement.json)
  --deployments-dir DIR    where <chainId>.json is written (default: contracts/deployments,
                           local: contracts/deployments/local, not committed)
  --dry-run                check the chain and price the deployment; send nothing
  --json                   print the result as one JSON object
  -h, --help               show this help

Environment:
  DEPLOYER_PRIVATE_KEY     the deployer's key (or use --keystore); local defaults to anvil account 0
  KEYSTORE_PASSWORD        password of --keystore
  SHARDEUM_RPC_URL         RPC endpoint for testnet/mainnet when --rpc-url is not given

Keys are never taken from flags, printed or logged: only the deployer's address is shown.

Exit codes: 0 deployed (or priced, with --dry-run), 1 failed, 2 bad options.`

class UsageError extends Error {}

function parseOptions(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      strict: true,
      options: {
        network: { type: 'string' },
        'rpc-url': { type: 'string' },
        keystore: { type: 'string' },
        validator: { type: 'string' },
        'unbonding-delay': { type: 'string' },
        'challenge-window': { type: 'string' },
        artifact: { type: 'string' },
        'deployments-dir': { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}

function seconds(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback
  const parsed = Number(value)
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed)) throw new UsageError(`${flag} must be a whole number of seconds (got ${value})`)
  return parsed
}

function rpcUrlFor(network: NetworkProfile, flag: string | undefined): string {
  const url = flag ?? (network.name === 'local' ? undefined : process.env.SHARDEUM_RPC_URL) ?? network.rpcUrl
  if (!url) {
    throw new UsageError(
      `${network.label} needs its RPC endpoint named explicitly: pass --rpc-url or set SHARDEUM_RPC_URL (Shardeum's public one is https://api.shardeum.org)`,
    )
  }
  if (!/^https?:\/\//.test(url)) throw new UsageError(`--rpc-url must be an http(s) URL (got ${url})`)
  return url
}

/** A path as the user would type it: relative inside the current folder, absolute outside. */
function shown(file: string): string {
  const relative = path.relative(process.cwd(), file)
  return relative && !relative.startsWith('..') ? relative : file
}

const shm = (wei: bigint) => `${formatEther(wei)} SHM`

async function main(argv: string[]) {
  const options = parseOptions(argv)
  if (options.help) {
    console.log(HELP)
    return
  }
  if (!options.network) throw new UsageError('--network is required: testnet, mainnet or local')
  if (!isNetworkName(options.network)) throw new UsageError(`unknown --network ${options.network}: use testnet, mainnet or local`)
  const network = NETWORKS[options.network]
  const rpcUrl = rpcUrlFor(network, options['rpc-url'])
  if (options.validator !== undefined && !isAddress(options.validator)) throw new UsageError(`--validator must be an address (got ${options.validator})`)
  const unbondingDelay = seconds(options['unbonding-delay'], network.unbondingDelay, '--unbonding-delay')
  const challengeWindow = seconds(options['challenge-window'], network.challengeWindow, '--challenge-window')
  const deploymentsDir = path.resolve(options['deployments-dir'] ?? path.join(CONTRACTS_DIR, 'deployments', ...(network.name === 'local' ? ['local'] : [])))
  const say = (line: string) => {
    if (!options.json) console.log(line)
  }

  let deployer: BaseWallet | null = await loadDeployerWallet({ keystoreFile: options.keystore })
  let deployerNote = ''
  if (!deployer && network.name === 'local') {
    deployer = new Wallet(devAccounts(1)[0]!.privateKey)
    deployerNote = ' (anvil dev account 0)'
  }
  if (!deployer) {
    throw new ChainError('DEPLOY_NO_KEY', `no deployer key: set DEPLOYER_PRIVATE_KEY, or pass --keystore FILE with KEYSTORE_PASSWORD set`)
  }
  let validator: string
  let validatorNote = ''
  if (options.validator) validator = getAddress(options.validator)
  else if (network.name === 'local') {
    validator = devAccounts(2)[1]!.address
    validatorNote = ' (anvil dev account 1)'
  } else {
    validator = deployer.address
    validatorNote = ' (the deployer; change it later with setValidator)'
  }
  const artifact = await loadArtifact(options.artifact ?? SETTLEMENT_ARTIFACT)

  const { provider, chainId } = await connectRpc(rpcUrl, { chainId: network.chainId, network: `--network ${network.name}` })
  try {
    const params = { provider, deployer, validator, unbondingDelay, challengeWindow, artifact }
    const plan = await planSettlementDeployment(params, provider)
    say(`network    ${network.label}, chain ${chainId}, ${rpcUrl}`)
    say(`deployer   ${deployer.address}${deployerNote}, balance ${shm(plan.balance)}`)
    say(`validator  ${validator}${validatorNote}`)
    say(`delays     unbonding ${unbondingDelay} s, challenge window ${challengeWindow} s`)
    say(`gas        price ${formatUnits(plan.gasPrice, 'gwei')} gwei (eth_gasPrice), estimate ${plan.gasEstimate}, limit ${plan.gasLimit} (legacy type-0 transaction)`)
    say(`cost       about ${shm(plan.expectedCost)}, at most ${shm(plan.maxCost)}`)
    const summary = {
      network: network.name,
      chainId,
      rpcUrl,
      deployer: deployer.address,
      validator,
      unbondingDelay,
      challengeWindow,
      gasPrice: plan.gasPrice.toString(),
      gasEstimate: plan.gasEstimate.toString(),
      gasLimit: plan.gasLimit.toString(),
      expectedCost: plan.expectedCost.toString(),
      maxCost: plan.maxCost.toString(),
      balance: plan.balance.toString(),
    }
    const shortBy = plan.maxCost - plan.balance
    if (options['dry-run']) {
      if (shortBy > 0n) say(`funds      the deployer is ${shm(shortBy)} short: fund it before deploying`)
      say('dry run: nothing was sent')
      if (options.json) console.log(JSON.stringify({ ...summary, dryRun: true }))
      return
    }
    if (shortBy > 0n) {
      throw new ChainError(
        'DEPLOY_INSUFFICIENT_FUNDS',
        `the deployer ${deployer.address} is ${shm(shortBy)} short of the most the deployment may cost${network.name === 'testnet' ? ': get test SHM from the Shardeum faucet' : ''}`,
      )
    }
    const deployed = await deploySettlement(params)
    const file = await writeDeployment(deploymentsDir, chainId, {
      network: network.name,
      contracts: {
        OblivionSettlement: {
          address: deployed.address,
          txHash: deployed.txHash,
          blockNumber: deployed.blockNumber,
          deployedAt: new Date().toISOString(),
          validator,
          unbondingDelay,
          challengeWindow,
          artifactSourceHash: artifactIdentity(artifact),
        },
      },
    })
    say(`deployed   OblivionSettlement at ${deployed.address}`)
    say(`           transaction ${deployed.txHash}, block ${deployed.blockNumber}, gas used ${deployed.gasUsed}`)
    say(`recorded   ${shown(file)}`)
    if (options.json) {
      console.log(
        JSON.stringify({ ...summary, address: deployed.address, txHash: deployed.txHash, blockNumber: deployed.blockNumber, gasUsed: deployed.gasUsed.toString(), deploymentFile: file }),
      )
    }
  } finally {
    provider.destroy()
  }
}

main(process.argv.slice(2)).catch((error: Error) => {
  if (error instanceof UsageError) {
    console.error(`${error.message}\n\nSee npm run deploy:contracts -- --help.`)
    process.exit(2)
  }
  // Only our own messages are printed: they never contain the key. Anything else is shown by
  // its message alone (no stack, no request dump that could carry a signed transaction).
  const code = error instanceof ChainError ? error.code : 'DEPLOY_FAILED'
  const message = (error as Error & { shortMessage?: string }).shortMessage ?? error.message
  console.error(`Deployment failed [${code}]: ${message}`)
  process.exit(1)
})
