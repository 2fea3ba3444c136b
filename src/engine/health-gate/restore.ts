import { ApiError } from '../../cloud/errors'
import { errorMessage, plural } from '../../shared/text'
import {
  type ElbPort,
  type Journal,
  type JournalEntry,
  type SaveJournal,
  type ScalingPort,
  byPool,
  isHealthy
} from './types'
import type { Logger, Sleep } from '../../shared/ports'

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

const isGone = (error: unknown): boolean =>
  error instanceof ApiError && (error.status === 404 || error.code === 'ELB.2012' || error.code === 'ELB.8904')

/** Entries not yet put back. */
export function openEntries(journal: Journal): JournalEntry[] {
  return journal.entries.filter((entry) => entry.state === 'draining' || entry.state === 'drained')
}

/**
 * Puts one pool's entries back to their original weights: members at weight 0 are raised; a
 * member at another weight was changed by someone else (or never drained) and is left; a
 * member no longer in the pool is gone. One batch-update for the pool.
 */
async function restorePool(
  poolId: string,
  entries: JournalEntry[],
  elb: ElbPort,
  giveUpAt: number,
  attempt = 1
): Promise<RestoreResult[]> {
  const results: RestoreResult[] = []
  try {
    const members = new Map((await elb.members(poolId)).map((m) => [m.id, m]))
    const toRaise: JournalEntry[] = []
    for (const entry of entries) {
      const member = members.get(entry.memberId)
      if (member === undefined) results.push({ entry, outcome: 'gone', detail: 'the member is no longer in the pool' })
      else if (member.weight !== 0) {
        const detail =
          member.weight === entry.originalWeight
            ? 'already at its original weight'
            : `at weight ${member.weight} now, set by someone else: left as it is`
        results.push({ entry, outcome: 'left', detail })
      } else toRaise.push(entry)
    }
    if (toRaise.length > 0) {
      await elb.setWeights(
        poolId,
        toRaise.map((e) => ({ memberId: e.memberId, weight: e.originalWeight })),
        giveUpAt
      )
      for (const entry of toRaise)
        results.push({ entry, outcome: 'restored', detail: `weight ${entry.originalWeight}` })
    }
  } catch (error) {
    const done = new Set(results.map((r) => r.entry))
    const rest = entries.filter((e) => !done.has(e))
    // A member deleted between the read and the write stops the batch there: read again, once.
    if (isGone(error) && attempt === 1) return [...results, ...(await restorePool(poolId, rest, elb, giveUpAt, 2))]
    for (const entry of rest) results.push({ entry, outcome: 'failed', detail: errorMessage(error) })
  }
  return results
}

/** Puts the entries back, all pools in parallel; records each outcome in the journal and saves it. */
export async function restoreEntries(
  journal: Journal,
  entries: readonly JournalEntry[],
  elb: ElbPort,
  giveUpAt: number,
  save: SaveJournal
): Promise<RestoreResult[]> {
  const pools = [...byPool(entries)]
  const results = (await Promise.all(pools.map(([poolId, list]) => restorePool(poolId, list, elb, giveUpAt)))).flat()
  for (const result of results) {
    if (result.outcome === 'restored' || result.outcome === 'left') result.entry.state = 'restored'
    else if (result.outcome === 'gone') result.entry.state = 'gone'
  }
  save(journal)
  return results
}

/** Whether every member of these servers in the journal's pools is healthy now. */
async function serversHealthy(journal: Journal, elb: ElbPort): Promise<boolean> {
  const watched = journal.entries.filter((e) => journal.unconfirmed.includes(e.serverId) && e.state !== 'gone')
  for (const [poolId, entries] of byPool(watched)) {
    const members = new Map((await elb.members(poolId)).map((m) => [m.id, m]))
    if (
      !entries.every((e) => {
        const m = members.get(e.memberId)
        return m === undefined || isHealthy(m)
      })
    )
      return false
  }
  return true
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
    const reads = await serversHealthy(journal, ports.elb).catch(() => false)
    healthySince = reads ? (healthySince ?? now) : null
    healthy = healthySince !== null && now - healthySince >= steadyMs
    if (healthy || clock() + 1000 > giveUpAt) break
    await sleep(1000)
  }
  const alerts: string[] = []
  for (const groupId of [...journal.pausedGroups]) {
    const how = `Resume it once its servers are healthy: in the console (Auto Scaling > the group > Enable), or POST /autoscaling-api/v1/{project_id}/scaling_group/${groupId}/action with {"action":"resume"}.`
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

/** Everything still drained put back, then the paused groups resumed when safe: after a failure, a cancellation, or in the post step. */
export async function restoreAll(
  journal: Journal,
  ports: RestorePorts,
  giveUpAt: number,
  save: SaveJournal
): Promise<{ results: RestoreResult[]; alerts: string[] }> {
  const open = openEntries(journal)
  const results = open.length > 0 ? await restoreEntries(journal, open, ports.elb, giveUpAt, save) : []
  const failed = results.filter((r) => r.outcome === 'failed')
  if (open.length > 0) {
    ports.log.info(
      `Restored ${plural(results.filter((r) => r.outcome === 'restored').length, 'member')} of ${open.length} still drained`
    )
  }
  const alerts = failed.map(
    (r) =>
      `Member ${r.entry.memberId} of server ${r.entry.serverId} in pool ${r.entry.poolId} is still at weight 0: set it back to ${r.entry.originalWeight} by hand (${r.detail}).`
  )
  alerts.push(...(await resumeGroups(journal, ports, giveUpAt, save)))
  return { results, alerts }
}
