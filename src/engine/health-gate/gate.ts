import type { ScalingGroup } from '../../cloud/autoscaling'
import type { ElbMember } from '../../cloud/elb'
import { errorMessage, formatDuration, plural } from '../../shared/text'
import type { WaveGuard } from '../batch-run'
import { type PoolCounts, type ServerWatch, newWatch, observe, readWatch, staleGuardMs } from './health-wait'
import { type RestoreResult, resumeGroups, restoreEntries } from './restore'
import {
  type GatePorts,
  type GatePool,
  type Journal,
  type JournalEntry,
  type Membership,
  type SaveJournal,
  type Topology,
  isHealthy
} from './types'

export interface GateSettings {
  /** After draining, before the restart: weight propagation (up to 5 s) plus in-flight requests. */
  drainMs: number
  /** Per wave, from the end of its restart jobs. */
  healthTimeoutMs: number
  /** The shortest time between two health reads (never below a pool's probe interval). */
  pollIntervalMs: number
  /** Consecutive healthy reads needed. */
  stablePolls: number
  /** The run's deadline (ms since the epoch). */
  deadline: number
  /** Scaling groups to pause around each wave. */
  scalingGroupIds: readonly string[]
}

/** One wave as the report and the benchmark see it. */
export interface WaveReport {
  wave: number
  servers: string[]
  drainMs: number
  jobMs: number
  healthyMs: number
  restoreMs: number
  pools: PoolCounts[]
  /** Per server: from the end of its restart job to healthy, or null when it never was. */
  timeToHealthyMs: Record<string, number | null>
}

export interface GateReport {
  waves: WaveReport[]
  restores: RestoreResult[]
  /** Things a person must act on (error annotations). */
  alerts: string[]
}

/** How long an ELB call (a read, a drain, a restore) may keep waiting out throttling or a busy load balancer. */
const ELB_PATIENCE_MS = 60_000

/**
 * The health gate around each wave: before it, checks that every pool it touches can spare its
 * members, pauses the scaling groups, journals and drains (weight 0); after the restart, waits
 * until each server is healthy behind every load balancer (stale-ONLINE guard, consecutive
 * reads; shared load balancers restored first, dedicated ones gated at weight 0), restores the
 * weights and resumes the groups.
 */
export class HealthGate implements WaveGuard {
  readonly journal: Journal = { version: 1, entries: [], pausedGroups: [], unconfirmed: [], steadyMs: 0 }
  readonly report: GateReport = { waves: [], restores: [], alerts: [] }
  private readonly foreignPaused = new Set<string>()
  private current: { report: WaveReport; counts: Map<string, PoolCounts>; restartAt: number } | undefined

  constructor(
    private readonly topology: Topology,
    private readonly settings: GateSettings,
    private readonly ports: GatePorts,
    private readonly save: SaveJournal
  ) {}

  private membershipsOf(serverIds: readonly string[]): Membership[] {
    return serverIds.flatMap((id) => this.topology.memberships.get(id) ?? [])
  }

  private pool(poolId: string): GatePool {
    return this.topology.pools.get(poolId) as GatePool
  }

  private giveUpAt(): number {
    return Math.min(this.settings.deadline, this.ports.clock() + ELB_PATIENCE_MS)
  }

  private async readPools(poolIds: readonly string[]): Promise<Map<string, ElbMember[]>> {
    const giveUpAt = this.giveUpAt()
    const lists = await Promise.all(poolIds.map((id) => this.ports.elb.members(id, giveUpAt)))
    return new Map(poolIds.map((id, i) => [id, lists[i]]))
  }

  private pollMs(poolIds: readonly string[]): number {
    const delays = poolIds.map((id) => (this.pool(id).monitor?.delay ?? 0) * 1000)
    return Math.max(this.settings.pollIntervalMs, ...delays)
  }

