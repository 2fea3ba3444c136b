import type { ElbMember } from '../../cloud/elb'
import type { GatePool, Membership } from './types'
import { probeWindowMs } from './timing'
import { countHealthy, isHealthy, isOnline } from './types'

/** How long after its restart a member's ONLINE is not trusted unless it was seen down: fall window + one probe. */
export function staleGuardMs(pool: GatePool): number {
  const monitor = pool.monitor
  if (monitor === undefined) return 0
  return (monitor.maxRetriesDown * Math.max(monitor.delay, monitor.timeout) + monitor.delay) * 1000
}

/** The watch over one restarted server until it is healthy in every pool. */
export interface ServerWatch {
  serverId: string
  memberships: Membership[]
  /** Members seen not ONLINE since the restart. */
  sawDown: Set<string>
  /** Consecutive reads with every member trusted healthy. */
  streak: number
  healthyAt: number | null
  /** Members gone from their pool mid-run (deleted by someone else). */
  gone: Set<string>
  /** The last status of each member, for the report. */
  last: Map<string, string>
  /** Members of dedicated load balancers whose weight was restored before they were healthy (the weight-0 fallback). */
  fellBack: Set<string>
}

export function newWatch(serverId: string, memberships: Membership[]): ServerWatch {
  return {
    serverId,
    memberships,
    sawDown: new Set(),
    streak: 0,
    healthyAt: null,
    gone: new Set(),
    last: new Map(),
    fellBack: new Set()
  }
}

export interface ReadContext {
  pools: Map<string, GatePool>
  /** Current members per pool, from this poll round. */
  members: Map<string, ElbMember[]>
  /** When the restart jobs ended. */
  jobEndedAt: number
  now: number
  /** Pools whose members are restored before the gate (shared load balancers): healthy must include weight > 0. */
  restoredFirst: (poolId: string) => boolean
}

/** One read of a server's members: true when each is trusted healthy (stale-ONLINE guard applied). */
export function readWatch(watch: ServerWatch, context: ReadContext): boolean {
  let ok = true
  for (const membership of watch.memberships) {
    if (watch.gone.has(membership.memberId)) continue
    const member = context.members.get(membership.poolId)?.find((m) => m.id === membership.memberId)
    if (member === undefined) {
      watch.gone.add(membership.memberId)
      continue
    }
    watch.last.set(membership.memberId, member.statuses.join('/'))
    const restored = context.restoredFirst(membership.poolId) || watch.fellBack.has(membership.memberId)
    const online = restored ? isHealthy(member) : isOnline(member)
    if (!online) {
      watch.sawDown.add(membership.memberId)
      ok = false
      continue
    }
    const pool = context.pools.get(membership.poolId) as GatePool
    const trusted = watch.sawDown.has(membership.memberId) || context.now - context.jobEndedAt >= staleGuardMs(pool)
    if (!trusted) ok = false
  }
  watch.streak = ok ? watch.streak + 1 : 0
  return ok
}

/** A member gated at weight 0 whose weight is restored first from now on, and why. */
export interface Fallback {
  membership: Membership
  /** Its status as last read, and how long after the restart. */
  status: string
  afterMs: number
  /** The pool's rise + fall + 2 × delay, which that exceeds. */
  windowMs: number
}

/**
 * The weight-0 fallback for dedicated load balancers (which may show a weight-0 member unhealthy
 * whatever its probes say): the server's members still not ONLINE at weight 0 longer than their
 * pool's rise + fall + 2 × delay after the restart, now marked to be restored first and gated
 * like members of a shared load balancer.
 */
export function takeFallbacks(watch: ServerWatch, context: ReadContext): Fallback[] {
  const afterMs = context.now - context.jobEndedAt
  const due: Fallback[] = []
  for (const membership of watch.memberships) {
    const { poolId, memberId } = membership
    if (context.restoredFirst(poolId) || watch.fellBack.has(memberId)) continue
    const member = context.members.get(poolId)?.find((m) => m.id === memberId)
    const monitor = context.pools.get(poolId)?.monitor
    if (member === undefined || monitor === undefined || member.weight !== 0 || isOnline(member)) continue
    const windowMs = probeWindowMs(monitor)
    if (afterMs <= windowMs) continue
    watch.fellBack.add(memberId)
    due.push({ membership, status: member.statuses.join('/'), afterMs, windowMs })
  }
  return due
}

/** Per pool: healthy before, lowest seen, after. */
export interface PoolCounts {
  poolId: string
  before: number
  lowest: number
  after: number
}

export function observe(counts: Map<string, PoolCounts>, members: Map<string, ElbMember[]>): void {
  for (const [poolId, list] of members) {
    const healthy = countHealthy(list)
    const entry = counts.get(poolId)
    if (entry === undefined) counts.set(poolId, { poolId, before: healthy, lowest: healthy, after: healthy })
    else {
      entry.lowest = Math.min(entry.lowest, healthy)
      entry.after = healthy
    }
  }
}
