import { crc32 as nodeCrc32 } from 'node:zlib'
import { beforeAll, describe, expect, it } from 'vitest'
import { exportModel } from '../../src/export/index.ts'
import { weightsForExport } from '../../src/export/export-weights.ts'
import type { MlpWeights } from '../../src/nn/mlp-weights.ts'
import { forwardMlp } from '../support/mlp-forward.ts'
import { argmaxRows, maxAbsDifference } from '../support/array-compare.ts'
import { predictTrained, trainMnistFixture, type MnistFixture } from '../support/mnist-trained-model.ts'
import { PyCall, PyGlobal, PyPersistentId, PyTuple, unpickle } from '../support/unpickle.ts'
import { readZip, type ZipRecord } from '../support/zip-reader.ts'

describe('PyTorch .pt export (torch.save of a state dict)', () => {
  let fixture: MnistFixture
  let folded: MlpWeights
  let records: ZipRecord[]
  let bytes: Uint8Array

  beforeAll(async () => {
    fixture = await trainMnistFixture({ epochs: 1 })
    folded = weightsForExport(fixture.trained)
    const artifact = await exportModel(fixture.trained, 'pt')
    expect(artifact.files.map((f) => [f.name, f.contentType])).toEqual([['model.pt', 'application/zip']])
    bytes = artifact.files[0]!.bytes
    records = readZip(bytes)
  })

  const record = (name: string) => {
    const found = records.find((r) => r.name === name)
    if (found === undefined) throw new Error(`no record ${name} in ${records.map((r) => r.name).join(', ')}`)
    return found
  }

  it('is a zip with the records torch.load looks for, named under one archive folder', () => {
    expect(Array.from(bytes.subarray(0, 4))).toEqual([0x50, 0x4b, 0x03, 0x04])
    expect(records.map((r) => r.name)).toEqual([
      'model/data.pkl',
      'model/byteorder',
      'model/data/0',
      'model/data/1',
      'model/data/2',
      'model/data/3',
      'model/version',
      'model/.data/serialization_id',
    ])
    expect(new TextDecoder().decode(record('model/byteorder').data)).toBe('little')
    expect(new TextDecoder().decode(record('model/version').data)).toBe('3\n')
    expect(new TextDecoder().decode(record('model/.data/serialization_id').data)).toMatch(/^\d{40}$/)
  })

  it('stores every record uncompressed with a valid CRC-32', () => {
    for (const r of records) {
      expect(r.method, r.name).toBe(0)
      expect(r.crc32, r.name).toBe(nodeCrc32(r.data))
    }
  })

  it("aligns every payload to 64 bytes with PyTorch's 'FB' extra-field padding", () => {
    for (const r of records) {
      expect(r.dataOffset % 64, r.name).toBe(0)
      expect(String.fromCharCode(r.localExtra[0]!, r.localExtra[1]!)).toBe('FB')
      expect(r.localExtra[2]! | (r.localExtra[3]! << 8)).toBe(r.localExtra.length - 4)
    }
  })

  it('pickles an OrderedDict of _rebuild_tensor_v2 calls over FloatStorage records', () => {
    const stateDict = unpickle(record('model/data.pkl').data)
    expect(stateDict).toBeInstanceOf(PyCall)
    const call = stateDict as PyCall
    expect((call.callable as PyGlobal).qualifiedName).toBe('collections.OrderedDict')
    expect(call.args).toEqual([])
    expect([...call.items.keys()]).toEqual(['dense.weight', 'dense.bias', 'dense_1.weight', 'dense_1.bias'])

    const expectedTensors = folded.layers.flatMap((layer) => [
      { shape: [layer.units, layer.inputs], stride: [layer.inputs, 1] },
      { shape: [layer.units], stride: [1] },
    ])
    ;[...call.items.values()].forEach((value, index) => {
      const tensor = value as PyCall
      expect((tensor.callable as PyGlobal).qualifiedName).toBe('torch._utils._rebuild_tensor_v2')
      const [storage, offset, shape, stride, requiresGrad, hooks] = tensor.args
      const { shape: expectedShape, stride: expectedStride } = expectedTensors[index]!
      const numel = expectedShape.reduce((a, b) => a * b, 1)
      expect(storage).toBeInstanceOf(PyPersistentId)
      const id = ((storage as PyPersistentId).id as PyTuple).items
      expect(id[0]).toBe('storage')
      expect((id[1] as PyGlobal).qualifiedName).toBe('torch.FloatStorage')
      expect(id.slice(2)).toEqual([String(index), 'cpu', BigInt(numel)])
      expect(offset).toBe(0n)
      expect((shape as PyTuple).items).toEqual(expectedShape.map(BigInt))
      expect((stride as PyTuple).items).toEqual(expectedStride.map(BigInt))
      expect(requiresGrad).toBe(false)
      expect(((hooks as PyCall).callable as PyGlobal).qualifiedName).toBe('collections.OrderedDict')
    })
  })

  it('stores weight as the TRANSPOSED kernel [units, inputs] and bias as is, float32 little-endian', () => {
    folded.layers.forEach((layer, l) => {
      const weight = float32s(record(`model/data/${2 * l}`).data)
      const bias = float32s(record(`model/data/${2 * l + 1}`).data)
      expect(weight.length).toBe(layer.inputs * layer.units)
      for (let i = 0; i < layer.inputs; i++) {
        for (let j = 0; j < layer.units; j++) {
          if (weight[j * layer.inputs + i] !== layer.kernel[i * layer.units + j]) {
            throw new Error(`${layer.name}.weight[${j}, ${i}] differs from kernel[${i}, ${j}]`)
          }
        }
      }
      expect(bias).toEqual(layer.bias)
    })
  })

  it('as nn.Linear(784, 32) → ReLU → nn.Linear(32, 10) → Softmax, predicts like the trained model on RAW digits', () => {
    // What a PyTorch user does: x @ weight.T + bias per layer, our activations in between.
    const linear = (layer: number, inputs: number, units: number) => {
      const weight = float32s(record(`model/data/${2 * layer}`).data) // [units, inputs]
      const kernel = new Float32Array(inputs * units)
      for (let j = 0; j < units; j++)
        for (let i = 0; i < inputs; i++) kernel[i * units + j] = weight[j * inputs + i]!
      return {
        name: `layer${layer}`,
        inputs,
        units,
        kernel,
        bias: float32s(record(`model/data/${2 * layer + 1}`).data),
      }
    }
    const network: MlpWeights = {
      inputSize: 784,
      layers: [
        { ...linear(0, 784, 32), activation: 'relu' },
        { ...linear(1, 32, 10), activation: 'softmax' },
      ],
    }
    const actual = forwardMlp(network, fixture.test.raw, fixture.test.count)
    const expected = predictTrained(fixture)
    expect(argmaxRows(actual, 10)).toEqual(argmaxRows(expected, 10))
    expect(maxAbsDifference(actual, expected)).toBeLessThan(1e-4)
  })
})

function float32s(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return Float32Array.from({ length: bytes.length / 4 }, (_, i) => view.getFloat32(i * 4, true))
}