  async before(wave: number, serverIds: readonly string[]): Promise<string | null> {
    const started = this.ports.clock()
    const memberships = this.membershipsOf(serverIds)
    const poolIds = [...new Set(memberships.map((m) => m.poolId))]
    const counts = new Map<string, PoolCounts>()
    const report: WaveReport = {
      wave,
      servers: [...serverIds],
      drainMs: 0,
      jobMs: 0,
      healthyMs: 0,
      restoreMs: 0,
      pools: [],
      timeToHealthyMs: {}
    }
    this.report.waves.push(report)
    this.current = { report, counts, restartAt: started }
    report.pools = [...counts.values()]
    const groups = this.readGroups()
    const room = await this.waitForRoom(wave, memberships, poolIds, counts)
    report.pools = [...counts.values()]
    if (room !== null) return room
    // Read alongside the pools; read again if the wave waited for room (a wait is a poll interval at least).
    const fresh = this.ports.clock() - started < this.pollMs(poolIds)
    const paused = await this.pauseGroups(fresh ? groups : new Map<string, Promise<ScalingGroup>>())
    if (paused !== null) return paused
    const drained = await this.drain(wave, serverIds, memberships)
    if (drained !== null) return drained
    this.ports.log.info(
      `Wave ${wave}: drained; waiting ${formatDuration(this.settings.drainMs)} for in-flight requests`
    )
    await this.ports.sleep(this.settings.drainMs, this.ports.signal)
    report.drainMs = this.ports.clock() - started
    this.current.restartAt = this.ports.clock()
    return this.ports.signal.aborted ? 'Not restarted: the run was cancelled while draining.' : null
  }

  /** Waits (up to the health timeout) until every pool can lose the wave's healthy members and stay at its minimum. */
  private async waitForRoom(
    wave: number,
    memberships: Membership[],
    poolIds: string[],
    counts: Map<string, PoolCounts>
  ): Promise<string | null> {
    const { clock, sleep, signal } = this.ports
    const until = Math.min(clock() + this.settings.healthTimeoutMs, this.settings.deadline)
    for (;;) {
      const members = await this.readPools(poolIds)
      if (counts.size === 0) observe(counts, members)
      const short = poolIds.flatMap((poolId) => {
        const list = members.get(poolId) ?? []
        const ours = new Set(memberships.filter((m) => m.poolId === poolId).map((m) => m.memberId))
        const healthy = list.filter(isHealthy).length
        const left = list.filter((m) => isHealthy(m) && !ours.has(m.id)).length
        const pool = this.pool(poolId)
        return left < pool.minHealthy && healthy > left
          ? [`pool ${pool.name || pool.id} (${healthy} healthy now, at least ${pool.minHealthy} to keep)`]
          : []
      })
      if (short.length === 0) return null
      if (clock() + this.pollMs(poolIds) > until || signal.aborted) {
        return `Not restarted: wave ${wave} would take ${short.join(' and ')} below its minimum of healthy members, and it did not recover within health-timeout-seconds. Bring the unhealthy members back, or raise max-unavailable-per-pool.`
      }
      await sleep(this.pollMs(poolIds), signal)
    }
  }

  /** The groups to pause (not paused yet by this run or by someone else), read now, to be awaited by `pauseGroups`. */
  private readGroups(): Map<string, Promise<ScalingGroup>> {
    const reads = new Map<string, Promise<ScalingGroup>>()
    const { scaling } = this.ports
    if (scaling === undefined) return reads
    for (const groupId of this.settings.scalingGroupIds) {
      if (this.journal.pausedGroups.includes(groupId) || this.foreignPaused.has(groupId)) continue
      const read = scaling.group(groupId)
      // Its failure is met where it is awaited, or dropped with the wave when that stops first.
      read.catch(() => {})
      reads.set(groupId, read)
    }
    return reads
  }

