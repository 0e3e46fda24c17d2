'use client'
import { memo } from 'react'
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import type { RatePoint } from '../feed/rate-series.ts'
import { CHART_COLORS, THEME } from './palette.ts'
import { EmptyNote, Panel } from './panel.tsx'

const clock = (t: number) => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })

/** Claims/s and completions/s, one point a second over the last minutes (10 s moving window). */
function RatesChartView({ points, height = 170 }: { points: RatePoint[]; height?: number }) {
  return (
    <Panel title="Claims and completions per second" testId="rates-chart">
      {points.length < 2 ? (
        <EmptyNote>Counting the first seconds…</EmptyNote>
      ) : (
        <ResponsiveContainer width="100%" height={height}>
          <LineChart data={points} margin={{ top: 4, right: 8, bottom: 0, left: -18 }}>
            <CartesianGrid stroke={THEME.border} strokeDasharray="3 3" />
            <XAxis dataKey="t" type="number" domain={['dataMin', 'dataMax']} tickFormatter={clock} stroke={THEME.muted} fontSize={11} minTickGap={40} />
            <YAxis stroke={THEME.muted} fontSize={11} allowDecimals />
            <Tooltip labelFormatter={(t) => clock(Number(t))} contentStyle={{ background: THEME.background, border: `1px solid ${THEME.border}` }} />
            <Legend wrapperStyle={{ fontSize: 12 }} />
            <Line type="monotone" dataKey="claims" name="claims/s" stroke={CHART_COLORS.claims} dot={false} isAnimationActive={false} />
            <Line type="monotone" dataKey="completions" name="completions/s" stroke={CHART_COLORS.completions} dot={false} isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      )}
    </Panel>
  )
}

export const RatesChart = memo(RatesChartView)
