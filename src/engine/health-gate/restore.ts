import type { ElbMember } from '../../cloud/elb'
import { errorMessage, plural } from '../../shared/text'
import {
  type ElbPort,
  type Journal,
  type JournalEntry,
  type SaveJournal,
  type ScalingPort,
  type StandbyEntry,
  byPool,
  isHealthy,
  isPending
} from './types'
import type { Logger, Sleep } from '../../shared/ports'
import { isGone, readMembers } from './pool-read'
import { resumeHint } from './scaling-groups'
import { bringBack, isUnbound } from './standby'

/** What became of one drained member when it was put back. */
export interface RestoreResult {
  entry: JournalEntry
  /** restored; left: not at weight 0 any more (someone set it), left as found; gone: deleted; failed. */
  outcome: 'restored' | 'left' | 'gone' | 'failed'
  detail: string
}

export interface RestorePorts {
  elb: ElbPort
  scaling?: ScalingPort
  log: Logger
  clock: () => number
  sleep: Sleep
}

/** The detail of a `gone` result whose whole pool was deleted. */
export const POOL_GONE = 'nothing to restore: the pool no longer exists'

/** Entries not yet put back by a weight write (members standby took out come back by exiting it). */
export function openEntries(journal: Journal): JournalEntry[] {
  return journal.entries.filter((entry) => entry.state === 'draining' || isPending(entry))
}

/** Servers this run put in standby that are not known to be out of it. */
export function inStandby(journal: Journal): StandbyEntry[] {
  return journal.standby.filter((entry) => entry.state !== 'exited')
}

/** Whether the journal holds anything to put back: a drained member, a paused group, a server in standby. */
export function needsRestore(journal: Journal): boolean {
  return (
    openEntries(journal).length > 0 ||
    journal.pausedGroups.length > 0 ||
    inStandby(journal).length > 0 ||
    journal.entries.some(isUnbound)
  )
}

/** A pool's members by id, or undefined when the pool itself no longer exists. */
async function readPool(elb: ElbPort, poolId: string, giveUpAt: number): Promise<Map<string, ElbMember> | undefined> {
  const members = await readMembers(elb, poolId, giveUpAt)
  return members && new Map(members.map((m) => [m.id, m]))
}

/** One pool's restore in progress: the results so far, and the entries whose weight was sent. */
interface PoolRestore {
  poolId: string
  results: RestoreResult[]
  /** Entries this run sent back to their original weight (the call may have failed part-way). */
  sent: Set<JournalEntry>
}

const restored = (entry: JournalEntry): RestoreResult => ({
  entry,
  outcome: 'restored',
  detail: `weight ${entry.originalWeight}`
})

/** What to do with one entry, given its member as read now. */
function judge(entry: JournalEntry, member: ElbMember | undefined, sent: Set<JournalEntry>): RestoreResult | 'raise' {
  if (member === undefined) return { entry, outcome: 'gone', detail: 'the member is no longer in the pool' }
  // Re-created by Auto Scaling at its listener weight when the server left standby: set back.
  if (entry.state === 'rebound' && member.weight !== entry.originalWeight) return 'raise'
  if (member.weight === 0) return 'raise'
  // Sent back by this run before a later member of the same call stopped it: this run's doing.
  if (member.weight === entry.originalWeight && sent.has(entry)) return restored(entry)
  const detail =
    member.weight === entry.originalWeight
      ? 'already at its original weight'
      : `at weight ${member.weight} now, set by someone else: left as it is`
  return { entry, outcome: 'left', detail }
}

/**
 * Reads the pool once (or takes `read`, its members as just read) and raises its members still at
 * weight 0 back, in one setWeights call.
 */
