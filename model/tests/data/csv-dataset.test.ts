import { describe, expect, it } from 'vitest'
import { parseCsvDataset } from '../../src/data/csv-dataset.ts'
import { csvRecords } from '../../src/data/csv-records.ts'
import { DatasetError } from '../../src/data/dataset-error.ts'

function records(text: string) {
  return [...csvRecords(text)]
}

/** The DatasetError that `run` throws; fails the test when it throws nothing or something else. */
function datasetError(run: () => unknown): DatasetError {
  try {
    run()
  } catch (error) {
    if (error instanceof DatasetError) return error
    throw error
  }
  throw new Error('expected a DatasetError, but nothing was thrown')
}

describe('csvRecords (RFC 4180)', () => {
  it('splits fields on commas and records on LF, CRLF or CR', () => {
    expect(records('a,b\n1,2\r\n3,4\r5,6')).toEqual([
      { fields: ['a', 'b'], line: 1 },
      { fields: ['1', '2'], line: 2 },
      { fields: ['3', '4'], line: 3 },
      { fields: ['5', '6'], line: 4 },
    ])
  })

  it('keeps empty fields, including a trailing one, and ignores a final line break', () => {
    expect(records('a,,c,\n')).toEqual([{ fields: ['a', '', 'c', ''], line: 1 }])
    expect(records('')).toEqual([])
  })

  it('unquotes quoted fields holding commas, line breaks and doubled quotes', () => {
    expect(records('"a,b","say ""hi""","two\r\nlines",""\nnext,row,x,y')).toEqual([
      { fields: ['a,b', 'say "hi"', 'two\r\nlines', ''], line: 1 },
      { fields: ['next', 'row', 'x', 'y'], line: 3 },
    ])
  })

  it('keeps a quote inside an unquoted field as text', () => {
    expect(records(`height,5'3"`)).toEqual([{ fields: ['height', `5'3"`], line: 1 }])
  })

  it('skips a byte order mark and keeps spaces', () => {
    expect(records('\uFEFF a , b')).toEqual([{ fields: [' a ', ' b'], line: 1 }])
  })

  it('rejects an unclosed quote, naming the line it opened on', () => {
    const error = datasetError(() => records('a,b\n1,"2\n3,4\n'))
    expect(error.code).toBe('OB041')
    expect(error.message).toMatch(/starts on line 2 is never closed/)
    expect(error.location).toEqual({ line: 2 })
  })

  it('rejects text after a closing quote', () => {
    const error = datasetError(() => records('a,b\n"x"y,2\n'))
    expect(error.code).toBe('OB041')
    expect(error.message).toMatch(/^Line 2 has text after the closing quote/)
  })
})

