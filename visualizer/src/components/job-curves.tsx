'use client'
import { memo } from 'react'
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import type { JobCurve } from '../feed/network-answers.ts'
import { CHART_COLORS, THEME, shortId } from './palette.ts'
import { EmptyNote, Panel } from './panel.tsx'

/**
 * Per job (active first, then those that ended in the last hour): held-out accuracy (left axis,
 * 0–1) and ε spent so far (right axis) after each aggregated round.
 */
function JobCurvesView({ curves, problem, max = 4 }: { curves: JobCurve[] | null; problem?: string | null; max?: number }) {
  return (
    <Panel title="Accuracy and ε per job" problem={problem} testId="job-curves">
      {curves === null ? (
        <EmptyNote>Loading the jobs’ rounds…</EmptyNote>
      ) : curves.length === 0 ? (
        <EmptyNote>No job is running, and none ended in the last hour.</EmptyNote>
      ) : (
        curves.slice(0, max).map((curve) => <JobCurveChart key={curve.job_id} curve={curve} />)
      )}
    </Panel>
  )
}

function JobCurveChart({ curve }: { curve: JobCurve }) {
  const privateJob = curve.points.some((p) => p.epsilon !== null)
  const last = curve.points.at(-1)
  return (
    <div style={{ marginBottom: 6 }} data-job={curve.job_id}>
      <div style={{ fontSize: 12, color: THEME.muted, display: 'flex', justifyContent: 'space-between' }}>
        <span>
          job <code style={{ color: THEME.text }}>{shortId(curve.job_id)}</code> · {curve.status} · round {Math.min(curve.current_round, curve.rounds)}/{curve.rounds}
        </span>
        <span>
          {last?.accuracy != null && <span style={{ color: CHART_COLORS.accuracy }}>{(last.accuracy * 100).toFixed(1)} %</span>}
          {last?.epsilon != null && <span style={{ color: CHART_COLORS.epsilon }}> · ε {last.epsilon.toFixed(2)}</span>}
          {last && !privateJob && ' · no DP'}
        </span>
      </div>
      {curve.points.length === 0 ? (
        <EmptyNote>No round aggregated yet.</EmptyNote>
      ) : (
        <ResponsiveContainer width="100%" height={70}>
          <LineChart data={curve.points} margin={{ top: 4, right: privateJob ? -10 : 8, bottom: 0, left: -26 }}>
            <CartesianGrid stroke={THEME.border} strokeDasharray="3 3" />
            <XAxis dataKey="round" stroke={THEME.muted} fontSize={10} />
            <YAxis yAxisId="accuracy" domain={[0, 1]} stroke={THEME.muted} fontSize={10} tickCount={3} />
            {privateJob && <YAxis yAxisId="epsilon" orientation="right" stroke={THEME.muted} fontSize={10} tickCount={3} />}
            <Tooltip contentStyle={{ background: THEME.background, border: `1px solid ${THEME.border}` }} />
            <Line yAxisId="accuracy" dataKey="accuracy" name="accuracy" stroke={CHART_COLORS.accuracy} dot={false} isAnimationActive={false} />
            {privateJob && <Line yAxisId="epsilon" dataKey="epsilon" name="ε" stroke={CHART_COLORS.epsilon} dot={false} isAnimationActive={false} />}
          </LineChart>
        </ResponsiveContainer>
      )}
    </div>
  )
}

export const JobCurves = memo(JobCurvesView)
