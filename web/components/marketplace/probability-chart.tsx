'use client'
import { Bar, BarChart, CartesianGrid, Cell, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import { probabilityText, type ProbabilityBar } from '../../lib/marketplace/inference-verdict.ts'

const GRID = '#252b38'
const AXIS = { stroke: '#8a93a6', fontSize: 12 }

/** The float model's softmax per class (what the owner's ONNX run gave); the proven class in green. */
export function ProbabilityChart({ bars }: { bars: ProbabilityBar[] }) {
  return (
    <figure className="probability-chart" data-testid="probability-chart">
      <figcaption>Probabilities (float model, softmax)</figcaption>
      <ResponsiveContainer width="100%" height={200} initialDimension={{ width: 420, height: 200 }}>
        <BarChart data={bars} margin={{ top: 8, right: 8, bottom: 0, left: -12 }}>
          <CartesianGrid stroke={GRID} vertical={false} />
          <XAxis dataKey="label" tick={AXIS} interval={0} />
          <YAxis domain={[0, 1]} tick={AXIS} tickFormatter={(v: number) => `${Math.round(v * 100)}%`} />
          <Tooltip
            cursor={{ fill: 'rgba(124, 92, 255, 0.08)' }}
            contentStyle={{ background: '#141821', border: '1px solid #252b38' }}
            formatter={(value) => [probabilityText(Number(value)), 'probability']}
          />
          <Bar dataKey="probability" isAnimationActive={false} radius={[4, 4, 0, 0]}>
            {bars.map((bar) => (
              <Cell key={bar.label} fill={bar.proven ? '#2bd38a' : '#7c5cff'} />
            ))}
          </Bar>
        </BarChart>
      </ResponsiveContainer>
    </figure>
  )
}
