import type { DenseLayerWeights, TrainedModel } from '../nn/mlp-weights.ts'
import { weightsForExport } from './export-weights.ts'
import { float32LittleEndian } from './float32-bytes.ts'
import { pickle, py, type PyValue } from './pickle-writer.ts'
import { createStoredZip, crc32, type ZipEntry } from './zip-writer.ts'

/** torch.save names the records' folder after the file's stem: `model.pt` → `model/`. */
const ARCHIVE = 'model'
/** PyTorch's writer starts every record on a 64-byte boundary so storages can be mmapped. */
const RECORD_ALIGNMENT = 64
/** The zip checkpoint format version torch.save has written since 1.6. */
const FORMAT_VERSION = '3\n'

/**
 * A PyTorch checkpoint as `torch.save(net.state_dict(), 'model.pt')` writes it. Keys are
 * `<layer name>.weight` ([units, inputs]: nn.Linear's layout, the TRANSPOSE of our kernel) and
 * `<layer name>.bias`, so it loads straight into (checked with PyTorch 1.13)
 *
 *   net = nn.Sequential(OrderedDict([('dense', nn.Linear(784, 32)), ('relu', nn.ReLU()),
 *                                    ('dense_1', nn.Linear(32, 10)), ('softmax', nn.Softmax(-1))]))
 *   net.load_state_dict(torch.load('model.pt', weights_only=True))
 *
 * `weights_only=True` works because only allow-listed globals appear (OrderedDict,
 * _rebuild_tensor_v2, FloatStorage). A state dict holds no activations: the architecture is in
 * the other formats (the .pkl export states each layer's activation next to its weights).
 */
export function exportTorchPt(model: TrainedModel): Uint8Array {
  const weights = weightsForExport(model)
  const storages: Float32Array[] = []
  const stateDict: [PyValue, PyValue][] = []
  for (const layer of weights.layers) {
    stateDict.push([
      py.str(`${layer.name}.weight`),
      tensor(transposedKernel(layer), [layer.units, layer.inputs]),
    ])
    stateDict.push([py.str(`${layer.name}.bias`), tensor(layer.bias, [layer.units])])
  }

  /** `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)`,
   *  the storage being the persistent id `('storage', FloatStorage, key, 'cpu', numel)`
   *  that torch.load resolves to the record `data/<key>`. */
  function tensor(values: Float32Array, shape: number[]): PyValue {
    const key = String(storages.length)
    storages.push(values)
    const storage = py.persistentId(
      py.tuple([
        py.str('storage'),
        py.global('torch', 'FloatStorage'),
        py.str(key),
        py.str('cpu'),
        py.int(values.length),
      ]),
    )
    return py.call(py.global('torch._utils', '_rebuild_tensor_v2'), [
      storage,
      py.int(0),
      py.tuple(shape.map((n) => py.int(n))),
      py.tuple(contiguousStrides(shape).map((n) => py.int(n))),
      py.bool(false),
      orderedDict([]), // backward hooks: none
    ])
  }

  const dataPkl = pickle(orderedDict(stateDict))
  const records: ZipEntry[] = [
    { name: `${ARCHIVE}/data.pkl`, data: dataPkl },
    { name: `${ARCHIVE}/byteorder`, data: ascii('little') },
    ...storages.map((values, i) => ({ name: `${ARCHIVE}/data/${i}`, data: float32LittleEndian(values) })),
    { name: `${ARCHIVE}/version`, data: ascii(FORMAT_VERSION) },
  ]
  records.push({ name: `${ARCHIVE}/.data/serialization_id`, data: ascii(serializationId(records)) })
  return createStoredZip(records, { alignment: RECORD_ALIGNMENT })
}

function orderedDict(entries: [PyValue, PyValue][]): PyValue {
  return py.call(py.global('collections', 'OrderedDict'), [], entries)
}

/** nn.Linear.weight is [units, inputs]; our kernel is [inputs, units]. */
function transposedKernel(layer: DenseLayerWeights): Float32Array {
  const { inputs, units, kernel } = layer
  const weight = new Float32Array(inputs * units)
  for (let i = 0; i < inputs; i++) {
    for (let j = 0; j < units; j++) weight[j * inputs + i] = kernel[i * units + j]!
  }
  return weight
}

/** Row-major (C-contiguous) strides in elements: [4, 3] → [3, 1]. */
function contiguousStrides(shape: number[]): number[] {
  const strides = new Array<number>(shape.length)
  let step = 1
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = step
    step *= shape[d]!
  }
  return strides
}

/** torch writes a decimal id derived from the records' contents; torch.load does not check it.
 *  Ours is a function of the contents too (CRC-32s), so one model always gives the same file. */
function serializationId(records: ZipEntry[]): string {
  return records
    .map((r) => String(crc32(r.data)).padStart(10, '0'))
    .join('')
    .slice(0, 40)
    .padEnd(40, '0')
}

function ascii(text: string): Uint8Array {
  return new TextEncoder().encode(text)
}
