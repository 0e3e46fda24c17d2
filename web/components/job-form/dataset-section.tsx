'use client'
import type { CsvSummary } from '../../lib/job-spec/csv-file.ts'
import { BUILTIN_DATASETS, type BuiltinName, type FieldErrors, type SpecFormValues } from '../../lib/job-spec/spec-form.ts'
import { Choice, Field, FieldProblems, fieldId } from './form-field.tsx'

/** A CSV the person chose, read in the browser (it is uploaded only when the job is created). */
export interface CsvChoice {
  name: string
  bytes: Uint8Array
  text: string
  /** The header row's columns; empty when the file could not be read. */
  columns: string[]
  /** Why the file cannot be used, or null. */
  problem: string | null
}

interface Props {
  values: SpecFormValues
  set: <K extends keyof SpecFormValues>(key: K, value: SpecFormValues[K]) => void
  errors: FieldErrors
  csv: CsvChoice | null
  /** The whole file parsed as the workers will, for the chosen columns (null until it parses). */
  summary: { ok: true; summary: CsvSummary } | { ok: false; message: string } | null
  onFile: (file: File | null) => void
  /** Where the file will be stored: `<user id>/<name>`, or a placeholder before sign-in. */
  csvPath: string
}

const BUILTIN_OPTIONS = Object.entries(BUILTIN_DATASETS).map(
  ([name, d]) => [name as BuiltinName, `${d.label} — ${d.rows.toLocaleString('en')} rows, ${d.features} features, ${d.classes} classes`] as const,
)

export function DatasetSection({ values, set, errors, csv, summary, onFile, csvPath }: Props) {
  const toggleFeature = (column: string, on: boolean) => {
    const next = on ? [...values.featureColumns, column] : values.featureColumns.filter((c) => c !== column)
    // Keep the file's column order: the model's inputs follow it.
    set('featureColumns', csv ? csv.columns.filter((c) => next.includes(c)) : next)
  }
  return (
    <fieldset className="panel" data-testid="section-dataset">
      <legend>Data set</legend>
      <div className="choices" role="radiogroup" aria-label="Data set source">
        <label className="inline">
          <input type="radio" name="datasetSource" checked={values.datasetSource === 'builtin'} onChange={() => set('datasetSource', 'builtin')} data-testid="field-dataset.source-builtin" />
          Built-in data set
        </label>
        <label className="inline">
          <input type="radio" name="datasetSource" checked={values.datasetSource === 'csv'} onChange={() => set('datasetSource', 'csv')} data-testid="field-dataset.source-csv" />
          Upload a CSV
        </label>
      </div>
      <FieldProblems field="dataset" errors={errors} />
      {values.datasetSource === 'builtin' ? (
        <Field field="dataset.name" errors={errors} hint="Bundled with every worker: nothing is uploaded.">
          <Choice field="dataset.name" value={values.builtinName} options={BUILTIN_OPTIONS} onChange={(name) => set('builtinName', name)} />
        </Field>
      ) : (
        <>
          <Field
            field="dataset.path"
            errors={errors}
            hint={
              <>
                A header row, numeric feature columns and a label column (at most 50 MiB). Stored privately at <span className="mono">datasets/{csvPath}</span>; only workers
                training your job can read it.
              </>
            }
          >
            <input id={fieldId('dataset.path')} data-testid="field-dataset.file" type="file" accept=".csv,text/csv" onChange={(event) => onFile(event.target.files?.[0] ?? null)} />
          </Field>
          {csv?.problem && (
            <div className="field-error" role="alert" data-testid="error-dataset.file">
              {csv.problem}
            </div>
          )}
          {csv && !csv.problem && (
            <>
              <Field field="dataset.labelColumn" errors={errors} hint="The class of each row: what the model learns to predict.">
                <Choice
                  field="dataset.labelColumn"
                  value={values.labelColumn}
                  options={csv.columns.map((c) => [c, c] as const)}
                  onChange={(column) => {
                    set('labelColumn', column)
                    set('featureColumns', values.featureColumns.filter((c) => c !== column))
                  }}
                />
              </Field>
              <div className="field">
                <label>Feature columns</label>
                <div className="columns" data-testid="field-dataset.featureColumns">
                  {csv.columns
                    .filter((c) => c !== values.labelColumn)
                    .map((column) => (
                      <label className="inline" key={column}>
                        <input type="checkbox" checked={values.featureColumns.includes(column)} onChange={(event) => toggleFeature(column, event.target.checked)} data-testid={`feature-column-${column}`} />
                        {column}
                      </label>
                    ))}
                </div>
                <FieldProblems field="dataset.featureColumns" errors={errors} />
              </div>
              {summary && !summary.ok && (
                <div className="field-error" role="alert" data-testid="error-dataset.contents">
                  {summary.message}
                </div>
              )}
              {summary?.ok && (
                <div className="hint" data-testid="dataset-summary">
                  {summary.summary.rows.toLocaleString('en')} rows, {summary.summary.features} features, {summary.summary.classNames.length} classes (
                  {summary.summary.classNames.slice(0, 8).join(', ')}
                  {summary.summary.classNames.length > 8 ? ', …' : ''}).
                </div>
              )}
            </>
          )}
        </>
      )}
    </fieldset>
  )
}
