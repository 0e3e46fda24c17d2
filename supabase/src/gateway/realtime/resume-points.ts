import type { Database } from '../../db/database.ts'
import type { ChannelMember } from './channel-member.ts'

/** How long after a gateway stopped a rejoining channel still counts as resuming. */
const RESUME_WITHIN_SECONDS = 120

const subjectOf = (member: ChannelMember) => String(member.identity.claims.sub ?? member.identity.role)
const bindingsOf = (member: ChannelMember) =>
  JSON.stringify(member.bindings.map((b) => [b.event, b.schema, b.table ?? null, b.conditions, b.select ?? null]))

/** On close: remember the channels that listened to postgres_changes (realtime.resume_point). */
export async function saveResumePoints(db: Database, members: ChannelMember[]): Promise<void> {
  if (members.length === 0) return
  await db.query(
    `insert into realtime.resume_point (topic, subject, bindings)
     select * from unnest($1::text[], $2::text[], $3::text[])`,
    [members.map((m) => m.topic), members.map(subjectOf), members.map(bindingsOf)],
  )
}

/**
 * Whether this join resumes a channel of the previous gateway (consumes one matching point, so
 * two identical subscribers resume once each). Old points are pruned on the way.
 */
export async function takeResumePoint(db: Database, member: ChannelMember): Promise<boolean> {
  const { rows } = await db.query(
    `with stale as (
       delete from realtime.resume_point where closed_at < clock_timestamp() - make_interval(secs => $4::integer)
     ), taken as (
       delete from realtime.resume_point
        where ctid = (select ctid from realtime.resume_point
                       where topic = $1::text and subject = $2::text and bindings = $3::text
                         and closed_at >= clock_timestamp() - make_interval(secs => $4::integer)
                       limit 1)
       returning 1
     )
     select count(*)::integer as taken from taken`,
    [member.topic, subjectOf(member), bindingsOf(member), RESUME_WITHIN_SECONDS],
  )
  return ((rows[0] as { taken?: number } | undefined)?.taken ?? 0) > 0
}
