import type { ScalingGroup } from '../../cloud/autoscaling'
import type { ElbMember } from '../../cloud/elb'
import { errorMessage, formatDuration, plural } from '../../shared/text'
import type { WaveGuard } from '../batch-run'
import {
  type Fallback,
  type PoolCounts,
  type ReadContext,
  type ServerWatch,
  newWatch,
  observe,
  readWatch,
  staleGuardMs,
  takeFallbacks
} from './health-wait'
import { readMembers } from './pool-read'
import { POOL_GONE, type RestoreResult, openEntries, resumeGroups, restoreEntries } from './restore'
import { pauseGroup } from './scaling-groups'
import { type StandbyContext, type StandbyProblems, bringBack, enterStandby, unbindingGroup } from './standby'
import { drainWait } from './timing'
import {
  type GatePorts,
  type GatePool,
  type Journal,
  type JournalEntry,
  type Membership,
  type SaveJournal,
  type Topology,
  isHealthy,
  isPending,
  poolLabel
} from './types'

export interface GateSettings {
  /** After draining, before the restart: weight propagation (up to 5 s) plus in-flight requests. */
  drainMs: number
  /** The least drain wait: how long a weight change takes to steer traffic (5 s in the action). */
  propagationMs: number
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
  /** Members of dedicated load balancers restored before they were healthy (the weight-0 fallback). */
  fallbacks: (Pick<Membership, 'serverId' | 'poolId' | 'memberId'> & { status: string; afterMs: number })[]
}

export interface GateReport {
  waves: WaveReport[]
  restores: RestoreResult[]
  /** Pools deleted by someone else during the run, and the wave that found out. */
  deletedPools: { poolId: string; wave: number }[]
  /** Things a person must act on (error annotations). */
  alerts: string[]
}

