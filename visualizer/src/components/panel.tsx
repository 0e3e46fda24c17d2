'use client'
import type { CSSProperties, ReactNode } from 'react'
import { THEME } from './palette.ts'

const panelStyle: CSSProperties = {
  background: THEME.panel,
  border: `1px solid ${THEME.border}`,
  borderRadius: 8,
  padding: '10px 12px',
  color: THEME.text,
  backdropFilter: 'blur(4px)',
}

/** A titled box of the dashboard; `problem` replaces nothing, it is shown above the content. */
export function Panel({ title, problem, children, testId }: { title: string; problem?: string | null; children: ReactNode; testId?: string }) {
  return (
    <section style={panelStyle} data-testid={testId}>
      <h2 style={{ margin: '0 0 6px', fontSize: 14, fontWeight: 600, color: THEME.muted }}>{title}</h2>
      {problem && (
        <p role="alert" style={{ margin: '0 0 6px', fontSize: 12, color: THEME.problem }}>
          {problem}
        </p>
      )}
      {children}
    </section>
  )
}

/** What a panel says when it has nothing to show yet. */
export function EmptyNote({ children }: { children: ReactNode }) {
  return <p style={{ margin: '8px 0', fontSize: 13, color: THEME.muted }}>{children}</p>
}
