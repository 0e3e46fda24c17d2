import { describe, expect, it } from 'vitest'
import { runCli } from '../support/run-cli.ts'

describe('oblivion --help', () => {
  it('lists every command, the global options, examples and the exit codes', async () => {
    const { code, stdout } = await runCli(['--help'])
    expect(code).toBe(0)
    for (const command of ['worker', 'coordinator', 'job']) expect(stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'))
    for (const option of ['--url <url>', '--home <dir>', '--anon-key <key>', '--json']) expect(stdout).toContain(option)
    expect(stdout).toContain('env: OBLIVION_URL')
    expect(stdout).toContain('env: SUPABASE_ANON_KEY')
    expect(stdout).toContain('Examples:')
    expect(stdout).toContain('oblivion job status <job-id> --watch')
    expect(stdout).toMatch(/Exit codes:[\s\S]*0 +success[\s\S]*1 +error[\s\S]*2 +usage[\s\S]*130 +interrupted/)
  })

  it.each([
    [['worker', '--help'], ['--name <name>', '--max-concurrency <n>', '--lease-seconds <s>', '--poll-seconds <s>', '--backend <backend>', 'choices: "wasm", "cpu"', 'Ctrl-C twice']],
    [['coordinator', '--help'], ['--poll-seconds <s>', '--fund-without-escrow', 'SUPABASE_SERVICE_ROLE_KEY']],
    [['job', '--help'], ['create', 'status', 'download']],
    [['job', 'create', '--help'], ['<spec.json>', '--reward-wei <wei>', '--dataset <file.csv>']],
    [['job', 'status', '--help'], ['<job-id>', '--watch', 'Exit code with --watch']],
    [['job', 'download', '--help'], ['<job-id>', '--format <format>', '"onnx"', '--out <dir>']],
  ])('%j explains every option', async (args, expected) => {
    const { code, stdout } = await runCli(args)
    expect(code).toBe(0)
    for (const text of expected) expect(stdout).toContain(text)
    // Global options are shown on every command's help.
    expect(stdout).toContain('--url <url>')
  })
})
