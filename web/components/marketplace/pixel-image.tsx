'use client'
import { useEffect, useRef } from 'react'

/** A square grayscale image (values in [0, max]) drawn pixel for pixel, scaled up without smoothing. */
export function PixelImage({ pixels, max = 1, size, label, testId }: { pixels: ArrayLike<number>; max?: number; size: number; label: string; testId?: string }) {
  const ref = useRef<HTMLCanvasElement>(null)
  const side = Math.round(Math.sqrt(pixels.length))
  useEffect(() => {
    const canvas = ref.current
    const context = canvas?.getContext('2d')
    if (!canvas || !context || side === 0) return
    const image = context.createImageData(side, side)
    for (let i = 0; i < side * side; i++) {
      const v = Math.round((Math.min(max, Math.max(0, pixels[i] ?? 0)) / max) * 255)
      image.data.set([v, v, v, 255], 4 * i)
    }
    context.putImageData(image, 0, 0)
  }, [pixels, max, side])
  return <canvas ref={ref} width={side} height={side} className="pixel-image" style={{ width: size, height: size }} role="img" aria-label={label} data-testid={testId} />
}
