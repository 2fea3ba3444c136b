/**
 * ELB load balancers, pools and members as the emulator keeps them, and each member's health: the
 * probe state machine (rise after `max_retries` successes, fall after `max_retries_down` failures),
 * what the API shows for it (weight 0 on shared load balancers shows OFFLINE), and the weight that
 * steers traffic, which follows an accepted weight change only `weightApplyMs` later.
 */
import { randomUUID } from 'node:crypto'
import type { EmulatorHealthMonitor, EmulatorLoadBalancer, EmulatorPool } from './lb-options'

export type Health = 'ONLINE' | 'OFFLINE' | 'INITIAL'

export interface MemberState {
  id: string
  serverId: string
  address: string
  protocolPort: number
  /** The weight the API shows (changes at once). */
  weight: number
  /** The weight that steers traffic, and a change of it still to come. */
  routedWeight: number
  pendingWeight?: { weight: number; at: number }
  /** What the probes concluded; 'INITIAL' until the first probe of a member created mid-run. */
  health: Health
  successes: number
  failures: number
  createdAt: number
  updatedAt: number
}

export interface MonitorState {
  id: string
  type: string
  delay: number
  timeout: number
  maxRetries: number
  maxRetriesDown: number
  adminStateUp: boolean
}

export interface PoolState {
  id: string
  name: string
  protocol: string
  lbAlgorithm: string
  lb: LoadBalancerState
  monitor: MonitorState | undefined
  members: MemberState[]
  requestsPerSecond: number
  connectionDrain: { enable: boolean; timeout: number }
  createdAt: number
}

export interface LoadBalancerState {
  id: string
  name: string
  guaranteed: boolean
  weightZeroStatus: 'actual' | 'offline'
  busyMs: number
  /** PENDING_UPDATE until then. */
  busyUntil: number
  pools: PoolState[]
  createdAt: number
}

/** Algorithms under which the API reference says the weight does not take effect. */
const WEIGHTLESS_ALGORITHMS = new Set(['SOURCE_IP', 'QUIC_CID'])

export function newMember(
  serverId: string,
  address: string,
  protocolPort: number,
  weight: number,
  health: Health,
  now: number,
  id: string = randomUUID()
): MemberState {
  return {
    id,
    serverId,
    address,
    protocolPort,
    weight,
    routedWeight: weight,
    health,
    successes: 0,
    failures: 0,
    createdAt: now,
    updatedAt: now
  }
}

function monitorOf(pool: EmulatorPool, spec: EmulatorHealthMonitor): MonitorState {
  return {
    id: spec.id ?? `${pool.id}-hm`,
    type: spec.type ?? 'HTTP',
    delay: spec.delay,
    timeout: spec.timeout ?? 3,
    maxRetries: spec.maxRetries,
    maxRetriesDown: spec.maxRetriesDown ?? 3,
    adminStateUp: spec.adminStateUp ?? true
  }
}

/** The load balancers of the options, members ONLINE when their server serves at `now`. */
export function buildLoadBalancers(
  specs: EmulatorLoadBalancer[],
  defaults: { busyMs: number; requestsPerSecond: number },
  addressOf: (serverId: string) => string,
  servingAt: (serverId: string) => boolean,
  now: number
): LoadBalancerState[] {
  return specs.map((spec) => {
    const guaranteed = spec.guaranteed ?? true
    const lb: LoadBalancerState = {
      id: spec.id,
      name: spec.name ?? spec.id,
      guaranteed,
      weightZeroStatus: spec.weightZeroStatus ?? (guaranteed ? 'actual' : 'offline'),
      busyMs: spec.busyMs ?? defaults.busyMs,
      busyUntil: -Infinity,
      pools: [],
      createdAt: now
    }
    lb.pools = spec.pools.map((pool) => ({
      id: pool.id,
      name: pool.name ?? pool.id,
      protocol: pool.protocol ?? 'HTTP',
      lbAlgorithm: pool.lbAlgorithm ?? 'ROUND_ROBIN',
      lb,
      monitor: pool.healthMonitor && monitorOf(pool, pool.healthMonitor),
      members: pool.members.map((m) => {
        const weight = m.weight ?? 1
        const member = newMember(
          m.serverId,
          m.address ?? addressOf(m.serverId),
          m.protocolPort ?? 80,
          weight,
          'ONLINE',
          now,
          m.id
        )
        member.health = servingAt(m.serverId) && !forcedOffline(lb, member) ? 'ONLINE' : 'OFFLINE'
        return member
      }),
      requestsPerSecond: pool.requestsPerSecond ?? defaults.requestsPerSecond,
      connectionDrain: { ...(pool.connectionDrain ?? { enable: false, timeout: 300 }) },
      createdAt: now
    }))
    return lb
  })
}

