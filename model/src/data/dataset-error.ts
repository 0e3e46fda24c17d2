/**
 * Stable codes for data set problems, next to the network's other OB0xx codes (supabase/README.md,
 * "Error codes"): OB04x is the data set range. A UI may switch on the code; the message says what
 * happened and what to do.
 */
export const datasetErrorCodes = {
  /** The CSV object could not be read from storage. */
  unreadable: 'OB040',
  /** The file is not a well-formed CSV: not UTF-8, empty, no data rows, bad quoting, ragged rows. */
  malformedCsv: 'OB041',
  /** A requested column is missing, duplicated, or both a feature and the label. */
  badColumns: 'OB042',
  /** A cell is empty or not a number where a number is needed. */
  badValue: 'OB043',
  /** More rows, features, classes or bytes than a job may use. */
  tooLarge: 'OB044',
  /** Fewer than 2 classes: there is nothing to classify. */
  tooFewClasses: 'OB045',
  /** The data cannot be split as asked: a test fraction or shard count leaves a part empty. */
  cannotSplit: 'OB046',
  /** The spec names a data set this build does not know. */
  unknownDataset: 'OB047',
} as const

export type DatasetErrorCode = (typeof datasetErrorCodes)[keyof typeof datasetErrorCodes]

/** Where in the file a problem is: `line` is 1-based and counts the header as line 1. */
export interface DatasetErrorLocation {
  line?: number
  column?: string
}

export class DatasetError extends Error {
  constructor(
    readonly code: DatasetErrorCode,
    message: string,
    readonly location: DatasetErrorLocation = {},
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.name = 'DatasetError'
  }
}