async function restoreOnce(
  state: PoolRestore,
  entries: JournalEntry[],
  elb: ElbPort,
  giveUpAt: number,
  read?: ElbMember[]
): Promise<void> {
  const { poolId, results, sent } = state
  const members = read === undefined ? await readPool(elb, poolId, giveUpAt) : new Map(read.map((m) => [m.id, m]))
  if (members === undefined) {
    const detail = POOL_GONE
    for (const entry of entries) results.push({ entry, outcome: 'gone', detail })
    return
  }
  const toRaise: JournalEntry[] = []
  for (const entry of entries) {
    const verdict = judge(entry, members.get(entry.memberId), sent)
    if (verdict === 'raise') toRaise.push(entry)
    else results.push(verdict)
  }
  if (toRaise.length === 0) return
  for (const entry of toRaise) sent.add(entry)
  const byMember = new Map(toRaise.map((e) => [e.memberId, e]))
  const changes = toRaise.map((e) => ({ memberId: e.memberId, weight: e.originalWeight }))
  await elb.setWeights(poolId, changes, giveUpAt, (accepted) => {
    for (const change of accepted) results.push(restored(byMember.get(change.memberId) as JournalEntry))
  })
  const done = new Set(results.map((r) => r.entry))
  for (const entry of toRaise.filter((e) => !done.has(e))) results.push(restored(entry))
}

/**
 * Puts one pool's entries back to their original weights: members at weight 0 are raised; a
 * member at another weight was changed by someone else (or never drained) and is left; a
 * member no longer in the pool, or in a pool that no longer exists, is gone. One batch-update
 * for the pool. A member deleted between the read and the write stops the call there: the pool
 * is read again, once, and what this run already put back counts as restored.
 */
async function restorePool(
  poolId: string,
  entries: JournalEntry[],
  elb: ElbPort,
  giveUpAt: number,
  read?: ElbMember[]
): Promise<RestoreResult[]> {
  const state: PoolRestore = { poolId, results: [], sent: new Set() }
  const open = (): JournalEntry[] => {
    const done = new Set(state.results.map((r) => r.entry))
    return entries.filter((e) => !done.has(e))
  }
  for (let attempt = 1; ; attempt++) {
    try {
      // A retry reads the pool again: the member that stopped the call was deleted after `read`.
      await restoreOnce(state, open(), elb, giveUpAt, attempt === 1 ? read : undefined)
      return state.results
    } catch (error) {
      if (isGone(error) && attempt === 1) continue
      for (const entry of open()) state.results.push({ entry, outcome: 'failed', detail: errorMessage(error) })
      return state.results
    }
  }
}

/**
 * Puts the entries back, all pools in parallel; records each outcome in the journal and saves it.
 * `read`: pools' members as just read by the caller, judged instead of reading those pools again.
 */
export async function restoreEntries(
  journal: Journal,
  entries: readonly JournalEntry[],
  elb: ElbPort,
  giveUpAt: number,
  save: SaveJournal,
  read?: ReadonlyMap<string, ElbMember[]>
): Promise<RestoreResult[]> {
  const pools = [...byPool(entries)]
  const results = (
    await Promise.all(pools.map(([poolId, list]) => restorePool(poolId, list, elb, giveUpAt, read?.get(poolId))))
  ).flat()
  for (const result of results) {
    if (result.outcome === 'restored' || result.outcome === 'left') result.entry.state = 'restored'
    else if (result.outcome === 'gone') result.entry.state = 'gone'
  }
  save(journal)
  return results
}

/** Whether every member of these servers in the journal's pools is healthy now. */
async function serversHealthy(journal: Journal, elb: ElbPort, giveUpAt: number): Promise<boolean> {
  const watched = journal.entries.filter((e) => journal.unconfirmed.includes(e.serverId) && e.state !== 'gone')
  const pools = [...byPool(watched)]
  const reads = await Promise.all(pools.map(([poolId]) => readPool(elb, poolId, giveUpAt)))
  return pools.every(([, entries], i) => {
    // A pool that no longer exists holds nothing to wait for; nor does a member no longer in it.
    const member = (e: JournalEntry): ElbMember | undefined => reads[i]?.get(e.memberId)
    return entries.every((e) => {
      const m = member(e)
      return m === undefined || isHealthy(m)
    })
  })
}

