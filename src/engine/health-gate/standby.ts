import type { ElbMember } from '../../cloud/elb'
import type { Logger, Sleep } from '../../shared/ports'
import { errorMessage, plural } from '../../shared/text'
import { readMembers } from './pool-read'
import { exitStandbyHint, pauseGroup } from './scaling-groups'
import type {
  ElbPort,
  Journal,
  JournalEntry,
  Membership,
  SaveJournal,
  ScalingPort,
  StandbyEntry,
  StandbyTopology
} from './types'

/** What standby needs: the ELB to watch members leave and come back, AS to enter and exit. */
export interface StandbyContext {
  journal: Journal
  ports: { elb: ElbPort; scaling: ScalingPort; log: Logger; clock: () => number; sleep: Sleep; signal?: AbortSignal }
  save: SaveJournal
  /** Groups found paused by someone else: left paused, never resumed. */
  foreign: Set<string>
  giveUpAt: number
  /** Between two reads of the pools while waiting for AS to unbind or bind members. */
  pollMs: number
}

/** A member standby took (or is about to take) out, not yet bound again. */
export const isUnbound = (entry: JournalEntry): boolean => entry.state === 'unbinding' || entry.state === 'unbound'

/** The servers of `entries` (in their order), per group. */
function byGroup(entries: readonly { groupId: string; serverId: string }[]): Map<string, string[]> {
  const groups = new Map<string, string[]>()
  for (const { groupId, serverId } of entries) groups.set(groupId, [...(groups.get(groupId) ?? []), serverId])
  return groups
}

/** The group whose standby takes this member out of its pool, if any. */
export function unbindingGroup(standby: StandbyTopology | undefined, membership: Membership): string | undefined {
  const groupId = standby?.groupOf.get(membership.serverId)
  if (groupId === undefined) return undefined
  return standby?.poolsOf.get(groupId)?.includes(membership.poolId) ? groupId : undefined
}

/**
 * Reads the pools every `pollMs` until `done` holds for the members read (undefined: the pool was
 * deleted), or `giveUpAt`: whether it held.
 */
async function waitForPools(
  context: StandbyContext,
  poolIds: readonly string[],
  done: (members: Map<string, ElbMember[] | undefined>) => boolean
): Promise<boolean> {
  const { elb, clock, sleep, signal } = context.ports
  for (;;) {
    const lists = await Promise.all(poolIds.map((id) => readMembers(elb, id, context.giveUpAt)))
    if (done(new Map(poolIds.map((id, i) => [id, lists[i]])))) return true
    if (clock() + context.pollMs > context.giveUpAt || signal?.aborted === true) return false
    await sleep(context.pollMs, signal)
  }
}

/**
 * Puts the wave's servers that are in a declared group into standby, journaled first, at most 10
 * per call, then waits (until `giveUpAt`) until AS has taken their members out of the group's
 * pools. A reason when the wave must not go on; the caller then brings back what entered.
 */
export async function enterStandby(
  context: StandbyContext,
  wave: number,
  standby: StandbyTopology,
  serverIds: readonly string[]
): Promise<string | null> {
  const { journal, save, ports } = context
  const entries: StandbyEntry[] = serverIds.flatMap((serverId) => {
    const groupId = standby.groupOf.get(serverId)
    return groupId === undefined ? [] : [{ groupId, serverId, wave, state: 'entering' as const }]
  })
  if (entries.length === 0) return null
  journal.standby.push(...entries)
  save(journal)
  for (const [groupId, ids] of byGroup(entries)) {
    try {
      await ports.scaling.setStandby(groupId, ids, true, context.giveUpAt, (accepted) => {
        for (const entry of entries.filter((e) => accepted.includes(e.serverId))) entry.state = 'standby'
        save(journal)
      })
    } catch (error) {
      return `Not restarted: ${plural(ids.length, 'server')} (${ids.join(', ')}) could not enter standby in scaling group ${groupId} (${errorMessage(error)}); what entered was taken out of standby again.`
    }
    ports.log.info(`Wave ${wave}: ${ids.join(', ')} in standby in scaling group ${groupId}`)
  }
  return confirmUnbound(context, wave)
}

/** Waits until the members standby takes out are gone from their pools; marks them unbound. */
async function confirmUnbound(context: StandbyContext, wave: number): Promise<string | null> {
  const { journal, save } = context
  const unbinding = journal.entries.filter((e) => e.wave === wave && e.state === 'unbinding')
  if (unbinding.length === 0) return null
  const poolIds = [...new Set(unbinding.map((e) => e.poolId))]
  const ids = new Set(unbinding.map((e) => e.memberId))
  let gone: boolean
  try {
    gone = await waitForPools(context, poolIds, (members) =>
      [...members.values()].every((list) => (list ?? []).every((m) => !ids.has(m.id)))
    )
  } catch (error) {
    return `Not restarted: wave ${wave}'s servers entered standby, but their pools could not be read to check that their members left (${errorMessage(error)}).`
  }
  if (!gone) {
    return `Not restarted: wave ${wave}'s servers entered standby, but their scaling groups did not take them out of pools ${poolIds.join(', ')} in time; they were taken out of standby again.`
  }
  for (const entry of unbinding) entry.state = 'unbound'
  save(journal)
  return null
}

/** What bringing servers back out of standby left undone, per server: why. */
export type StandbyProblems = Map<string, string>