describe('parseCsvDataset', () => {
  const csv = [
    'id,sepal length,species,petal length',
    '1,5.1,setosa,1.4',
    '2,7.0,versicolor,4.7',
    '3,6.3,virginica,6.0',
    '4,4.9,setosa,1.5',
  ].join('\n')

  it('reads the feature columns in the requested order and numbers classes in sorted order', () => {
    const dataset = parseCsvDataset(csv, ['petal length', 'sepal length'], 'species')
    expect(dataset.count).toBe(4)
    expect(dataset.featureCount).toBe(2)
    expect(dataset.featureNames).toEqual(['petal length', 'sepal length'])
    expect(Array.from(dataset.features)).toEqual([1.4, 5.1, 4.7, 7.0, 6.0, 6.3, 1.5, 4.9].map(Math.fround))
    expect(dataset.classNames).toEqual(['setosa', 'versicolor', 'virginica'])
    expect(Array.from(dataset.labels)).toEqual([0, 1, 2, 0])
  })

  it('sorts class names by code unit, whatever order they appear in', () => {
    const dataset = parseCsvDataset('x,y\n1,b\n2,B\n3,a\n4,b', ['x'], 'y')
    expect(dataset.classNames).toEqual(['B', 'a', 'b'])
    expect(Array.from(dataset.labels)).toEqual([2, 0, 1, 2])
  })

  it('handles quoted fields, CRLF line ends, a BOM, blank lines and spaces around values', () => {
    const text = '\uFEFF"x, the first","label"\r\n" 1.5 ","cat, black"\r\n\r\n-2e-1,"dog ""rex"""\r\n+.5, cat, black \r\n'.replace(' cat, black ', '" cat, black "')
    const dataset = parseCsvDataset(text, ['x, the first'], 'label')
    expect(Array.from(dataset.features)).toEqual([1.5, -0.2, 0.5].map(Math.fround))
    // Labels are trimmed: " cat, black " and "cat, black" are one class.
    expect(dataset.classNames).toEqual(['cat, black', 'dog "rex"'])
    expect(Array.from(dataset.labels)).toEqual([0, 1, 0])
  })

  it('rejects a row whose unquoted comma shifts its columns', () => {
    const error = datasetError(() => parseCsvDataset('x,label\n1,cat\n2,cat, black\n', ['x'], 'label'))
    expect(error.code).toBe('OB041')
    expect(error.message).toBe('Line 3 has 3 fields but the header has 2. Quote any field that contains a comma, and give every row a value for every column.')
  })

  it('allocates exactly when there is no trailing newline, and trims the arrays when there are blank lines', () => {
    for (const text of ['x,y\n1,a\n2,b', 'x,y\n1,a\n\n\n2,b\n\n']) {
      const dataset = parseCsvDataset(text, ['x'], 'y')
      expect(dataset.count).toBe(2)
      expect(dataset.features.buffer.byteLength).toBe(2 * 4)
      expect(dataset.labels.buffer.byteLength).toBe(2 * 4)
    }
  })

  it('grows its arrays for files whose lines end in a lone CR', () => {
    const rows = Array.from({ length: 100 }, (_, i) => `${i},${i % 3}`)
    const dataset = parseCsvDataset(['x,y', ...rows].join('\r'), ['x'], 'y')
    expect(dataset.count).toBe(100)
    expect(dataset.features[99]).toBe(99)
    expect(dataset.features).toHaveLength(100)
  })

  describe('errors name the line and column and say what to do', () => {
    it('an empty file', () => {
      for (const text of ['', '\uFEFF', '\n\n']) {
        const error = datasetError(() => parseCsvDataset(text, ['x'], 'y'))
        expect(error.code).toBe('OB041')
        expect(error.message).toMatch(/empty.*header row/)
      }
    })

    it('a header without rows', () => {
      const error = datasetError(() => parseCsvDataset('x,y\n', ['x'], 'y'))
      expect(error.code).toBe('OB041')
      expect(error.message).toMatch(/no data rows/)
    })

    it('missing columns, listing the header', () => {
      const error = datasetError(() => parseCsvDataset(csv, ['Sepal Length', 'width'], 'class'))
      expect(error.code).toBe('OB042')
      expect(error.message).toContain('no column "Sepal Length", "width", "class"')
      expect(error.message).toContain('Its columns are: "id", "sepal length", "species", "petal length"')
      expect(error.message).toContain('Did you mean "sepal length" for "Sepal Length"?')
      expect(error.location).toEqual({ line: 1, column: 'Sepal Length' })
    })

    it('a column the header names twice', () => {
      const error = datasetError(() => parseCsvDataset('x,x,y\n1,2,a', ['x'], 'y'))
      expect(error.code).toBe('OB042')
      expect(error.message).toMatch(/"x" more than once/)
    })

    it('a label column that is also a feature, and a feature listed twice', () => {
      expect(datasetError(() => parseCsvDataset(csv, ['species'], 'species')).message).toMatch(/also listed as a feature/)
      expect(datasetError(() => parseCsvDataset(csv, ['id', 'id'], 'species')).message).toMatch(/"id" is listed twice/)
    })

    it('a value that is not a number', () => {
      const error = datasetError(() => parseCsvDataset('x,y\n1,a\n2,b\nabc,a', ['x'], 'y'))
      expect(error.code).toBe('OB043')
      expect(error.message).toMatch(/^Line 4, column "x": "abc" is not a number/)
      expect(error.location).toEqual({ line: 4, column: 'x' })
    })

    it('numbers JavaScript would accept but a CSV should not: hex, Infinity, NaN', () => {
      for (const cell of ['0x1A', 'Infinity', 'NaN', '1,5', '1_000']) {
        const text = `x,y\n1,a\n"${cell}",b`
        expect(datasetError(() => parseCsvDataset(text, ['x'], 'y')).message).toMatch(/^Line 3, column "x": .* is not a number/)
      }
    })

    it('a missing value, counting lines inside quoted fields', () => {
      const error = datasetError(() => parseCsvDataset('x,y,note\n1,a,"two\nlines"\n ,b,ok', ['x'], 'y'))
      expect(error.message).toMatch(/^Line 4, column "x": the value is missing/)
    })

    it('a number too large for float32', () => {
      const error = datasetError(() => parseCsvDataset('x,y\n1e39,a\n2,b', ['x'], 'y'))
      expect(error.code).toBe('OB043')
      expect(error.message).toMatch(/^Line 2, column "x": 1e39 is too large for a 32-bit float/)
    })

    it('an empty label', () => {
      const error = datasetError(() => parseCsvDataset('x,y\n1,a\n2, ', ['x'], 'y'))
      expect(error.code).toBe('OB043')
      expect(error.message).toMatch(/^Line 3, column "y": the label is empty/)
    })

    it('a row with too few or too many fields', () => {
      expect(datasetError(() => parseCsvDataset('x,y\n1,a\n2', ['x'], 'y')).message).toMatch(/^Line 3 has 1 fields but the header has 2/)
      expect(datasetError(() => parseCsvDataset('x,y\n1,a,3\n2,b', ['x'], 'y')).message).toMatch(/^Line 2 has 3 fields/)
    })

    it('a single class', () => {
      const error = datasetError(() => parseCsvDataset('x,y\n1,a\n2,a', ['x'], 'y'))
      expect(error.code).toBe('OB045')
      expect(error.message).toMatch(/is "a"; a classifier needs at least 2 classes/)
    })

    it('too many feature columns', () => {
      const names = Array.from({ length: 4097 }, (_, i) => `f${i}`)
      expect(datasetError(() => parseCsvDataset('', names, 'y')).code).toBe('OB044')
    })

    it('too many classes', () => {
      const rows = Array.from({ length: 4097 }, (_, i) => `${i},c${i}`)
      const error = datasetError(() => parseCsvDataset(['x,y', ...rows].join('\n'), ['x'], 'y'))
      expect(error.code).toBe('OB044')
      expect(error.message).toMatch(/more than 4096 distinct values \(by line 4098\)/)
    })
  })

  it('takes 1,000,000 rows and refuses the next one', () => {
    const row = '1,a\n2,b\n'
    const text = 'x,y\n' + row.repeat(500_000)
    const started = performance.now()
    const dataset = parseCsvDataset(text, ['x'], 'y')
    console.info(`parsed 1,000,000 CSV rows in ${(performance.now() - started).toFixed(0)} ms`)
    expect(dataset.count).toBe(1_000_000)
    const error = datasetError(() => parseCsvDataset(text + '3,c\n', ['x'], 'y'))
    expect(error.code).toBe('OB044')
    expect(error.message).toMatch(/more than 1000000 data rows \(line 1000002/)
  })
})