const pick = ({ serverId, poolId, memberId }: Membership) => ({ serverId, poolId, memberId })

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
  readonly journal: Journal = { version: 1, entries: [], pausedGroups: [], unconfirmed: [], steadyMs: 0, standby: [] }
  readonly report: GateReport = { waves: [], restores: [], deletedPools: [], alerts: [] }
  private readonly foreignPaused = new Set<string>()
  private current: { report: WaveReport; counts: Map<string, PoolCounts>; restartAt: number } | undefined

  constructor(
    private readonly topology: Topology,
    private readonly settings: GateSettings,
    private readonly ports: GatePorts,
    private readonly save: SaveJournal
  ) {}

  /** The servers' memberships, but for pools deleted since discovery. */
  private membershipsOf(serverIds: readonly string[]): Membership[] {
    return serverIds.flatMap((id) => this.topology.memberships.get(id) ?? []).filter((m) => !this.isDeleted(m.poolId))
  }

  private isDeleted(poolId: string): boolean {
    return this.report.deletedPools.some((d) => d.poolId === poolId)
  }

  /** A pool deleted by someone else: its members count as gone, the other pools carry on. */
  private poolDeleted(poolId: string): void {
    if (this.isDeleted(poolId)) return
    const wave = this.current?.report.wave ?? 0
    this.report.deletedPools.push({ poolId, wave })
    const entries = openEntries(this.journal).filter((e) => e.poolId === poolId)
    for (const entry of entries) entry.state = 'gone'
    this.save(this.journal)
    const pool = this.pool(poolId)
    this.ports.log.warning(
      `Pool ${poolLabel(pool)} was deleted during wave ${wave}: its members count as gone (nothing to restore there); carrying on with the other pools.`
    )
  }

  private pool(poolId: string): GatePool {
    return this.topology.pools.get(poolId) as GatePool
  }

  private giveUpAt(): number {
    return Math.min(this.settings.deadline, this.ports.clock() + ELB_PATIENCE_MS)
  }

  /** The members of each pool; a pool found deleted is left out (and its members count as gone). */
  private async readPools(poolIds: readonly string[]): Promise<Map<string, ElbMember[]>> {
    const giveUpAt = this.giveUpAt()
    const live = poolIds.filter((id) => !this.isDeleted(id))
    const lists = await Promise.all(live.map((id) => readMembers(this.ports.elb, id, giveUpAt)))
    const found = new Map<string, ElbMember[]>()
    live.forEach((id, i) => (lists[i] === undefined ? this.poolDeleted(id) : found.set(id, lists[i])))
    return found
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
      timeToHealthyMs: {},
      fallbacks: []
    }
    this.report.waves.push(report)
    this.current = { report, counts, restartAt: started }
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
    const wait = drainWait(
      poolIds.map((id) => this.pool(id)),
      this.settings.drainMs,
      this.settings.propagationMs
    )
    const why = wait.why === undefined ? '' : `, longer than drain-seconds: ${wait.why}`
    this.ports.log.info(`Wave ${wave}: drained; waiting ${formatDuration(wait.ms)} for in-flight requests${why}`)
    await this.ports.sleep(wait.ms, this.ports.signal)
    if (this.ports.signal.aborted) return 'Not restarted: the run was cancelled while draining.'
    const entered = await this.enterStandby(wave, serverIds)
    if (entered !== null) return entered
    report.drainMs = this.ports.clock() - started
    this.current.restartAt = this.ports.clock()
    return null
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
          ? [`pool ${poolLabel(pool)} (${healthy} healthy now, at least ${pool.minHealthy} to keep)`]
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
        await pauseGroup(
          groupId,
          this.journal,
          { scaling, log },
          this.foreignPaused,
          this.giveUpAt(),
          this.save,
          read.get(groupId)
        )
      } catch (error) {
        return `Not restarted: scaling group ${groupId} could not be paused (${errorMessage(error)}), and a reboot could get its servers deleted as unhealthy.`
      }
    }
    return null
  }

  /** What standby needs, when the run puts servers in standby (as-protection: standby). */
  private standbyContext(): StandbyContext | undefined {
    const { scaling, elb, log, clock, sleep, signal } = this.ports
    if (this.topology.standby === undefined || scaling === undefined) return undefined
    const ports = { scaling, elb, log, clock, sleep, signal }
    const context = { journal: this.journal, save: this.save, foreign: this.foreignPaused, ports }
    return { ...context, giveUpAt: this.giveUpAt(), pollMs: this.settings.pollIntervalMs }
  }

  /**
   * Journals, then sets every member of the wave to weight 0, one batch-update per pool, pools in
   * parallel; members that standby will take out too, so that their requests drain before Auto
   * Scaling unbinds them. On a failure, everything is put back and the wave is refused.
   */
  private async drain(wave: number, serverIds: readonly string[], memberships: Membership[]): Promise<string | null> {
    const entries: JournalEntry[] = memberships
      .filter((m) => !this.isDeleted(m.poolId))
      .map((m) => {
        const standbyGroup = unbindingGroup(this.topology.standby, m)
        return { ...m, state: 'draining', wave, ...(standbyGroup === undefined ? {} : { standbyGroup }) }
      })
    this.journal.entries.push(...entries)
    this.journal.unconfirmed.push(...serverIds)
    for (const { poolId } of memberships) {
      this.journal.steadyMs = Math.max(this.journal.steadyMs, staleGuardMs(this.pool(poolId)))
    }
    this.save(this.journal)
    const failed = await this.setZero(entries)
    if (failed.length > 0) {
      await this.undo(wave, serverIds)
      return `Not restarted: draining wave ${wave} failed (${failed.join('; ')}); what was drained was restored.`
    }
    for (const entry of entries) entry.state = 'drained'
    this.save(this.journal)
    const pools = new Set(entries.map((e) => e.poolId)).size
    this.ports.log.info(
      `Wave ${wave}: ${plural(entries.length, 'member')} of ${plural(serverIds.length, 'server')} set to weight 0 in ${plural(pools, 'pool')}`
    )
    return null
  }

  /**
   * After the drain: puts the wave's servers that are in a scaling group into standby (journaled
   * first; AS then takes their drained members out of the group's pools). On a refusal what
   * entered comes out again, the weights go back, and the wave is refused.
   */
  private async enterStandby(wave: number, serverIds: readonly string[]): Promise<string | null> {
    const context = this.standbyContext()
    const standby = this.topology.standby
    if (context === undefined || standby === undefined) return null
    for (const entry of this.journal.entries) {
      if (entry.wave === wave && entry.standbyGroup !== undefined && entry.state === 'drained')
        entry.state = 'unbinding'
    }
    const refused = await enterStandby(context, wave, standby, serverIds)
    if (refused === null) return null
    // Cancelled: the run's restore, on clients of its own, brings them back.
    if (this.ports.signal.aborted) return 'Not restarted: the run was cancelled while entering standby.'
    await this.undo(wave, serverIds)
    return refused
  }

  /** Weight 0 for `entries`, one batch-update per pool, pools in parallel: the failures, one line per pool. */
  private async setZero(entries: JournalEntry[]): Promise<string[]> {
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
    return outcomes.flatMap((o, i) => (o.status === 'rejected' ? [`pool ${pools[i]}: ${errorMessage(o.reason)}`] : []))
  }

  /** A refused wave: its servers out of standby again, its drained members back at their weights. */
  private async undo(wave: number, serverIds: readonly string[]): Promise<void> {
    await this.exitStandby(wave)
    const open = openEntries(this.journal).filter((e) => e.wave === wave)
    this.report.restores.push(...(await restoreEntries(this.journal, open, this.ports.elb, this.giveUpAt(), this.save)))
    // Never restarted: nothing to see healthy before a group may be resumed.
    this.journal.unconfirmed = this.journal.unconfirmed.filter((id) => !serverIds.includes(id))
    this.save(this.journal)
  }

  /**
   * Brings the wave's servers out of standby (their groups paused first, see bringBack) and points
   * the gate at the NEW members AS created. Problems become alerts, and fail their servers.
   */
  private async exitStandby(wave: number): Promise<StandbyProblems> {
    const context = this.standbyContext()
    if (context === undefined) return new Map()
    const problems = await bringBack(
      context,
      this.journal.standby.filter((s) => s.wave === wave)
    )
    for (const entry of this.journal.entries.filter((e) => e.wave === wave && e.previousMemberId !== undefined)) {
      const memberships = this.topology.memberships.get(entry.serverId) ?? []
      const old = memberships.find((m) => m.poolId === entry.poolId && m.memberId === entry.previousMemberId)
      if (old !== undefined) old.memberId = entry.memberId
    }
    for (const [serverId, why] of problems) this.report.alerts.push(`Server ${serverId}: ${why}`)
    return problems
  }

  async after(wave: number, serverIds: readonly string[]): Promise<Map<string, string>> {
    const failures = new Map<string, string>()
    const current = this.current
    if (current === undefined || this.ports.signal.aborted) return failures
    const { clock } = this.ports
    const jobEndedAt = clock()
    current.report.jobMs = jobEndedAt - current.restartAt
    const problems = await this.exitStandby(wave)
    const open = this.journal.entries.filter((e) => e.wave === wave && isPending(e))
    const shared = open.filter((e) => !this.pool(e.poolId).loadBalancer.guaranteed)
    if (shared.length > 0) await this.restore(shared)
    const watches = serverIds.map((id) => newWatch(id, this.membershipsOf([id])))
    await this.gate(watches, jobEndedAt, current.counts)
    current.report.healthyMs = clock() - jobEndedAt
    for (const watch of watches) {
      current.report.timeToHealthyMs[watch.serverId] = watch.healthyAt === null ? null : watch.healthyAt - jobEndedAt
      if (watch.healthyAt === null) failures.set(watch.serverId, this.describeTimeout(watch))
    }
    for (const [serverId, why] of problems) failures.set(serverId, why)
    const restoreStarted = clock()
    const left = this.journal.entries.filter((e) => e.wave === wave && isPending(e))
    if (left.length > 0) await this.restore(left)
    this.journal.unconfirmed = this.journal.unconfirmed.filter((id) => failures.has(id) || !serverIds.includes(id))
    this.save(this.journal)
    // The pools' counts after the wave (for the report) are read while the groups are resumed.
    const counted = this.readPools([...current.counts.keys()]).then(
      (members) => observe(current.counts, members),
      (error: unknown) =>
        this.ports.log.warning(
          `Wave ${wave}: the pools' counts after the wave could not be read (${errorMessage(error)}).`
        )
    )
    await Promise.all([counted, this.resumeIfSafe()])
    current.report.pools = [...current.counts.values()]
    current.report.restoreMs = clock() - restoreStarted
    return failures
  }

  /** `read`: the pools' members as just read, to judge the entries by instead of reading them again. */
  private async restore(entries: JournalEntry[], read?: Map<string, ElbMember[]>): Promise<void> {
    const results = await restoreEntries(this.journal, entries, this.ports.elb, this.giveUpAt(), this.save, read)
    this.report.restores.push(...results)
    for (const r of results.filter((x) => x.detail === POOL_GONE)) this.poolDeleted(r.entry.poolId)
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
      const context: ReadContext = { pools: this.topology.pools, members, jobEndedAt, now, restoredFirst }
      const ready: string[] = []
      const fallbacks: Fallback[] = []
      for (const watch of watches.filter((w) => w.healthyAt === null)) {
        readWatch(watch, context)
        if (watch.streak >= this.settings.stablePolls || watch.memberships.length === 0) {
          watch.healthyAt = now
          ready.push(watch.serverId)
        } else fallbacks.push(...takeFallbacks(watch, context))
      }
      if (fallbacks.length > 0) await this.fallBack(fallbacks)
      const restorable = this.journal.entries.filter((e) => ready.includes(e.serverId) && isPending(e))
      // Judged against this round's read of their pools, just taken: no second read before the write.
      if (restorable.length > 0) await this.restore(restorable, members)
      if (watches.every((w) => w.healthyAt !== null) || signal.aborted) return
      // Rounds start one poll interval apart (a read that took longer is followed at once).
      const next = roundAt + this.pollMs(poolIds)
      if (next > until) return
      await sleep(Math.max(0, next - clock()), signal)
    }
  }

  /** Restores the members of the weight-0 fallback first, saying so in the log and the wave's report. */
  private async fallBack(fallbacks: Fallback[]): Promise<void> {
    for (const { membership: m, status, afterMs, windowMs } of fallbacks) {
      const pool = this.pool(m.poolId)
      this.ports.log.info(
        `Weight-0 fallback: member ${m.memberId} of server ${m.serverId} in pool ${poolLabel(pool)} (dedicated load balancer ${pool.loadBalancer.id}) still shows ${status || 'no status'} at weight 0 ${formatDuration(afterMs)} after its restart, longer than its health check needs (rise + fall + 2 × delay = ${formatDuration(windowMs)}): this load balancer may not probe weight-0 members, so its weight is restored now and it is gated as on a shared load balancer.`
      )
      this.current?.report.fallbacks.push({ ...pick(m), status, afterMs })
    }
    const due = this.journal.entries.filter(
      (e) => isPending(e) && fallbacks.some(({ membership: m }) => m.memberId === e.memberId && m.poolId === e.poolId)
    )
    if (due.length > 0) await this.restore(due)
  }

  private describeTimeout(watch: ServerWatch): string {
    const last = [...watch.last].map(([member, status]) => `${member} ${status}`).join(', ')
    return `Restarted, but not healthy behind its load balancers within health-timeout-seconds (${formatDuration(this.settings.healthTimeoutMs)})${last ? `; last seen: ${last}` : ''}. Its weight was restored: the load balancer sends it nothing until its health check passes.`
  }

  /** Resumes the paused groups unless a server of this wave or an earlier one is still not healthy. */
  private async resumeIfSafe(): Promise<void> {
    if (this.journal.pausedGroups.length === 0) return
    const unhealthy = this.journal.unconfirmed.length
    if (unhealthy > 0) {
      const groups = this.journal.pausedGroups.join(', ')
      this.ports.log.warning(
        `Scaling group(s) ${groups} stay paused: ${plural(unhealthy, 'server')} did not turn healthy.`
      )
      return
    }
    this.report.alerts.push(...(await resumeGroups(this.journal, this.ports, this.giveUpAt(), this.save)))
  }
}