  /** `read`: the groups as read by `readGroups` at the start of the wave; a group missing there is read now. */
  private async pauseGroups(read: Map<string, Promise<ScalingGroup>>): Promise<string | null> {
    const { scaling, log } = this.ports
    if (scaling === undefined) return null
    for (const groupId of this.settings.scalingGroupIds) {
      if (this.journal.pausedGroups.includes(groupId) || this.foreignPaused.has(groupId)) continue
      try {
        const group = await (read.get(groupId) ?? scaling.group(groupId))
        if (group.status === 'PAUSED') {
          this.foreignPaused.add(groupId)
          log.warning(`Scaling group ${groupId} was already paused before this run: left paused, never resumed by it.`)
          continue
        }
        this.journal.pausedGroups.push(groupId)
        this.save(this.journal)
        await scaling.setPaused(groupId, true, this.giveUpAt())
        log.info(`Paused scaling group ${groupId} for the restart`)
      } catch (error) {
        this.journal.pausedGroups = this.journal.pausedGroups.filter((id) => id !== groupId)
        this.save(this.journal)
        return `Not restarted: scaling group ${groupId} could not be paused (${errorMessage(error)}), and a reboot could get its servers deleted as unhealthy.`
      }
    }
    return null
  }

  /** Journals, then sets every member of the wave to weight 0, one batch-update per pool, pools in parallel. */
  private async drain(wave: number, serverIds: readonly string[], memberships: Membership[]): Promise<string | null> {
    const entries: JournalEntry[] = memberships.map((m) => ({ ...m, state: 'draining', wave }))
    this.journal.entries.push(...entries)
    this.journal.unconfirmed.push(...serverIds)
    for (const { poolId } of memberships) {
      this.journal.steadyMs = Math.max(this.journal.steadyMs, staleGuardMs(this.pool(poolId)))
    }
    this.save(this.journal)
    const pools = [...new Set(entries.map((e) => e.poolId))]
    const giveUpAt = this.giveUpAt()
    const outcomes = await Promise.allSettled(
      pools.map((poolId) =>
        this.ports.elb.setWeights(
          poolId,
          entries.filter((e) => e.poolId === poolId).map((e) => ({ memberId: e.memberId, weight: 0 })),
          giveUpAt
        )
      )
    )
    const failed = outcomes.flatMap((o, i) =>
      o.status === 'rejected' ? [`pool ${pools[i]}: ${errorMessage(o.reason)}`] : []
    )
    if (failed.length > 0) {
      this.report.restores.push(
        ...(await restoreEntries(this.journal, entries, this.ports.elb, this.giveUpAt(), this.save))
      )
      return `Not restarted: draining wave ${wave} failed (${failed.join('; ')}); what was drained was restored.`
    }
    for (const entry of entries) entry.state = 'drained'
    this.save(this.journal)
    this.ports.log.info(
      `Wave ${wave}: ${plural(entries.length, 'member')} of ${plural(serverIds.length, 'server')} set to weight 0 in ${plural(pools.length, 'pool')}`
    )
    return null
  }

  async after(wave: number, serverIds: readonly string[]): Promise<Map<string, string>> {
    const failures = new Map<string, string>()
    const current = this.current
    if (current === undefined || this.ports.signal.aborted) return failures
    const { clock } = this.ports
    const jobEndedAt = clock()
    current.report.jobMs = jobEndedAt - current.restartAt
    const open = this.journal.entries.filter((e) => e.wave === wave && e.state === 'drained')
    const shared = open.filter((e) => !this.pool(e.poolId).loadBalancer.guaranteed)
    if (shared.length > 0) await this.restore(shared)
    const watches = serverIds.map((id) => newWatch(id, this.membershipsOf([id])))
    await this.gate(watches, jobEndedAt, current.counts)
    current.report.healthyMs = clock() - jobEndedAt
    for (const watch of watches) {
      current.report.timeToHealthyMs[watch.serverId] = watch.healthyAt === null ? null : watch.healthyAt - jobEndedAt
      if (watch.healthyAt === null) failures.set(watch.serverId, this.describeTimeout(watch))
    }
    const restoreStarted = clock()
    const left = this.journal.entries.filter((e) => e.wave === wave && e.state === 'drained')
    if (left.length > 0) await this.restore(left)
    this.journal.unconfirmed = this.journal.unconfirmed.filter((id) => failures.has(id) || !serverIds.includes(id))
    this.save(this.journal)
    // The pools' counts after the wave (for the report) are read while the groups are resumed.
    const outcomes = await Promise.allSettled([
      this.readPools([...current.counts.keys()]).then((members) => {
        observe(current.counts, members)
        current.report.pools = [...current.counts.values()]
        current.report.restoreMs = clock() - restoreStarted
      }),
      this.resumeIfSafe(failures)
    ])
    for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason
    return failures
  }

