import type { Queryable } from '../../../db/database.ts'

export interface SessionRow {
  id: string
  user_id: string
  aal: string
  amr_method: string
  /** Seconds since the epoch: the `amr` timestamp (when the user authenticated). */
  authenticated_at: number
}

/** A new session with its first refresh token (stored hashed), in one statement. */
export async function createSession(
  q: Queryable,
  session: { id: string; userId: string; amrMethod: string; userAgent?: string; refreshTokenHash: string },
): Promise<SessionRow> {
  const { rows } = await q.query<SessionRow>(
    `with s as (
       insert into auth.sessions (id, user_id, amr_method, user_agent)
       values ($1::uuid, $2::uuid, $3::text, $4::text)
       returning id, user_id, aal, amr_method, created_at
     ), t as (
       insert into auth.refresh_tokens (token_hash, user_id, session_id)
       select $5::text, user_id, id from s
     )
     select id::text, user_id::text, aal, amr_method, floor(extract(epoch from created_at))::int as authenticated_at from s`,
    [session.id, session.userId, session.amrMethod, session.userAgent ?? null, session.refreshTokenHash],
  )
  return rows[0]!
}

export type RotationOutcome =
  | { outcome: 'rotated'; session: SessionRow }
  /** The token had been rotated before: the whole session was deleted (reuse detection). */
  | { outcome: 'reused' }
  /** Another request rotated this token while we waited for its row lock: we lost the race. */
  | { outcome: 'raced' }
  | { outcome: 'not_found' }

/**
 * Refresh-token rotation and reuse detection in ONE statement:
 * - `rotated`: the presented token is revoked and its child (`newHash`) inserted — only when it
 *   was not revoked yet, re-checked after waiting for a concurrent refresh's row lock, so of two
 *   concurrent refreshes of one token exactly one rotates.
 * - `reused`: the token was already revoked when this statement began: someone presents a token
 *   that was rotated away, so the session (and with it every refresh token of it) is deleted.
 * - `raced`: our statement's snapshot still saw the token unrevoked, but the update found it
 *   revoked: a concurrent refresh committed while we waited. That is a benign race (two tabs),
 *   not a replay, so it is refused without deleting the session the winner just extended.
 * - `not_found`: no such token (never issued, or its session was signed out).
 */
export async function rotateRefreshToken(q: Queryable, presentedHash: string, newHash: string): Promise<RotationOutcome> {
  const { rows } = await q.query<{ outcome: RotationOutcome['outcome'] } & Partial<SessionRow>>(
    `with presented as (
       select t.id, t.session_id, t.revoked from auth.refresh_tokens t where t.token_hash = $1::text
     ), rotated as (
       update auth.refresh_tokens t set revoked = true, updated_at = now()
        where t.token_hash = $1::text and not t.revoked
       returning t.id, t.session_id, t.user_id
     ), issued as (
       insert into auth.refresh_tokens (token_hash, user_id, session_id, parent)
       select $2::text, r.user_id, r.session_id, r.id from rotated r
       returning session_id
     ), refreshed as (
       update auth.sessions s set refreshed_at = now(), updated_at = now()
         from issued i where s.id = i.session_id
       returning s.id, s.user_id, s.aal, s.amr_method, s.created_at
     ), reused as (
       delete from auth.sessions s using presented p
        where s.id = p.session_id and p.revoked
       returning s.id
     )
     select case when exists (select 1 from refreshed) then 'rotated'
                 when exists (select 1 from reused) then 'reused'
                 when exists (select 1 from presented where not revoked) then 'raced'
                 else 'not_found' end as outcome,
            r.id::text, r.user_id::text, r.aal, r.amr_method,
            floor(extract(epoch from r.created_at))::int as authenticated_at
       from (select 1) one left join refreshed r on true`,
    [presentedHash, newHash],
  )
  const row = rows[0]!
  if (row.outcome === 'rotated') return { outcome: 'rotated', session: row as SessionRow }
  return { outcome: row.outcome }
}

/** Whether the session exists and belongs to the user (GoTrue's check of `session_id`). */
export async function sessionExists(q: Queryable, sessionId: string, userId: string): Promise<boolean> {
  const { rows } = await q.query(`select 1 from auth.sessions where id = $1::uuid and user_id = $2::uuid`, [sessionId, userId])
  return rows.length === 1
}

export type LogoutScope = 'global' | 'local' | 'others'

/** Signs out: deletes sessions (their refresh tokens cascade). Returns how many ended. */
export async function deleteSessions(q: Queryable, userId: string, currentSessionId: string | undefined, scope: LogoutScope): Promise<number> {
  if (scope === 'global') {
    return (await q.query(`delete from auth.sessions where user_id = $1::uuid`, [userId])).rowCount
  }
  if (!currentSessionId) return 0 // a token without session_id has no "this session" to keep or end
  const keep = scope === 'others' ? '<>' : '='
  return (await q.query(`delete from auth.sessions where user_id = $1::uuid and id ${keep} $2::uuid`, [userId, currentSessionId])).rowCount
}
