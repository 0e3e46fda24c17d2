import { describe, expect, it } from 'vitest'
import { runCli } from '../support/run-cli.ts'

describe('oblivion --help', () => {
  it('lists every command, the global options, examples and the exit codes', async () => {
    const { code, stdout } = await runCli(['--help'])
    expect(code).toBe(0)
    for (const command of ['worker', 'coordinator', 'job', 'model', 'serve', 'infer']) expect(stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'))
    for (const option of ['--url <url>', '--home <dir>', '--anon-key <key>', '--json']) expect(stdout).toContain(option)
    // Commander wraps the option column to 80 characters: compare words, not line breaks.
    const words = stdout.replace(/\s+/g, ' ')
    expect(words).toContain('env: OBLIVION_URL')
    expect(words).toContain('env: SUPABASE_ANON_KEY')
    expect(stdout).toContain('Examples:')
    expect(stdout).toContain('oblivion job status <job-id> --watch')
    expect(stdout).toContain('oblivion worker claim --name laptop --dev-account 4')
    for (const variable of ['OBLIVION_RPC_URL', 'OBLIVION_SETTLEMENT_ADDRESS', 'OBLIVION_PRIVATE_KEY', 'KEYSTORE_PASSWORD']) expect(stdout).toContain(variable)
    expect(stdout).toMatch(/Exit codes:[\s\S]*0 +success[\s\S]*1 +error[\s\S]*2 +usage[\s\S]*130 +interrupted/)
  })

  it.each([
    [
      ['worker', '--help'],
      ['--name <name>', '--max-concurrency <n>', '--lease-seconds <s>', '--poll-seconds <s>', '--backend <backend>', 'choices: "wasm", "cpu"', 'Ctrl-C twice'],
    ],
    [['worker', '--help'], ['--dev-account <n>', '--keystore <file>', 'bond [options] <amount>', 'unbond', 'withdraw', 'claim', 'stake']],
    [['worker', 'bond', '--help'], ['<amount>', '1000wei', '--dev-account <n>', '--keystore <file>', 'OBLIVION_PRIVATE_KEY', 'InsufficientBond']],
    [['worker', 'claim', '--help'], ['--job <job-id>', '--name <name>', 'challenge window']],
    [['worker', 'stake', '--help'], ['--name <name>', '--dev-account <n>']],
    [['job', 'create', '--help'], ['--no-fund', '--deadline-hours <h>', '--dev-account <n>', 'oblivion job fund <job-id>']],
    [['job', 'fund', '--help'], ['<job-id>', '--deadline-hours <h>', '--keystore <file>']],
    [['job', 'cancel', '--help'], ['<job-id>', 'AlreadyStarted']],
    [['job', 'refund', '--help'], ['[job-id]', 'credits']],
    [['coordinator', '--help'], ['--poll-seconds <s>', '--fund-without-escrow', 'SUPABASE_SERVICE_ROLE_KEY']],
    [['job', '--help'], ['create', 'fund', 'status', 'download', 'cancel', 'refund']],
    [['job', 'create', '--help'], ['<spec.json>', '--reward-wei <wei>', '--dataset <file.csv>']],
    [['job', 'status', '--help'], ['<job-id>', '--watch', 'Exit code with --watch']],
    [['job', 'download', '--help'], ['<job-id>', '--format <format>', '"onnx"', '--out <dir>']],
    [['model', 'list', '--help'], ['<model-id>', '--price <amount>', '--setup-timeout-seconds <s>', '--dev-account <n>', 'private/']],
    [['serve', '--help'], ['<model-id>', '--poll-seconds <s>', '--keystore <file>', 'Ctrl-C twice']],
    [['infer', '--help'], ['[model-id]', '--test-row <n>', '--input <file.json>', '--profile <name>', 'CLI_PROOF_INVALID', 'refund']],
    [['infer', 'refund', '--help'], ['<request-id>', '--profile <name>', '--dev-account <n>']],
  ])('%j explains every option', async (args, expected) => {
    const { code, stdout } = await runCli(args)
    expect(code).toBe(0)
    for (const text of expected) expect(stdout).toContain(text)
    // Global options are shown on every command's help (the root's only: not `worker`'s run options).
    expect(stdout).toContain('--url <url>')
    if (args[0] === 'worker' && args[1] !== '--help') expect(stdout).not.toContain('--max-concurrency')
  })
})
