'use client'
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import type { RoundRow } from '../../lib/jobs/job-rows.ts'
import { Empty } from '../states.tsx'

const GRID = '#252b38'
const AXIS = { stroke: '#8a93a6', fontSize: 12 }

/** Accuracy and loss on the held-out set per round, and ε spent so far (recharts, no animation). */
export function RoundsChart({ rounds, privacy }: { rounds: RoundRow[]; privacy: boolean }) {
  const data = rounds
    .filter((r) => r.status === 'aggregated')
    .map((r) => ({ round: r.round, accuracy: r.test_accuracy, loss: r.test_loss, epsilon: r.epsilon_spent }))
  if (data.length === 0) {
    return <Empty testId="rounds-chart-empty">Accuracy, loss{privacy ? ' and ε' : ''} appear here as each round is aggregated.</Empty>
  }
  return (
    <div className="charts" data-testid="rounds-chart">
      <figure>
        <figcaption>Held-out accuracy and loss per round</figcaption>
        <ResponsiveContainer width="100%" height={240} initialDimension={{ width: 520, height: 240 }}>
          <LineChart data={data} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
            <CartesianGrid stroke={GRID} />
            <XAxis dataKey="round" tick={AXIS} allowDecimals={false} label={{ value: 'round', position: 'insideBottomRight', offset: -4, fill: '#8a93a6', fontSize: 12 }} />
            <YAxis yAxisId="accuracy" domain={[0, 1]} tick={AXIS} tickFormatter={(v: number) => `${Math.round(v * 100)}%`} />
            <YAxis yAxisId="loss" orientation="right" tick={AXIS} />
            <Tooltip contentStyle={{ background: '#141821', border: '1px solid #252b38' }} />
            <Legend />
            <Line yAxisId="accuracy" type="monotone" dataKey="accuracy" name="accuracy" stroke="#2bd38a" dot isAnimationActive={false} connectNulls />
            <Line yAxisId="loss" type="monotone" dataKey="loss" name="loss" stroke="#ffb020" dot isAnimationActive={false} connectNulls />
          </LineChart>
        </ResponsiveContainer>
      </figure>
      {privacy && (
        <figure>
          <figcaption>Privacy spent: ε after each round</figcaption>
          <ResponsiveContainer width="100%" height={240} initialDimension={{ width: 520, height: 240 }}>
            <LineChart data={data} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
              <CartesianGrid stroke={GRID} />
              <XAxis dataKey="round" tick={AXIS} allowDecimals={false} />
              <YAxis tick={AXIS} />
              <Tooltip contentStyle={{ background: '#141821', border: '1px solid #252b38' }} />
              <Legend />
              <Line type="monotone" dataKey="epsilon" name="ε" stroke="#7c5cff" dot isAnimationActive={false} connectNulls />
            </LineChart>
          </ResponsiveContainer>
        </figure>
      )}
    </div>
  )
}
