import { contentId } from '@oblivion/model/content-id'
import { describe, expect, it } from 'vitest'
import { artifactKey, modelDownloads } from '../../lib/jobs/model-artifacts.ts'

const file = (name: string, format: string) => ({ name, path: `jobs/j/model/${format}/${name}`, cid: 'bafkrei…', bytes: 10, contentType: 'application/octet-stream' })

describe('the download menu of a model', () => {
  it('lists the formats in a fixed order with their labels and files', () => {
    const menu = modelDownloads({
      pkl: { files: [file('model.pkl', 'pkl')] },
      tfjs: { files: [file('model.json', 'tfjs'), file('weights.bin', 'tfjs')] },
      onnx: { files: [file('model.onnx', 'onnx')] },
      h5: { files: [file('model.h5', 'h5')] },
      pt: { files: [file('model.pt', 'pt')] },
    })
    expect(menu.map((m) => m.format)).toEqual(['tfjs', 'onnx', 'h5', 'pt', 'pkl'])
    expect(menu[0]).toMatchObject({ label: 'TensorFlow.js', files: [{ name: 'model.json' }, { name: 'weights.bin' }] })
    expect(menu.map((m) => m.label)).toEqual(['TensorFlow.js', 'ONNX', 'Keras HDF5', 'PyTorch', 'Python pickle'])
  })

  it('leaves out files whose name could leave the download folder, and formats without files', () => {
    const menu = modelDownloads({ onnx: { files: [file('../evil', 'onnx'), { name: 'x.onnx' }] }, h5: { files: [] }, pt: {} })
    expect(menu).toEqual([])
    expect(modelDownloads(null)).toEqual([])
  })

  it('reads keys relative to the artifacts bucket', () => {
    expect(artifactKey('artifacts/jobs/j/model/onnx/model.onnx')).toBe('jobs/j/model/onnx/model.onnx')
    expect(artifactKey('jobs/j/model/onnx/model.onnx')).toBe('jobs/j/model/onnx/model.onnx')
  })

  it('checks downloads with the CIDv1 the coordinator published', async () => {
    const cid = await contentId(new TextEncoder().encode('hello'))
    expect(cid).toMatch(/^bafkrei[a-z2-7]{52}$/)
  })
})
