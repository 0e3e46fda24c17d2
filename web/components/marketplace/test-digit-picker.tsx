'use client'
import { useEffect, useState } from 'react'
import { loadTestDigits } from '../../lib/marketplace/test-digits.ts'
import { PixelImage } from './pixel-image.tsx'

/** Images shown per class: one row beside the preview. */
const THUMBS = 6

/** Pick an MNIST digit: a class (0–9), then one of its images; loads one class file at a time. */
export function TestDigitPicker({ selected, onPick }: { selected: Float32Array | null; onPick: (digit: Float32Array) => void }) {
  const [digit, setDigit] = useState(7)
  const [images, setImages] = useState<Float32Array[] | null>(null)
  const [problem, setProblem] = useState<string | null>(null)
  useEffect(() => {
    let live = true
    setImages(null)
    setProblem(null)
    loadTestDigits(digit, THUMBS).then(
      (loaded) => live && setImages(loaded),
      (error: unknown) => live && setProblem((error as Error).message),
    )
    return () => {
      live = false
    }
  }, [digit])
  return (
    <div className="test-digits" data-testid="test-digit-picker">
      <div className="digit-classes" role="tablist" aria-label="Digit class">
        {Array.from({ length: 10 }, (_, d) => (
          <button key={d} type="button" role="tab" aria-selected={d === digit} className={d === digit ? 'chip active' : 'chip'} onClick={() => setDigit(d)} data-testid={`test-digit-class-${d}`}>
            {d}
          </button>
        ))}
      </div>
      {problem ? (
        <div className="error" role="alert" data-testid="test-digits-error">
          <strong>Could not load the MNIST {digit}s: {problem}.</strong> Draw a digit instead, or reload the page.
        </div>
      ) : !images ? (
        <p className="skeleton" role="status">Loading MNIST {digit}s…</p>
      ) : (
        <div className="digit-thumbs">
          {images.map((image, k) => (
            <button key={k} type="button" className={image === selected ? 'thumb active' : 'thumb'} onClick={() => onPick(image)} aria-pressed={image === selected} data-testid={`test-digit-${k}`}>
              <PixelImage pixels={image} size={56} label={`MNIST ${digit}, image ${k + 1}`} />
            </button>
          ))}
        </div>
      )}
      <p className="hint">MNIST test digits (28×28), the images the built-in mnist and mnist-14x14 data sets are made of.</p>
    </div>
  )
}
