'use client'
import { useCallback, useEffect, useRef } from 'react'
import { drawingToDigit, inkFromRgba } from '../../lib/marketplace/digit-input.ts'

const SIZE = 280
/** ≈ MNIST's stroke width: 2–3 of its 28 pixels. */
const STROKE = 22

/**
 * A canvas to draw a digit on with a mouse, a finger or a pen (pointer events; touch-action none
 * so a finger draws instead of scrolling). After each stroke the drawing becomes a 28×28 MNIST
 * digit (drawingToDigit: bounding box into 20×20, centred by mass), handed to onDigit.
 */
export function DigitCanvas({ onDigit, clearKey }: { onDigit: (digit: Float32Array | null) => void; clearKey: number }) {
  const ref = useRef<HTMLCanvasElement>(null)
  const drawing = useRef<{ x: number; y: number } | null>(null)
  const onDigitRef = useRef(onDigit)
  onDigitRef.current = onDigit

  const context = () => ref.current?.getContext('2d', { willReadFrequently: true }) ?? null
  const clear = useCallback(() => {
    const c = context()
    if (!c) return
    c.fillStyle = '#000'
    c.fillRect(0, 0, SIZE, SIZE)
  }, [])
  // clearKey is the parent's reset signal (the Clear button, a new purchase).
  useEffect(() => {
    clear()
    onDigitRef.current(null)
  }, [clearKey, clear])

  const point = (event: React.PointerEvent<HTMLCanvasElement>) => {
    const rect = event.currentTarget.getBoundingClientRect()
    return { x: ((event.clientX - rect.left) / rect.width) * SIZE, y: ((event.clientY - rect.top) / rect.height) * SIZE }
  }
  const line = (from: { x: number; y: number }, to: { x: number; y: number }) => {
    const c = context()
    if (!c) return
    c.strokeStyle = '#fff'
    c.lineWidth = STROKE
    c.lineCap = 'round'
    c.lineJoin = 'round'
    c.beginPath()
    c.moveTo(from.x, from.y)
    c.lineTo(to.x, to.y)
    c.stroke()
  }
  const finish = () => {
    if (!drawing.current) return
    drawing.current = null
    const c = context()
    if (!c) return
    const { data } = c.getImageData(0, 0, SIZE, SIZE)
    onDigitRef.current(drawingToDigit(inkFromRgba(data, SIZE, SIZE), SIZE, SIZE))
  }

  return (
    <canvas
      ref={ref}
      width={SIZE}
      height={SIZE}
      className="digit-canvas"
      aria-label="Draw a digit here"
      data-testid="draw-canvas"
      onPointerDown={(event) => {
        event.currentTarget.setPointerCapture(event.pointerId)
        const p = point(event)
        drawing.current = p
        line(p, { x: p.x + 0.1, y: p.y + 0.1 })
      }}
      onPointerMove={(event) => {
        if (!drawing.current) return
        const p = point(event)
        line(drawing.current, p)
        drawing.current = p
      }}
      onPointerUp={finish}
      onPointerCancel={finish}
      onPointerLeave={finish}
    />
  )
}
