import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { checkCsv, csvColumns, datasetFileProblem } from '../../lib/job-spec/csv-file.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
const iris = readFileSync(path.join(ROOT, 'sample_job/data/iris.csv'), 'utf8')

describe('a CSV chosen in the browser', () => {
  it('offers the header’s columns', () => {
    expect(csvColumns(iris)).toEqual({ ok: true, columns: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width', 'species'] })
    expect(csvColumns('\n\n"a, b",c\n1,2\n')).toEqual({ ok: true, columns: ['a, b', 'c'] })
    expect(csvColumns('')).toMatchObject({ ok: false })
  })

  it('is parsed as the workers will parse it', () => {
    const checked = checkCsv(iris, ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'], 'species')
    expect(checked).toEqual({ ok: true, summary: { rows: 150, features: 4, classNames: ['setosa', 'versicolor', 'virginica'] } })
    const bad = checkCsv('a,b,y\n1,2,x\n3,oops,z\n', ['a', 'b'], 'y')
    expect(bad.ok).toBe(false)
    if (!bad.ok) expect(bad.message).toMatch(/^Line 3, column "b"/)
  })

  it('refuses names Storage refuses, empty files and files over 50 MiB', () => {
    expect(datasetFileProblem({ name: 'iris.csv', size: 10 })).toBeNull()
    expect(datasetFileProblem({ name: 'a/b.csv', size: 10 })).toMatch(/characters Storage refuses/)
    expect(datasetFileProblem({ name: 'iris.csv', size: 0 })).toMatch(/empty/)
    expect(datasetFileProblem({ name: 'iris.csv', size: 51 * 2 ** 20 })).toMatch(/50 MiB/)
  })
})
