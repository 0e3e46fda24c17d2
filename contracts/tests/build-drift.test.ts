// The generated files are committed (deployment reads the artifact; code imports the bindings), so
// they must be exactly what the build makes from the current source, like supabase's database types.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { inputType, outputType } from '../src/build/generate-bindings.ts'
import { CONTRACT_TARGETS, buildContract } from '../src/build/contract-build.ts'

describe.each(CONTRACT_TARGETS)('generated files of $contractName', (target) => {
  const build = buildContract(target)

  it(`artifacts/${target.contractName}.json is what the build makes from the source`, () => {
    expect(readFileSync(target.artifactFile, 'utf8'), 'stale artifact: run npm run build -w contracts').toBe(build.artifactJson)
  })

  it(`bindings/${target.contractName}.ts is what the build makes from the source`, () => {
    expect(readFileSync(target.bindingsFile, 'utf8'), 'stale bindings: run npm run build -w contracts').toBe(build.bindingsTs)
  })

  it('the artifact says how it was compiled: solc 0.8.37, paris, optimizer 200 runs', () => {
    const artifact = JSON.parse(build.artifactJson) as { compiler: unknown; sourceHash: string; bytecode: string }
    expect(artifact.compiler).toEqual({ solc: expect.stringMatching(/^0\.8\.37\+/), evmVersion: 'paris', optimizer: { enabled: true, runs: 200 } })
    expect(artifact.sourceHash).toMatch(/^0x[0-9a-f]{64}$/)
    expect(build.warnings).toEqual([])
  })
})

describe('ABI types in the bindings', () => {
  const p = (type: string, components?: { name: string; type: string }[]) => ({ name: 'x', type, components })
  it('results are what ethers v6 returns', () => {
    expect(outputType(p('uint96'))).toBe('bigint')
    expect(outputType(p('int8'))).toBe('bigint')
    expect(outputType(p('address'))).toBe('string')
    expect(outputType(p('bytes32'))).toBe('string')
    expect(outputType(p('bytes'))).toBe('string')
    expect(outputType(p('bool'))).toBe('boolean')
    expect(outputType(p('uint256[]'))).toBe('Array<bigint>')
    expect(outputType(p('address[2][]'))).toBe('Array<Array<string>>')
    expect(outputType(p('tuple', [{ name: 'a', type: 'address' }, { name: 'b', type: 'uint8' }]))).toBe(
      '[a: string, b: bigint] & { a: string; b: bigint }',
    )
  })
  it('arguments take what ethers v6 accepts', () => {
    expect(inputType(p('uint64'))).toBe('BigNumberish')
    expect(inputType(p('address'))).toBe('AddressLike')
    expect(inputType(p('bytes32[]'))).toBe('Array<BytesLike>')
    expect(inputType(p('tuple[]', [{ name: 'a', type: 'bool' }]))).toBe('Array<{ a: boolean }>')
    expect(() => inputType(p('fixed128x18'))).toThrow(/unsupported ABI type/)
  })
})
