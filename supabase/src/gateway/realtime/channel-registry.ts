import type { ChannelMember } from './channel-member.ts'

/** Every joined channel of the gateway, by topic, and those that listen to postgres_changes. */
export class ChannelRegistry {
  private readonly byTopic = new Map<string, Set<ChannelMember>>()
  private readonly changeListeners = new Set<ChannelMember>()

  add(member: ChannelMember): void {
    let members = this.byTopic.get(member.topic)
    if (!members) this.byTopic.set(member.topic, (members = new Set()))
    members.add(member)
    if (member.bindings.length > 0) this.changeListeners.add(member)
  }

  remove(member: ChannelMember): void {
    const members = this.byTopic.get(member.topic)
    members?.delete(member)
    if (members?.size === 0) this.byTopic.delete(member.topic)
    this.changeListeners.delete(member)
  }

  members(topic: string): Iterable<ChannelMember> {
    return this.byTopic.get(topic) ?? []
  }

  /** A snapshot, so a join or leave during a fan-out does not disturb it. */
  postgresListeners(): ChannelMember[] {
    return [...this.changeListeners]
  }
}
