import { describe, expect, it } from 'vitest'
import { pickle, py } from '../../src/export/pickle-writer.ts'
import { PyCall, PyGlobal, PyPersistentId, PyTuple, unpickle } from '../support/unpickle.ts'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

describe('pickle writer (protocol 2)', () => {
  it("writes the same bytes as CPython's pickle.dumps(…, 2) after pickletools.optimize", () => {
    // python3 -c "import pickle, pickletools; print(pickletools.optimize(pickle.dumps(
    //   {'a': [1, 2.5, None, True], 'b': (-7, 'é'), 'c': 1 << 40}, 2)).hex())"
    const value = py.dict({
      a: py.list([py.int(1), py.float(2.5), py.none, py.bool(true)]),
      b: py.tuple([py.int(-7), py.str('é')]),
      c: py.int(2n ** 40n),
    })
    expect(hex(pickle(value))).toBe(
      '80027d285801000000615d284b014740040000000000004e88655801000000624af9ffffff5802000000c3a9865801000000638a06000000000001752e',
    )
  })

  it('keeps ints ints across every encoding size, bigints included', () => {
    const ints = [
      0n,
      255n,
      256n,
      -1n,
      2n ** 31n - 1n,
      -(2n ** 31n),
      2n ** 31n,
      -(2n ** 31n) - 1n,
      2n ** 64n,
      -(2n ** 70n),
      127n << 8n,
      -128n,
    ]
    expect(unpickle(pickle(py.list(ints.map(py.int))))).toEqual(ints)
    expect(unpickle(pickle(py.int(Number.MAX_SAFE_INTEGER)))).toBe(BigInt(Number.MAX_SAFE_INTEGER))
  })

  it('refuses a JS number that is not a safe integer as an int', () => {
    expect(() => pickle(py.int(1.5))).toThrow(/not a safe integer/)
    expect(() => pickle(py.int(2 ** 60))).toThrow(/not a safe integer/)
  })

  it('keeps float64 values exactly, signed zero and extremes included', () => {
    const floats = [0.1, -0, 1e-300, -1.7976931348623157e308, Math.fround(0.3), 3]
    const back = unpickle(pickle(py.list(floats.map(py.float)))) as number[]
    back.forEach((v, i) => expect(Object.is(v, floats[i])).toBe(true))
  })

  it('writes tuples of every length and empty containers', () => {
    for (let n = 0; n <= 5; n++) {
      const items = Array.from({ length: n }, (_, i) => py.str(`item ${i}`))
      expect(unpickle(pickle(py.tuple(items)))).toEqual(new PyTuple(items.map((_, i) => `item ${i}`)))
    }
    expect(unpickle(pickle(py.list([])))).toEqual([])
    expect(unpickle(pickle(py.dict({})))).toEqual(new Map())
  })

  it('writes UTF-8 strings with their byte length', () => {
    expect(unpickle(pickle(py.str('ε = 3.5, δ = 1e-5 🙂')))).toBe('ε = 3.5, δ = 1e-5 🙂')
  })

  it('writes a global once and refers back to it through the memo', () => {
    const orderedDict = py.global('collections', 'OrderedDict')
    const bytes = pickle(py.list([py.call(orderedDict, []), py.call(orderedDict, [])]))
    const text = new TextDecoder('latin1').decode(bytes)
    expect(text.split('collections\nOrderedDict\n')).toHaveLength(2)
    const [first, second] = unpickle(bytes) as PyCall[]
    expect((first!.callable as PyGlobal).qualifiedName).toBe('collections.OrderedDict')
    expect(second!.callable).toBe(first!.callable)
  })

  it('switches to 4-byte memo indices past 256 distinct globals', () => {
    const globals = Array.from({ length: 300 }, (_, i) => py.global('m', `g${i}`))
    const back = unpickle(pickle(py.list([...globals, ...globals]))) as PyGlobal[]
    expect(back[299]!.name).toBe('g299')
    expect(back[599]).toBe(back[299])
  })

  it('fills a called object with SETITEMS and writes persistent ids', () => {
    const value = py.call(
      py.global('collections', 'OrderedDict'),
      [],
      [[py.str('w'), py.persistentId(py.tuple([py.str('storage'), py.str('0')]))]],
    )
    const back = unpickle(pickle(value)) as PyCall
    expect(back.items.get('w')).toEqual(new PyPersistentId(new PyTuple(['storage', '0'])))
  })
})