/** Whether the pool probes its members (a monitor that is on). */
export function isMonitored(pool: PoolState): boolean {
  return pool.monitor !== undefined && pool.monitor.adminStateUp
}

/** A member at weight 0 on a load balancer that then shows it OFFLINE (and stops probing it). */
function forcedOffline(lb: LoadBalancerState, member: MemberState): boolean {
  return lb.weightZeroStatus === 'offline' && member.weight === 0
}

/** `operating_status` as the API shows it now. */
export function shownStatus(pool: PoolState, member: MemberState): string {
  if (!isMonitored(pool)) return 'NO_MONITOR'
  if (forcedOffline(pool.lb, member)) return 'OFFLINE'
  return member.health
}

/** Takes in a weight change whose time has come by `t`. */
export function settleWeight(member: MemberState, t: number): void {
  const pending = member.pendingWeight
  if (pending === undefined || t < pending.at) return
  member.routedWeight = pending.weight
  delete member.pendingWeight
}

/** The weight that steers traffic at `t`, after `settleWeight`: 1 for every member when weights do not count. */
export function routingWeight(pool: PoolState, member: MemberState): number {
  return WEIGHTLESS_ALGORITHMS.has(pool.lbAlgorithm) ? 1 : member.routedWeight
}

/** Whether the load balancer sends new requests to the member (its weight aside). */
export function isRoutable(pool: PoolState, member: MemberState): boolean {
  return !isMonitored(pool) || member.health === 'ONLINE'
}

/** An accepted weight change at `now`: shown at once, steering traffic `applyMs` later. */
export function changeWeight(pool: PoolState, member: MemberState, weight: number, now: number, applyMs: number): void {
  if (pool.lb.weightZeroStatus === 'offline' && member.weight === 0 && weight > 0) {
    // Shown OFFLINE and not probed at weight 0 (new traffic still flows until the change applies);
    // raised again, it is probed from OFFLINE: a fresh rise of `max_retries` successes.
    member.health = 'OFFLINE'
    member.successes = 0
    member.failures = 0
  }
  member.weight = weight
  member.updatedAt = now
  if (applyMs <= 0) {
    member.routedWeight = weight
    delete member.pendingWeight
  } else {
    member.pendingWeight = { weight, at: now + applyMs }
  }
}

/** One probe of a member: `ok` when its server answered. */
export function probe(pool: PoolState, member: MemberState, ok: boolean): void {
  const monitor = pool.monitor
  if (monitor === undefined || forcedOffline(pool.lb, member)) return
  if (ok) {
    member.successes++
    member.failures = 0
    // A member new to the load balancer is healthy after one successful check.
    const rise = member.health === 'INITIAL' ? 1 : monitor.maxRetries
    if (member.health !== 'ONLINE' && member.successes >= rise) member.health = 'ONLINE'
  } else {
    member.failures++
    member.successes = 0
    if (member.health !== 'OFFLINE' && member.failures >= monitor.maxRetriesDown) member.health = 'OFFLINE'
  }
}
