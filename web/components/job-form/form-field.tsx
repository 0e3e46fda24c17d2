'use client'
import type { ReactNode } from 'react'
import { fieldLabel, type FieldErrors, type FieldKey } from '../../lib/job-spec/spec-form.ts'

/** `training.batchSize` → the id and test id of its input: `field-training.batchSize`. */
export const fieldId = (field: FieldKey) => `field-${field}`

/** The problems under one field (or one group of fields), if any. */
export function FieldProblems({ field, errors }: { field: FieldKey; errors: FieldErrors }) {
  const list = errors[field]
  if (!list || list.length === 0) return null
  return (
    <div className="field-error" role="alert" data-testid={`error-${field || 'form'}`}>
      {list.map((text) => (
        <div key={text}>{text}</div>
      ))}
    </div>
  )
}

/** A labelled input with its problems below it and an optional hint. */
export function Field({ field, errors, hint, label, children }: { field: FieldKey; errors: FieldErrors; hint?: ReactNode; label?: string; children: ReactNode }) {
  return (
    <div className={`field${errors[field]?.length ? ' invalid' : ''}`}>
      <label htmlFor={fieldId(field)}>{label ?? fieldLabel(field)}</label>
      {children}
      {hint && <div className="hint">{hint}</div>}
      <FieldProblems field={field} errors={errors} />
    </div>
  )
}

/** A text or number input bound to one string of the form. */
export function TextInput({ field, value, onChange, placeholder, inputMode = 'decimal' }: { field: FieldKey; value: string; onChange: (value: string) => void; placeholder?: string; inputMode?: 'decimal' | 'numeric' | 'text' }) {
  return (
    <input
      id={fieldId(field)}
      data-testid={fieldId(field)}
      name={field}
      value={value}
      placeholder={placeholder}
      inputMode={inputMode}
      autoComplete="off"
      onChange={(event) => onChange(event.target.value)}
    />
  )
}

/** A select over fixed options. */
export function Choice<T extends string>({ field, value, options, onChange }: { field: FieldKey; value: T; options: readonly (readonly [T, string])[]; onChange: (value: T) => void }) {
  return (
    <select id={fieldId(field)} data-testid={fieldId(field)} name={field} value={value} onChange={(event) => onChange(event.target.value as T)}>
      {options.map(([option, text]) => (
        <option key={option} value={option}>
          {text}
        </option>
      ))}
    </select>
  )
}
