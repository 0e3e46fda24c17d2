import { describe, expect, it } from 'vitest'
import { loadDataset, type DatasetObjectReader } from '../../src/data/load-dataset.ts'
import { DatasetError } from '../../src/data/dataset-error.ts'
import { loadBuiltinDataset } from '../../src/data/builtin-datasets.ts'
import type { DatasetSpec } from '../../src/spec/job-spec.ts'

/** Storage with one object, `datasets/flowers.csv`, holding `bytes`. */
function storage(bytes: Uint8Array): DatasetObjectReader & { reads: string[] } {
  const reads: string[] = []
  return {
    reads,
    async readObject(bucket, path) {
      reads.push(`${bucket}/${path}`)
      if (bucket === 'datasets' && path === 'flowers.csv') return bytes
      throw new Error('Object not found')
    },
  }
}

const flowers: DatasetSpec = { source: 'csv', bucket: 'datasets', path: 'flowers.csv', featureColumns: ['länge'], labelColumn: 'art' }

async function rejection(promise: Promise<unknown>): Promise<DatasetError> {
  const error = await promise.then(
    () => undefined,
    (error: unknown) => error,
  )
  if (error instanceof DatasetError) return error
  throw new Error(`expected a DatasetError, got ${String(error)}`)
}

describe('loadDataset', () => {
  it('loads a built-in data set without touching storage', async () => {
    const io = storage(new Uint8Array())
    const iris = await loadDataset({ source: 'builtin', name: 'iris' }, io)
    expect(iris).toBe(await loadBuiltinDataset('iris'))
    expect(io.reads).toEqual([])
  })

  it('reads a CSV object as UTF-8, dropping the byte order mark Excel writes', async () => {
    const bytes = new TextEncoder().encode('\uFEFFlänge,art\r\n1.5,Rose\r\n2.5,Tulpe\r\n')
    expect(bytes.subarray(0, 3)).toEqual(new Uint8Array([0xef, 0xbb, 0xbf]))
    const io = storage(bytes)
    const dataset = await loadDataset(flowers, io)
    expect(io.reads).toEqual(['datasets/flowers.csv'])
    expect(dataset.featureNames).toEqual(['länge'])
    expect(dataset.classNames).toEqual(['Rose', 'Tulpe'])
    expect(Array.from(dataset.features)).toEqual([1.5, 2.5])
  })

  it('says which object it could not read, keeping the cause', async () => {
    const error = await rejection(loadDataset({ ...flowers, path: 'missing.csv' }, storage(new Uint8Array())))
    expect(error.code).toBe('OB040')
    expect(error.message).toBe(
      'Could not read the CSV object datasets/missing.csv: Object not found. Check that the file was uploaded to that bucket and path and that this worker may read it.',
    )
    expect((error.cause as Error).message).toBe('Object not found')
  })

  it('rejects bytes that are not UTF-8', async () => {
    const latin1 = new Uint8Array([0x6c, 0xe4, 0x6e, 0x67, 0x65, 0x2c, 0x61, 0x72, 0x74, 0x0a])
    const error = await rejection(loadDataset(flowers, storage(latin1)))
    expect(error.code).toBe('OB041')
    expect(error.message).toMatch(/datasets\/flowers.csv is not valid UTF-8 text. Save it as "CSV UTF-8"/)
  })

  it('prefixes parse errors with the object, keeping code and location', async () => {
    const error = await rejection(loadDataset(flowers, storage(new TextEncoder().encode('länge,art\n1,a\nzwei,b\n'))))
    expect(error.code).toBe('OB043')
    expect(error.message).toMatch(/^datasets\/flowers.csv: Line 3, column "länge": "zwei" is not a number/)
    expect(error.location).toEqual({ line: 3, column: 'länge' })
  })

  it('names the known built-ins when the spec asks for another', async () => {
    const spec = { source: 'builtin', name: 'cifar10' } as unknown as DatasetSpec
    const error = await rejection(loadDataset(spec, storage(new Uint8Array())))
    expect(error.code).toBe('OB047')
    expect(error.message).toBe('There is no built-in data set "cifar10". Use one of mnist, mnist-14x14, iris, penguins, or upload a CSV.')
  })
})
