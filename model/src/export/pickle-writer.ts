/**
 * A small Python pickle writer, protocol 2 (readable by every Python since 2.3 and by
 * torch.load). It writes a tiny value model rather than arbitrary JS values because pickle
 * distinguishes what JS does not: int vs float, list vs tuple, and calls of Python callables.
 */

export type PyValue =
  | { kind: 'none' }
  | { kind: 'bool'; value: boolean }
  | { kind: 'int'; value: number | bigint }
  | { kind: 'float'; value: number }
  | { kind: 'str'; value: string }
  | { kind: 'list'; items: PyValue[] }
  | { kind: 'tuple'; items: PyValue[] }
  | { kind: 'dict'; entries: [PyValue, PyValue][] }
  /** A module attribute, e.g. `collections.OrderedDict` (pickled by reference, not by value). */
  | { kind: 'global'; module: string; name: string }
  /** `callable(*args)`, evaluated by the unpickler: how OrderedDicts and tensors are rebuilt. */
  | { kind: 'call'; callable: PyValue; args: PyValue[]; setItems?: [PyValue, PyValue][] }
  /** Resolved by the unpickler's `persistent_load`: torch's reference to a storage record. */
  | { kind: 'persistentId'; id: PyValue }

/** Constructors, so that a pickled structure reads like the Python it stands for. */
export const py = {
  none: { kind: 'none' } as PyValue,
  bool: (value: boolean): PyValue => ({ kind: 'bool', value }),
  int: (value: number | bigint): PyValue => ({ kind: 'int', value }),
  float: (value: number): PyValue => ({ kind: 'float', value }),
  str: (value: string): PyValue => ({ kind: 'str', value }),
  list: (items: PyValue[]): PyValue => ({ kind: 'list', items }),
  tuple: (items: PyValue[]): PyValue => ({ kind: 'tuple', items }),
  /** A dict with string keys, in insertion order (Python dicts keep it too). */
  dict: (entries: Record<string, PyValue>): PyValue => ({
    kind: 'dict',
    entries: Object.entries(entries).map(([k, v]) => [py.str(k), v]),
  }),
  global: (module: string, name: string): PyValue => ({ kind: 'global', module, name }),
  call: (callable: PyValue, args: PyValue[], setItems?: [PyValue, PyValue][]): PyValue =>
    setItems === undefined ? { kind: 'call', callable, args } : { kind: 'call', callable, args, setItems },
  persistentId: (id: PyValue): PyValue => ({ kind: 'persistentId', id }),
  /** float32 values as Python floats (float64, so each value is kept exactly). */
  floats: (values: ArrayLike<number>): PyValue => py.list(Array.from(values, (v) => py.float(v))),
}

// Opcodes (Lib/pickletools.py); the ones protocol 2 adds are marked.
const OP = {
  PROTO: 0x80, // 2
  STOP: 0x2e, // .
  MARK: 0x28, // (
  NONE: 0x4e, // N
  NEWTRUE: 0x88, // 2
  NEWFALSE: 0x89, // 2
  BININT: 0x4a, // J  signed 32-bit
  BININT1: 0x4b, // K  unsigned 8-bit
  LONG1: 0x8a, // 2  two's complement, little-endian, length in one byte
  BINFLOAT: 0x47, // G  float64 big-endian
  BINUNICODE: 0x58, // X  u32 length + UTF-8
  EMPTY_LIST: 0x5d, // ]
  APPENDS: 0x65, // e
  EMPTY_TUPLE: 0x29, // )
  TUPLE: 0x74, // t
  TUPLE1: 0x85, // 2
  TUPLE2: 0x86, // 2
  TUPLE3: 0x87, // 2
  EMPTY_DICT: 0x7d, // }
  SETITEMS: 0x75, // u
  GLOBAL: 0x63, // c  "module\nname\n"
  REDUCE: 0x52, // R
  BINPERSID: 0x51, // Q
  BINPUT: 0x71, // q  memo index < 256
  LONG_BINPUT: 0x72, // r
  BINGET: 0x68, // h
  LONG_BINGET: 0x6a, // j
} as const

/** Pickles `value` with protocol 2. Globals are memoised (one GLOBAL, then BINGETs): a state
 *  dict names `_rebuild_tensor_v2` and `FloatStorage` once per tensor. Nothing else is. */
