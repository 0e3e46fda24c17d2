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
  /** The session answers with the child token: just issued, or issued by a refresh moments ago. */
  | { outcome: 'rotated'; session: SessionRow }
  /** The token had been rotated before, past the reuse interval: the whole session was deleted (reuse detection). */
  | { outcome: 'reused' }
  /** Another request rotated this token while we waited for its row lock: we lost the race. */
  | { outcome: 'raced' }
  | { outcome: 'not_found' }

/**
 * Refresh-token rotation and reuse detection in ONE statement. `childHash` is the hash of the
 * token the presented one rotates into, which is derived from it (childRefreshToken), so a
 * repeated presentation names the same child:
 * - `rotated`: the presented token is revoked and its child inserted — only when it was not
 *   revoked yet, re-checked after waiting for a concurrent refresh's row lock, so of two
 *   concurrent refreshes of one token exactly one rotates. Also `rotated` (GoTrue's reuse
 *   interval): the token was revoked less than `reuseSeconds` ago and its child is the session's
 *   live token; nothing is inserted and the caller answers with that child again.
 * - `reused`: the token was already revoked when this statement began, and not that recently
 *   (or its child has rotated on since): someone presents a token that was rotated away, so the
 *   session (and with it every refresh token of it) is deleted.
 * - `raced`: our statement's snapshot still saw the token unrevoked, but the update found it
 *   revoked: a concurrent refresh committed while we waited. The winner's child is invisible to
 *   this statement's snapshot: reissueChild, a statement of its own, looks for it.
 * - `not_found`: no such token (never issued, or its session was signed out).
 */
export async function rotateRefreshToken(q: Queryable, presentedHash: string, childHash: string, reuseSeconds: number): Promise<RotationOutcome> {
  const { rows } = await q.query<{ outcome: RotationOutcome['outcome'] } & Partial<SessionRow>>(
    `with presented as (
       select t.id, t.session_id, t.revoked, t.updated_at from auth.refresh_tokens t where t.token_hash = $1::text
     ), rotated as (
       update auth.refresh_tokens t set revoked = true, updated_at = now()
        where t.token_hash = $1::text and not t.revoked
       returning t.id, t.session_id, t.user_id
     ), issued as (
       insert into auth.refresh_tokens (token_hash, user_id, session_id, parent)
       select $2::text, r.user_id, r.session_id, r.id from rotated r
       returning session_id
     ), reissued as (
       select c.session_id from presented p
         join auth.refresh_tokens c on c.parent = p.id and c.token_hash = $2::text and not c.revoked
        where p.revoked and p.updated_at > now() - make_interval(secs => $3::double precision)
     ), refreshed as (
       update auth.sessions s set refreshed_at = now(), updated_at = now()
        where s.id in (select session_id from issued union all select session_id from reissued)
       returning s.id, s.user_id, s.aal, s.amr_method, s.created_at
     ), reused as (
       delete from auth.sessions s using presented p
        where s.id = p.session_id and p.revoked and not exists (select 1 from reissued)
       returning s.id
     )
     select case when exists (select 1 from refreshed) then 'rotated'
                 when exists (select 1 from reused) then 'reused'
                 when exists (select 1 from presented where not revoked) then 'raced'
                 else 'not_found' end as outcome,
            r.id::text, r.user_id::text, r.aal, r.amr_method,
            floor(extract(epoch from r.created_at))::int as authenticated_at
       from (select 1) one left join refreshed r on true`,
    [presentedHash, childHash, reuseSeconds],
  )
  const row = rows[0]!
  if (row.outcome === 'rotated') return { outcome: 'rotated', session: row as SessionRow }
  return { outcome: row.outcome }
}

/**
 * After a lost race (`raced`): the winner committed, so this statement's snapshot sees its child.
 * When that child is still the session's live token, the loser gets it too (as GoTrue answers a
 * concurrent refresh within its reuse interval); null when it is not (or there is none).
 */
export async function reissueChild(q: Queryable, presentedHash: string, childHash: string): Promise<SessionRow | null> {
  const { rows } = await q.query<SessionRow>(
    `select s.id::text, s.user_id::text, s.aal, s.amr_method, floor(extract(epoch from s.created_at))::int as authenticated_at
       from auth.refresh_tokens p
       join auth.refresh_tokens c on c.parent = p.id and c.token_hash = $2::text and not c.revoked
       join auth.sessions s on s.id = c.session_id
      where p.token_hash = $1::text and p.revoked`,
    [presentedHash, childHash],
  )
  return rows[0] ?? null
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
