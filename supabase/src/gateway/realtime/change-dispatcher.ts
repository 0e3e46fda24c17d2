import type { Database } from '../../db/database.ts'
import { matchesFilter } from './change-filter.ts'
import type { ChangeRow } from './change-log.ts'
import type { ChannelMember, PostgresBinding } from './channel-member.ts'
import type { TableCatalog, TableInfo } from './table-catalog.ts'

interface Candidate {
  member: ChannelMember
  change: number
  bindings: PostgresBinding[]
}

function bindingMatches(binding: PostgresBinding, change: ChangeRow): boolean {
  if (binding.event !== '*' && binding.event !== change.type) return false
  if (binding.schema !== change.schema && binding.schema !== '*') return false
  if (binding.table !== undefined && binding.table !== '*' && binding.table !== change.table) return false
  // DELETE is filtered on the old row image (the trigger keeps all of it; hosted Supabase can
  // only do that under REPLICA IDENTITY FULL).
  return matchesFilter(binding.conditions, change.type === 'DELETE' ? change.oldRecord : change.record)
}

const pick = (record: Record<string, unknown> | null, names: string[]) =>
  record && Object.fromEntries(names.filter((n) => n in record).map((n) => [n, record[n]]))

/**
 * The `data` of a postgres_changes message as hosted Supabase sends it. old_record holds only
 * the primary key unless the table is REPLICA IDENTITY FULL without row level security (with RLS
 * the old version may be one the subscriber could not see), so an UPDATE or DELETE never shows
 * more of the old row than hosted Supabase would.
 */
function changeData(change: ChangeRow, table: TableInfo, select?: string[]) {
  const columns = select ? table.columns.filter((c) => select.includes(c.name)) : table.columns
  const names = columns.map((c) => c.name)
  const oldNames = table.replicaIdentityFull && !table.rowSecurity ? names : table.primaryKey
  const data: Record<string, unknown> = {
    schema: change.schema,
    table: change.table,
    commit_timestamp: change.changedAt,
    type: change.type,
    columns,
    errors: null,
  }
  if (change.type !== 'DELETE') data.record = select ? pick(change.record, names) : change.record
  if (change.type !== 'INSERT') data.old_record = pick(change.oldRecord, oldNames) ?? {}
  return data
}

/**
 * Fans a batch of changes out to the channels listening to postgres_changes, each message only
 * to members whose JWT may select the row under RLS. Visibility for the whole batch is decided
 * in ONE round trip (realtime.visible_changes), whatever the number of subscribers.
 */
export class ChangeDispatcher {
  constructor(
    private readonly db: Database,
    private readonly catalog: TableCatalog,
  ) {}

  async dispatch(changes: ChangeRow[], members: ChannelMember[]): Promise<void> {
    if (changes.length === 0 || members.length === 0) return
    const candidates: Candidate[] = []
    for (let c = 0; c < changes.length; c++) {
      for (const member of members) {
        const bindings = member.bindings.filter((b) => bindingMatches(b, changes[c]!))
        if (bindings.length > 0) candidates.push({ member, change: c, bindings })
      }
    }
    if (candidates.length === 0) return

    const visible = await this.visibility(changes, candidates)
    const tables = new Map<string, TableInfo | undefined>()
    for (const change of changes) {
      const key = `${change.schema}.${change.table}`
      if (!tables.has(key)) tables.set(key, await this.catalog.get(change.schema, change.table, change.record ?? change.oldRecord))
    }

    // Serialize each change's data once; every recipient only wraps its own binding ids.
    const dataJson = new Map<string, string>()
    for (const candidate of candidates) {
      if (!visible.has(`${candidate.member.identity.token}\u0000${candidate.change}`)) continue
      const change = changes[candidate.change]!
      const table = tables.get(`${change.schema}.${change.table}`)
      if (!table) continue // dropped since: nothing sensible to describe
      const bySelect = new Map<string, number[]>()
      for (const b of candidate.bindings) {
        const key = b.select ? b.select.join(',') : ''
        bySelect.set(key, [...(bySelect.get(key) ?? []), b.id])
      }
      for (const [selectKey, ids] of bySelect) {
        const cacheKey = `${candidate.change}\u0000${selectKey}`
        let json = dataJson.get(cacheKey)
        if (json === undefined) {
          json = JSON.stringify(changeData(change, table, selectKey ? selectKey.split(',') : undefined))
          dataJson.set(cacheKey, json)
        }
        const { member } = candidate
        member.send(
          `[${JSON.stringify(member.joinRef)},null,${JSON.stringify(member.topic)},"postgres_changes",{"ids":${JSON.stringify(ids)},"data":${json}}]`,
        )
      }
    }
  }

  /** `token\0changeIndex` for every (identity, change) that RLS lets through. */
  private async visibility(changes: ChangeRow[], candidates: Candidate[]): Promise<Set<string>> {
    const identities = new Map<string, number>()
    const tokens: string[] = []
    const groups = new Map<string, { identity: number; role: string; claims: unknown; schema: string; table: string; items: unknown[]; seen: Set<number> }>()
    for (const { member, change } of candidates) {
      const { token, role, claims } = member.identity
      let identity = identities.get(token)
      if (identity === undefined) {
        identity = tokens.push(token) - 1
        identities.set(token, identity)
      }
      const row = changes[change]!
      const key = `${identity}\u0000${row.schema}\u0000${row.table}`
      let group = groups.get(key)
      if (!group) {
        group = { identity, role, claims: { ...claims, role }, schema: row.schema, table: row.table, items: [], seen: new Set() }
        groups.set(key, group)
      }
      if (group.seen.has(change)) continue
      group.seen.add(change)
      group.items.push({ change, type: row.type, record: row.record, old_record: row.oldRecord })
    }
    const payload = [...groups.values()].map(({ seen: _seen, ...group }) => group)
    const { rows } = await this.db.query<{ identity: number; change: number }>(
      'select identity, change from realtime.visible_changes($1::jsonb)',
      [JSON.stringify(payload)],
    )
    return new Set(rows.map((r) => `${tokens[r.identity]}\u0000${r.change}`))
  }
}