export function pickle(value: PyValue): Uint8Array {
  const out = new ByteWriter()
  const memo = new Map<string, number>()
  out.byte(OP.PROTO, 2)
  write(value)
  out.byte(OP.STOP)
  return out.finish()

  function write(v: PyValue): void {
    switch (v.kind) {
      case 'none':
        return out.byte(OP.NONE)
      case 'bool':
        return out.byte(v.value ? OP.NEWTRUE : OP.NEWFALSE)
      case 'int':
        return writeInt(v.value)
      case 'float':
        out.byte(OP.BINFLOAT)
        return out.float64BigEndian(v.value)
      case 'str': {
        const utf8 = new TextEncoder().encode(v.value)
        out.byte(OP.BINUNICODE)
        out.uint32(utf8.length)
        return out.bytes(utf8)
      }
      case 'list':
        out.byte(OP.EMPTY_LIST)
        if (v.items.length === 0) return
        out.byte(OP.MARK)
        v.items.forEach(write)
        return out.byte(OP.APPENDS)
      case 'tuple':
        return writeTuple(v.items)
      case 'dict':
        out.byte(OP.EMPTY_DICT)
        return writeSetItems(v.entries)
      case 'global':
        return writeGlobal(v.module, v.name)
      case 'call':
        write(v.callable)
        writeTuple(v.args)
        out.byte(OP.REDUCE)
        // SETITEMS on the result: how pickle fills an OrderedDict after creating it empty.
        return writeSetItems(v.setItems ?? [])
      case 'persistentId':
        write(v.id)
        return out.byte(OP.BINPERSID)
    }
  }

  function writeInt(n: number | bigint): void {
    if (typeof n === 'number' && !Number.isSafeInteger(n)) {
      throw new Error(`cannot pickle ${n} as a Python int: it is not a safe integer`)
    }
    if (n >= 0 && n < 256) return out.byte(OP.BININT1, Number(n))
    if (n >= -0x80000000 && n <= 0x7fffffff) {
      out.byte(OP.BININT)
      return out.int32(Number(n))
    }
    const bytes = twosComplementLittleEndian(BigInt(n))
    out.byte(OP.LONG1, bytes.length)
    out.bytes(bytes)
  }

  function writeTuple(items: PyValue[]): void {
    const small = [OP.EMPTY_TUPLE, OP.TUPLE1, OP.TUPLE2, OP.TUPLE3][items.length]
    if (small !== undefined) {
      items.forEach(write)
      return out.byte(small)
    }
    out.byte(OP.MARK)
    items.forEach(write)
    out.byte(OP.TUPLE)
  }

  function writeSetItems(entries: [PyValue, PyValue][]): void {
    if (entries.length === 0) return
    out.byte(OP.MARK)
    for (const [key, item] of entries) {
      write(key)
      write(item)
    }
    out.byte(OP.SETITEMS)
  }

  function writeGlobal(module: string, name: string): void {
    const key = `${module}\n${name}\n`
    const index = memo.get(key)
    if (index !== undefined) {
      if (index < 256) return out.byte(OP.BINGET, index)
      out.byte(OP.LONG_BINGET)
      return out.uint32(index)
    }
    out.byte(OP.GLOBAL)
    out.bytes(new TextEncoder().encode(key))
    const slot = memo.size
    memo.set(key, slot)
    if (slot < 256) return out.byte(OP.BINPUT, slot)
    out.byte(OP.LONG_BINPUT)
    out.uint32(slot)
  }
}

/** Python's LONG1 payload: the shortest two's complement little-endian bytes holding n. */
function twosComplementLittleEndian(n: bigint): Uint8Array {
  const bytes: number[] = []
  let rest = n
  for (;;) {
    const byte = Number(rest & 0xffn)
    bytes.push(byte)
    rest >>= 8n
    // Done when the remaining bits are pure sign extension of the byte just written.
    if ((rest === 0n && byte < 0x80) || (rest === -1n && byte >= 0x80)) break
  }
  return Uint8Array.from(bytes)
}

/** An append-only byte buffer that doubles its capacity as it grows. */
class ByteWriter {
  private buffer = new Uint8Array(1024)
  private view = new DataView(this.buffer.buffer)
  private length = 0

  byte(...values: number[]): void {
    this.reserve(values.length)
    for (const v of values) this.buffer[this.length++] = v
  }

  bytes(values: Uint8Array): void {
    this.reserve(values.length)
    this.buffer.set(values, this.length)
    this.length += values.length
  }

  uint32(value: number): void {
    this.reserve(4)
    this.view.setUint32(this.length, value, true)
    this.length += 4
  }

  int32(value: number): void {
    this.reserve(4)
    this.view.setInt32(this.length, value, true)
    this.length += 4
  }

  float64BigEndian(value: number): void {
    this.reserve(8)
    this.view.setFloat64(this.length, value, false)
    this.length += 8
  }

  finish(): Uint8Array {
    return this.buffer.slice(0, this.length)
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.buffer.length) return
    let capacity = this.buffer.length * 2
    while (capacity < this.length + extra) capacity *= 2
    const grown = new Uint8Array(capacity)
    grown.set(this.buffer.subarray(0, this.length))
    this.buffer = grown
    this.view = new DataView(grown.buffer)
  }
}