/**
 * Resumes the scaling groups this run paused, but only once the servers of the interrupted wave
 * are healthy again (a group resumed earlier deletes them as unhealthy), waiting until `giveUpAt`.
 * Returns an alert per group left paused, naming it and how to resume it.
 */
export async function resumeGroups(
  journal: Journal,
  ports: RestorePorts,
  giveUpAt: number,
  save: SaveJournal
): Promise<string[]> {
  const { scaling, log, clock, sleep } = ports
  if (journal.pausedGroups.length === 0 || scaling === undefined) return []
  // A server still rebooting can read ONLINE until its load balancer has seen enough failed
  // probes: trust health only once it has held for that long without a break. Servers the gate
  // saw healthy (no longer unconfirmed) need no second look.
  const steadyMs = journal.unconfirmed.length === 0 ? 0 : journal.steadyMs
  let healthySince: number | null = null
  let healthy: boolean
  for (;;) {
    const now = clock()
    const reads = await serversHealthy(journal, ports.elb, giveUpAt).catch(() => false)
    healthySince = reads ? (healthySince ?? now) : null
    healthy = healthySince !== null && now - healthySince >= steadyMs
    if (healthy || clock() + 1000 > giveUpAt) break
    await sleep(1000)
  }
  const alerts: string[] = []
  for (const groupId of [...journal.pausedGroups]) {
    const how = resumeHint(groupId)
    if (!healthy) {
      alerts.push(
        `Scaling group ${groupId} was left PAUSED: servers it restarted (${journal.unconfirmed.join(', ')}) were not healthy yet, and a resumed group would delete them. ${how}`
      )
      continue
    }
    try {
      await scaling.setPaused(groupId, false, giveUpAt)
      journal.pausedGroups = journal.pausedGroups.filter((id) => id !== groupId)
      save(journal)
      log.info(`Resumed scaling group ${groupId}`)
    } catch (error) {
      alerts.push(`Scaling group ${groupId} could not be resumed (${errorMessage(error)}) and is still PAUSED. ${how}`)
    }
  }
  return alerts
}

/**
 * Everything still drained put back, then the paused groups resumed when safe: after a failure,
 * a cancellation, or in the post step. Servers still in standby are first brought back (their
 * group paused, exited, their new members found), and their new members set to their weights.
 */
export async function restoreAll(
  journal: Journal,
  ports: RestorePorts,
  giveUpAt: number,
  save: SaveJournal
): Promise<{ results: RestoreResult[]; alerts: string[] }> {
  const alerts: string[] = []
  if (ports.scaling !== undefined && (inStandby(journal).length > 0 || journal.entries.some(isUnbound))) {
    const { elb, scaling, log, clock, sleep } = ports
    const context = { journal, save, foreign: new Set<string>(), giveUpAt, pollMs: 1000 }
    const problems = await bringBack({ ...context, ports: { elb, scaling, log, clock, sleep } }, journal.standby)
    for (const [serverId, why] of problems) alerts.push(`Server ${serverId}: ${why}`)
  }
  const open = openEntries(journal)
  const results = open.length > 0 ? await restoreEntries(journal, open, ports.elb, giveUpAt, save) : []
  const failed = results.filter((r) => r.outcome === 'failed')
  if (open.length > 0) {
    ports.log.info(
      `Restored ${plural(results.filter((r) => r.outcome === 'restored').length, 'member')} of ${open.length} still drained`
    )
  }
  alerts.push(
    ...failed.map(
      (r) =>
        `Member ${r.entry.memberId} of server ${r.entry.serverId} in pool ${r.entry.poolId} is still at weight ${r.entry.state === 'rebound' ? 'its scaling group gave it' : 0}: set it back to ${r.entry.originalWeight} by hand (${r.detail}).`
    )
  )
  alerts.push(...(await resumeGroups(journal, ports, giveUpAt, save)))
  return { results, alerts }
}
