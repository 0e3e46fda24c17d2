/**
 * Phoenix channel frames as realtime-js 2.x speaks them (serializer vsn 2.0.0):
 * text frames are JSON arrays `[join_ref, ref, topic, event, payload]`; `channel.send()` of a
 * broadcast arrives as a BINARY "user broadcast push" (kind 3):
 *   u8 kind=3, u8 joinRefLen, u8 refLen, u8 topicLen, u8 eventLen, u8 metaLen, u8 encoding
 *   (0 binary, 1 JSON), then joinRef, ref, topic, event, meta (JSON or empty), payload.
 * We always answer with JSON text frames, which the client decodes whatever the event.
 */
export interface Frame {
  joinRef: string | null
  ref: string | null
  topic: string
  event: string
  payload: unknown
}

export class FrameError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'FrameError'
  }
}

const USER_BROADCAST_PUSH = 3
const JSON_ENCODING = 1
const HEADER_BYTES = 7

const nullableString = (value: unknown) => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : null)

export function decodeTextFrame(text: string): Frame {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new FrameError('frame is not JSON: expected [join_ref, ref, topic, event, payload]')
  }
  if (!Array.isArray(parsed) || parsed.length !== 5) {
    throw new FrameError('frame is not a 5-element array [join_ref, ref, topic, event, payload]')
  }
  const [joinRef, ref, topic, event, payload] = parsed as unknown[]
  if (typeof topic !== 'string' || typeof event !== 'string') {
    throw new FrameError('frame topic and event must be strings')
  }
  return { joinRef: nullableString(joinRef), ref: nullableString(ref), topic, event, payload }
}

/** A binary user broadcast push, as `{type:'broadcast', event, payload}` like its JSON form. */
export function decodeBinaryFrame(data: Buffer): Frame {
  if (data.length < HEADER_BYTES || data[0] !== USER_BROADCAST_PUSH) {
    throw new FrameError(`binary frame of kind ${data[0] ?? 'none'} is not supported (only user broadcast pushes, kind 3)`)
  }
  const [joinRefLen, refLen, topicLen, eventLen, metaLen, encoding] = [data[1]!, data[2]!, data[3]!, data[4]!, data[5]!, data[6]!]
  let offset = HEADER_BYTES
  const take = (length: number) => {
    if (offset + length > data.length) throw new FrameError('binary frame is shorter than its header says')
    const part = data.subarray(offset, offset + length)
    offset += length
    return part.toString('utf8')
  }
  const joinRef = take(joinRefLen)
  const ref = take(refLen)
  const topic = take(topicLen)
  const event = take(eventLen)
  take(metaLen) // metadata (`persist`): broadcasts are not stored locally
  const body = data.subarray(offset)
  let payload: unknown
  if (encoding === JSON_ENCODING) {
    try {
      payload = JSON.parse(body.toString('utf8'))
    } catch {
      throw new FrameError('binary broadcast payload is not JSON')
    }
  } else {
    // Binary user payloads cannot travel in our JSON replies; refuse rather than corrupt them.
    throw new FrameError('binary broadcast payloads are not supported by the local gateway; send JSON')
  }
  return {
    joinRef: joinRef || null,
    ref: ref || null,
    topic,
    event: 'broadcast',
    payload: { type: 'broadcast', event, payload },
  }
}

export function encodeFrame(frame: Frame): string {
  return JSON.stringify([frame.joinRef, frame.ref, frame.topic, frame.event, frame.payload])
}