/**
 * Brings the servers of `entries` out of standby, the harsh way: whatever still reads STANDBY in
 * its group (entries already in service are not exited again) has its group paused first (a
 * group someone else paused stays paused), is journaled, then exited, at most 10 per call; then
 * the NEW members AS binds are found and journaled (`rebound`). Problems name the server, the
 * group and the fix; nothing is left in standby without one.
 */
export async function bringBack(context: StandbyContext, entries: readonly StandbyEntry[]): Promise<StandbyProblems> {
  const problems: StandbyProblems = new Map()
  const open = entries.filter((e) => e.state !== 'exited')
  for (const [groupId, serverIds] of byGroup(open)) {
    const mine = open.filter((e) => e.groupId === groupId)
    try {
      for (const [id, why] of await exitGroup(context, groupId, mine)) problems.set(id, why)
    } catch (error) {
      const still = serverIds.filter((id) => mine.some((e) => e.serverId === id && e.state !== 'exited'))
      const why = `STILL IN STANDBY in scaling group ${groupId}: it could not be taken out (${errorMessage(error)}). ${exitStandbyHint(groupId, still)}`
      for (const id of still) problems.set(id, why)
    }
  }
  for (const [serverId, why] of await rebind(context)) problems.set(serverId, why)
  return problems
}

/** Life-cycle states in which an instance is in service (or on its way), not in standby. */
const IN_SERVICE = new Set(['INSERVICE', 'PENDING', 'PENDING_WAIT'])

/**
 * One group: reads the real life-cycle states, pauses the group, exits what is in standby. A
 * server no longer in the group (removed by AS) is a problem: nothing will bind it again.
 */
async function exitGroup(context: StandbyContext, groupId: string, entries: StandbyEntry[]): Promise<StandbyProblems> {
  const { journal, save, ports, giveUpAt } = context
  const states = new Map((await ports.scaling.instances(groupId, giveUpAt)).map((i) => [i.serverId, i.lifeCycleState]))
  const problems: StandbyProblems = new Map()
  for (const entry of entries.filter((e) => !states.has(e.serverId))) {
    problems.set(
      entry.serverId,
      `No longer in scaling group ${groupId} (removed by Auto Scaling, or by someone else): check the server.`
    )
    for (const member of journal.entries.filter((m) => m.serverId === entry.serverId && isUnbound(m))) {
      member.state = 'gone'
    }
  }
  const toExit = entries.filter((e) => states.has(e.serverId) && !IN_SERVICE.has(states.get(e.serverId) ?? ''))
  // Not in standby (it never entered, or it left already): nothing to exit.
  for (const entry of entries.filter((e) => !toExit.includes(e))) entry.state = 'exited'
  save(journal)
  if (toExit.length === 0) return problems
  await pauseGroup(groupId, journal, ports, context.foreign, giveUpAt, save)
  for (const entry of toExit) entry.state = 'exiting'
  save(journal)
  const ids = toExit.map((e) => e.serverId)
  try {
    await ports.scaling.setStandby(groupId, ids, false, giveUpAt, (accepted) => {
      for (const entry of toExit.filter((e) => accepted.includes(e.serverId))) entry.state = 'exited'
      save(journal)
    })
  } finally {
    for (const entry of toExit.filter((e) => e.state === 'exiting')) entry.state = 'standby'
    save(journal)
  }
  ports.log.info(`Took ${ids.join(', ')} out of standby in scaling group ${groupId} (paused while they turn healthy)`)
  return problems
}

/**
 * Finds the member each server out of standby has again in each pool standby took it out of: the
 * old member when it never left; else a member of the server (by `instance_id`, as discovery
 * finds them) no other entry claims, which AS created on exit. Waits for AS to bind them until
 * `giveUpAt`.
 */
async function rebind(context: StandbyContext): Promise<StandbyProblems> {
  const { journal, save } = context
  const exited = new Set(journal.standby.filter((s) => s.state === 'exited').map((s) => s.serverId))
  const waiting = journal.entries.filter((e) => isUnbound(e) && exited.has(e.serverId))
  if (waiting.length === 0) return new Map()
  const poolIds = [...new Set(waiting.map((e) => e.poolId))]
  await waitForPools(context, poolIds, (members) => {
    const claimed = new Set(journal.entries.map((e) => e.memberId))
    for (const entry of waiting.filter(isUnbound)) {
      const list = members.get(entry.poolId)
      if (list === undefined) {
        entry.state = 'gone' // the pool was deleted: nothing to bind again
        continue
      }
      if (list.some((m) => m.id === entry.memberId)) {
        entry.state = 'drained' // never taken out: the member as it was, at weight 0
        continue
      }
      const found = list.find((m) => m.instanceId === entry.serverId && !claimed.has(m.id))
      if (found === undefined) continue
      claimed.add(found.id)
      Object.assign(entry, { previousMemberId: entry.memberId, memberId: found.id, state: 'rebound' })
    }
    save(journal)
    return !waiting.some(isUnbound)
  })
  return lostMembers(context, waiting)
}

/** Members AS did not bind again in time: gone, each a problem naming the pool and the weight to set. */
function lostMembers(context: StandbyContext, waiting: JournalEntry[]): StandbyProblems {
  const problems: StandbyProblems = new Map()
  const lost = waiting.filter(isUnbound)
  for (const entry of lost) {
    entry.state = 'gone'
    problems.set(
      entry.serverId,
      `Out of standby, but scaling group ${entry.standbyGroup ?? ''} did not bind it to pool ${entry.poolId} again in time: check the group's load balancer listeners, and add the server back with weight ${entry.originalWeight} if it stays out.`
    )
  }
  if (lost.length > 0) context.save(context.journal)
  return problems
}
