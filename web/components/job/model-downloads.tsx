'use client'
import { useEffect, useRef, useState } from 'react'
import { bytes, measure, percent } from '../../lib/format.ts'
import type { JobRow, ModelRow } from '../../lib/jobs/job-rows.ts'
import { ArtifactDownloadError, downloadVerified, modelDownloads, saveBlob, type ModelDownload } from '../../lib/jobs/model-artifacts.ts'
import { useSupabase } from '../../lib/supabase-context.tsx'
import { Empty } from '../states.tsx'

type FileState = { state: 'downloading' } | { state: 'saved'; url: string } | { state: 'failed'; message: string; next: string }

/**
 * The trained model in every format the coordinator exported: each file fetched with the owner's
 * session from Storage, checked against its content id, then saved through a Blob link (the link
 * stays, to save it again).
 */
export function ModelDownloads({ job, model }: { job: JobRow; model: ModelRow | null }) {
  const { supabase } = useSupabase()
  const [files, setFiles] = useState<Record<string, FileState>>({})
  const urls = useRef<string[]>([])
  useEffect(() => () => urls.current.forEach((url) => URL.revokeObjectURL(url)), [])

  if (!model) {
    return (
      <section className="panel" data-testid="downloads-panel">
        <h2>Model</h2>
        <Empty testId="downloads-empty">
          {job.status === 'completed' ? 'The model is being published…' : job.status === 'failed' || job.status === 'cancelled' || job.status === 'expired' ? `The job ${job.status}: no model was published.` : 'The trained model can be downloaded here once the last round is aggregated.'}
        </Empty>
      </section>
    )
  }
  const formats = modelDownloads(model.artifacts)
  const download = async (format: ModelDownload) => {
    for (const file of format.files) {
      const key = `${format.format}/${file.name}`
      setFiles((current) => ({ ...current, [key]: { state: 'downloading' } }))
      try {
        const blob = await downloadVerified(supabase, file)
        const url = saveBlob(blob, file.name)
        urls.current.push(url)
        setFiles((current) => ({ ...current, [key]: { state: 'saved', url } }))
      } catch (error) {
        const known = error instanceof ArtifactDownloadError
        setFiles((current) => ({
          ...current,
          [key]: { state: 'failed', message: known ? error.message : `Could not download ${file.name}: ${(error as Error).message}`, next: known ? error.next : 'Try again.' },
        }))
        return
      }
    }
  }
  const accuracy = typeof model.metrics.test_accuracy === 'number' ? model.metrics.test_accuracy : null
  return (
    <section className="panel" data-testid="downloads-panel">
      <h2>Model</h2>
      <p className="muted">
        {model.name}: held-out accuracy {percent(accuracy)}
        {model.epsilon !== null ? `, (ε = ${measure(model.epsilon)}, δ = ${model.delta})-differentially private` : ', trained without differential privacy'}. Every export takes raw features
        (normalisation is folded into the first layer). Each file is checked against its content id before it is saved.
      </p>
      {formats.length === 0 ? (
        <Empty testId="downloads-none">The model was published without files.</Empty>
      ) : (
        <ul className="downloads" data-testid="download-menu">
          {formats.map((format) => {
            const states = format.files.map((f) => files[`${format.format}/${f.name}`])
            const busy = states.some((s) => s?.state === 'downloading')
            return (
              <li key={format.format} data-testid={`download-format-${format.format}`}>
                <button type="button" className="button secondary" onClick={() => void download(format)} disabled={busy} data-testid={`download-${format.format}`}>
                  {busy ? 'Downloading…' : `Download ${format.label}`}
                </button>{' '}
                <span className="muted">
                  {format.about} · {format.files.map((f) => `${f.name} (${bytes(f.bytes)})`).join(', ')}
                </span>
                {format.files.map((file) => {
                  const state = files[`${format.format}/${file.name}`]
                  if (!state || state.state === 'downloading') return null
                  return state.state === 'saved' ? (
                    <div key={file.name} className="saved">
                      ✓ verified{' '}
                      <a href={state.url} download={file.name} data-testid={`download-file-${format.format}-${file.name}`} data-cid={file.cid}>
                        {file.name}
                      </a>{' '}
                      <span className="mono muted">{file.cid}</span>
                    </div>
                  ) : (
                    <div key={file.name} className="field-error" role="alert" data-testid={`download-error-${format.format}`}>
                      {state.message} {state.next}
                    </div>
                  )
                })}
              </li>
            )
          })}
        </ul>
      )}
    </section>
  )
}
