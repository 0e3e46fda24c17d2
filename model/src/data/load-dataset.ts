import type { DatasetSpec } from '../spec/job-spec.ts'
import type { Dataset } from './dataset.ts'
import { DatasetError, datasetErrorCodes } from './dataset-error.ts'
import { builtinDatasetNames, loadBuiltinDataset } from './builtin-datasets.ts'
import { parseCsvDataset } from './csv-dataset.ts'

/** Where CSV objects come from: Supabase Storage through the gateway, or a fake in tests. */
export interface DatasetObjectReader {
  readObject(bucket: string, path: string): Promise<Uint8Array>
}

/**
 * 500 MiB: V8's longest string is 2^29 − 24 UTF-16 units (about 512 Mi), so a larger UTF-8 file
 * could not be decoded into one string anyway; failing first gives a message instead of a
 * RangeError.
 */
export const maxCsvBytes = 500 * 1024 * 1024

/** The data set a job spec names: a built-in one, or a CSV object read through `io`. */
export async function loadDataset(spec: DatasetSpec, io: DatasetObjectReader): Promise<Dataset> {
  if (spec.source === 'builtin') {
    if (!builtinDatasetNames.includes(spec.name)) {
      throw new DatasetError(
        datasetErrorCodes.unknownDataset,
        `There is no built-in data set "${String(spec.name)}". Use one of ${builtinDatasetNames.join(', ')}, or upload a CSV.`,
      )
    }
    return loadBuiltinDataset(spec.name)
  }
  const where = `${spec.bucket}/${spec.path}`
  let bytes: Uint8Array
  try {
    bytes = await io.readObject(spec.bucket, spec.path)
  } catch (cause) {
    throw new DatasetError(
      datasetErrorCodes.unreadable,
      `Could not read the CSV object ${where}: ${cause instanceof Error ? cause.message : String(cause)}. Check that the file was uploaded to that bucket and path and that this worker may read it.`,
      {},
      { cause },
    )
  }
  if (bytes.byteLength > maxCsvBytes) {
    throw new DatasetError(
      datasetErrorCodes.tooLarge,
      `The CSV object ${where} is ${(bytes.byteLength / 2 ** 20).toFixed(0)} MiB; at most ${maxCsvBytes / 2 ** 20} MiB can be loaded. Sample it down or drop unused columns.`,
    )
  }
  let text: string
  try {
    // TextDecoder drops a UTF-8 byte order mark (ignoreBOM defaults to false), as Excel writes one.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch (cause) {
    throw new DatasetError(
      datasetErrorCodes.malformedCsv,
      `The CSV object ${where} is not valid UTF-8 text. Save it as "CSV UTF-8" and upload it again.`,
      {},
      { cause },
    )
  }
  try {
    return parseCsvDataset(text, spec.featureColumns, spec.labelColumn)
  } catch (error) {
    if (error instanceof DatasetError) {
      throw new DatasetError(error.code, `${where}: ${error.message}`, error.location, { cause: error })
    }
    throw error
  }
}