  /** `read`: the pools' members as just read, to judge the entries by instead of reading them again. */
  private async restore(entries: JournalEntry[], read?: Map<string, ElbMember[]>): Promise<void> {
    const results = await restoreEntries(this.journal, entries, this.ports.elb, this.giveUpAt(), this.save, read)
    this.report.restores.push(...results)
    for (const r of results.filter((x) => x.outcome !== 'restored')) {
      this.ports.log.warning(
        `Member ${r.entry.memberId} of server ${r.entry.serverId} in pool ${r.entry.poolId}: ${r.outcome}, ${r.detail}`
      )
    }
  }

  /** Reads the pools every poll interval until every watched server is healthy, or the health timeout. */
  private async gate(watches: ServerWatch[], jobEndedAt: number, counts: Map<string, PoolCounts>): Promise<void> {
    const { clock, sleep, signal } = this.ports
    const poolIds = [...new Set(watches.flatMap((w) => w.memberships.map((m) => m.poolId)))]
    const until = Math.min(jobEndedAt + this.settings.healthTimeoutMs, this.settings.deadline)
    const restoredFirst = (poolId: string): boolean => !this.pool(poolId).loadBalancer.guaranteed
    for (;;) {
      const roundAt = clock()
      const members = await this.readPools(poolIds)
      observe(counts, members)
      const now = clock()
      const context = { pools: this.topology.pools, members, jobEndedAt, now, restoredFirst }
      const ready: string[] = []
      for (const watch of watches.filter((w) => w.healthyAt === null)) {
        readWatch(watch, context)
        if (watch.streak >= this.settings.stablePolls || watch.memberships.length === 0) {
          watch.healthyAt = now
          ready.push(watch.serverId)
        }
      }
      const restorable = this.journal.entries.filter((e) => ready.includes(e.serverId) && e.state === 'drained')
      // Judged against this round's read of their pools, just taken: no second read before the write.
      if (restorable.length > 0) await this.restore(restorable, members)
      if (watches.every((w) => w.healthyAt !== null) || signal.aborted) return
      // Rounds start one poll interval apart (a read that took longer is followed at once).
      const next = roundAt + this.pollMs(poolIds)
      if (next > until) return
      await sleep(Math.max(0, next - clock()), signal)
    }
  }

  private describeTimeout(watch: ServerWatch): string {
    const last = [...watch.last].map(([member, status]) => `${member} ${status}`).join(', ')
    return `Restarted, but not healthy behind its load balancers within health-timeout-seconds (${formatDuration(this.settings.healthTimeoutMs)})${last ? `; last seen: ${last}` : ''}. Its weight was restored: the load balancer sends it nothing until its health check passes.`
  }

  private async resumeIfSafe(failures: Map<string, string>): Promise<void> {
    if (this.journal.pausedGroups.length === 0) return
    if (failures.size > 0) {
      const groups = this.journal.pausedGroups.join(', ')
      this.ports.log.warning(
        `Scaling group(s) ${groups} stay paused: ${plural(failures.size, 'server')} did not turn healthy.`
      )
      return
    }
    this.report.alerts.push(...(await resumeGroups(this.journal, this.ports, this.giveUpAt(), this.save)))
  }
}
