/**
 * A test-side Python unpickler for the opcodes our writer may emit (and the usual protocol-2
 * neighbours), written from pickletools' opcode table rather than from our writer, so that
 * the two can disagree. Python values map to JS so that a test can tell them apart:
 * int → bigint, float → number, str → string, None → null, bool → boolean, list → array,
 * tuple → PyTuple, dict → Map. Nothing is executed: a GLOBAL becomes a PyGlobal, REDUCE a
 * PyCall (which records SETITEMS applied to it, as an OrderedDict gets them), BINPERSID a
 * PyPersistentId.
 */
export class PyTuple {
  constructor(readonly items: unknown[]) {}
}
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualifiedName(): string {
    return `${this.module}.${this.name}`
  }
}
export class PyCall {
  readonly items = new Map<unknown, unknown>()
  constructor(
    readonly callable: unknown,
    readonly args: unknown[],
  ) {}
}
export class PyPersistentId {
  constructor(readonly id: unknown) {}
}

const MARK = Symbol('mark')

/** Opcode values from CPython's Lib/pickletools.py. */
const OP = {
  PROTO: 0x80,
  STOP: 0x2e,
  MARK: 0x28,
  NONE: 0x4e,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  BININT1: 0x4b,
  BININT2: 0x4d,
  BININT: 0x4a,
  LONG1: 0x8a,
  BINFLOAT: 0x47,
  BINUNICODE: 0x58,
  EMPTY_LIST: 0x5d,
  APPEND: 0x61,
  APPENDS: 0x65,
  EMPTY_TUPLE: 0x29,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  TUPLE: 0x74,
  EMPTY_DICT: 0x7d,
  SETITEM: 0x73,
  SETITEMS: 0x75,
  GLOBAL: 0x63,
  REDUCE: 0x52,
  BINPERSID: 0x51,
  BINPUT: 0x71,
  LONG_BINPUT: 0x72,
  BINGET: 0x68,
  LONG_BINGET: 0x6a,
} as const

export function unpickle(bytes: Uint8Array): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const stack: unknown[] = []
  const memo = new Map<number, unknown>()
  let at = 0

  const advance = (n: number) => ((at += n), at - n)
  const u8 = () => bytes[advance(1)]!
  const u16 = () => view.getUint16(advance(2), true)
  const u32 = () => view.getUint32(advance(4), true)
  const i32 = () => view.getInt32(advance(4), true)
  const f64BigEndian = () => view.getFloat64(advance(8), false)
  const take = (n: number) => bytes.subarray(advance(n), at)
  const utf8 = (b: Uint8Array) => new TextDecoder('utf-8', { fatal: true }).decode(b)
  const line = () => {
    const end = bytes.indexOf(0x0a, at)
    if (end < 0) throw new Error(`unterminated line at byte ${at}`)
    return utf8(take(end - at + 1).subarray(0, -1))
  }
  const top = () => stack[stack.length - 1]
  const pop = () => {
    if (stack.length === 0) throw new Error(`stack underflow at byte ${at}`)
    return stack.pop()
  }
  const popToMark = () => {
    const mark = stack.lastIndexOf(MARK)
    if (mark < 0) throw new Error(`no MARK before byte ${at}`)
    return stack.splice(mark).slice(1)
  }
  const setItems = (target: unknown, items: unknown[]) => {
    const map = target instanceof Map ? target : target instanceof PyCall ? target.items : null
    if (map === null) throw new Error(`SETITEMS on a non-dict at byte ${at}`)
    for (let i = 0; i < items.length; i += 2) map.set(items[i], items[i + 1])
  }
  const appendTo = (target: unknown, items: unknown[]) => {
    if (!Array.isArray(target)) throw new Error(`APPENDS to a non-list at byte ${at}`)
    for (const item of items) target.push(item)
  }

  for (;;) {
    const op = u8()
    switch (op) {
      case OP.PROTO: {
        const protocol = u8()
        if (protocol > 2) throw new Error(`protocol ${protocol} is newer than this reader`)
        break
      }
      case OP.STOP:
        if (stack.length !== 1) throw new Error(`STOP with ${stack.length} values on the stack`)
        if (at !== bytes.length) throw new Error(`${bytes.length - at} bytes after STOP`)
        return stack[0]
      case OP.MARK:
        stack.push(MARK)
        break
      case OP.NONE:
        stack.push(null)
        break
      case OP.NEWTRUE:
        stack.push(true)
        break
      case OP.NEWFALSE:
        stack.push(false)
        break
      case OP.BININT1:
        stack.push(BigInt(u8()))
        break
      case OP.BININT2:
        stack.push(BigInt(u16()))
        break
      case OP.BININT:
        stack.push(BigInt(i32()))
        break
      case OP.LONG1:
        stack.push(twosComplementLittleEndian(take(u8())))
        break
      case OP.BINFLOAT:
        stack.push(f64BigEndian())
        break
      case OP.BINUNICODE:
        stack.push(utf8(take(u32())))
        break
      case OP.EMPTY_LIST:
        stack.push([])
        break
      case OP.APPEND: {
        const item = pop()
        appendTo(top(), [item])
        break
      }
      case OP.APPENDS: {
        const items = popToMark()
        appendTo(top(), items)
        break
      }
      case OP.EMPTY_TUPLE:
        stack.push(new PyTuple([]))
        break
      case OP.TUPLE1:
      case OP.TUPLE2:
      case OP.TUPLE3: {
        const size = op - OP.TUPLE1 + 1
        if (stack.length < size) throw new Error(`stack underflow at byte ${at}`)
        stack.push(new PyTuple(stack.splice(stack.length - size)))
        break
      }
      case OP.TUPLE:
        stack.push(new PyTuple(popToMark()))
        break
      case OP.EMPTY_DICT:
        stack.push(new Map())
        break
      case OP.SETITEM: {
        const value = pop()
        const key = pop()
        setItems(top(), [key, value])
        break
      }
      case OP.SETITEMS: {
        const items = popToMark()
        setItems(top(), items)
        break
      }
      case OP.GLOBAL: {
        const module = line()
        stack.push(new PyGlobal(module, line()))
        break
      }
      case OP.REDUCE: {
        const args = pop()
        if (!(args instanceof PyTuple)) throw new Error(`REDUCE with non-tuple arguments at byte ${at}`)
        stack.push(new PyCall(pop(), args.items))
        break
      }
      case OP.BINPERSID:
        stack.push(new PyPersistentId(pop()))
        break
      case OP.BINPUT:
        memo.set(u8(), top())
        break
      case OP.LONG_BINPUT:
        memo.set(u32(), top())
        break
      case OP.BINGET:
        stack.push(recall(u8()))
        break
      case OP.LONG_BINGET:
        stack.push(recall(u32()))
        break
      default:
        throw new Error(`unsupported opcode 0x${op.toString(16)} at byte ${at - 1}`)
    }
  }

  function recall(index: number): unknown {
    if (!memo.has(index)) throw new Error(`memo ${index} read before it was written`)
    return memo.get(index)
  }
}

/** LONG1's payload: two's complement, little-endian; no bytes means 0. */
function twosComplementLittleEndian(digits: Uint8Array): bigint {
  let n = 0n
  for (let i = digits.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(digits[i]!)
  const negative = digits.length > 0 && digits[digits.length - 1]! >= 0x80
  return negative ? n - (1n << BigInt(8 * digits.length)) : n
}
