/**
 * The load-balancing world on the emulator clock: ELB pools whose members are probed every `delay`
 * seconds, synthetic traffic, pool samples, and the Auto Scaling audits (autoscaling.ts adds those).
 *
 * Time advances lazily: nothing runs on a timer. Before any request is processed, before any
 * server's state changes (inventory.ts `beforeChange`) and before any result is read, `advance()`
 * replays every probe, audit and request instant between the last one replayed and now, in time
 * order, reading each server's state at that instant (`Inventory.stateAt`). So it works the same on
 * a manual clock and in real time, and its results never depend on when the replay happens.
 */
import {
  buildLoadBalancers,
  isMonitored,
  isRoutable,
  probe,
  routingWeight,
  settleWeight,
  shownStatus,
  type LoadBalancerState,
  type MemberState,
  type PoolState
} from './elb-health'
import type { Route } from './core'
import type { Reply } from './http'
import type { Inventory } from './inventory'
import type { LoadBalancingRouteName, PoolSample, PoolTraffic, RequestRateLimit, ScalingRemoval } from './lb-options'
import type { EmulatorOptions } from './options'
import { RateLimiter } from './rate-limit'
import { PoolTrafficState, sampleRange, type Candidate } from './traffic'

/** A route factory for one service: project routes under `prefix`, throttled by `rateLimit`. */
export function serviceRoutes(
  prefix: string,
  rateLimit: RequestRateLimit | undefined,
  now: () => number
): (
  name: LoadBalancingRouteName,
  method: Route['method'],
  path: string,
  handle: (params: string[], url: URL, body: string) => Reply
) => Route {
  const limiter = new RateLimiter(rateLimit && { servers: rateLimit.requests, windowMs: rateLimit.windowMs }, now)
  return (name, method, path, handle) => ({
    name,
    method,
    path: new RegExp(`^${prefix}${path}$`),
    auth: 'project',
    handle: ({ params, url, body }) => limiter.admit(1) ?? handle(params, url, body)
  })
}

/** Something that happens every `period` ms from `start` on: the k-th time at start + k * period. */
export interface Ticker {
  start: number
  period: number
  count: number
  run(t: number): void
}

/** What tests read of the load-balancing world (`EcsEmulator.loadBalancing`); each read catches up with the clock. */
export interface LoadBalancingView {
  /** Traffic counters per pool id. */
  traffic(): Record<string, PoolTraffic>
  /** A pool's samples, oldest first (one when it was created, then one per probe instant). */
  samples(poolId: string): PoolSample[]
  /** The lowest and highest `healthy` and `serving` count a pool was sampled at. */
  range(poolId: string): { healthy: { min: number; max: number }; serving: { min: number; max: number } }
  /** Every instance Auto Scaling removed, in order. */
  removals(): ScalingRemoval[]
  /** A pool's members now: member id, server id, weight and shown `operating_status`. */
  members(poolId: string): { id: string; serverId: string; weight: number; operatingStatus: string }[]
}

/** Sample pools without a monitor this often. */
const UNMONITORED_SAMPLE_MS = 1000

/** Tickers run in this order when they fall on the same instant: probes, then audits, then traffic. */
type Phase = 'probe' | 'audit' | 'traffic'
const PHASES: Phase[] = ['probe', 'audit', 'traffic']

export class LoadBalancing {
  readonly loadBalancers: LoadBalancerState[]
  readonly weightApplyMs: number
  /** Every Auto Scaling removal, in order. */
  readonly removals: ScalingRemoval[] = []
  private readonly pools = new Map<string, PoolState>()
  private readonly traffic = new Map<string, PoolTrafficState>()
  private readonly tickers: { ticker: Ticker; phase: number }[] = []
  private readonly bootDelayMs: number
  private readonly serverBootDelayMs: Record<string, number>
  private advancing = false

  constructor(
    options: EmulatorOptions,
    readonly inventory: Inventory,
    readonly now: () => number
  ) {
    const knobs = options.loadBalancing ?? {}
    this.weightApplyMs = knobs.weightApplyMs ?? 5000
    this.bootDelayMs = knobs.bootDelayMs ?? 0
    this.serverBootDelayMs = knobs.serverBootDelayMs ?? {}
    const start = now()
    for (const lb of options.loadBalancers ?? []) {
      for (const pool of lb.pools) {
        for (const member of pool.members) {
          if (!inventory.has(member.serverId)) {
            throw new RangeError(`pool ${pool.id}: member server ${member.serverId} is not in the inventory`)
          }
        }
      }
    }
    this.loadBalancers = buildLoadBalancers(
      options.loadBalancers ?? [],
      { busyMs: knobs.busyMs ?? 1000, requestsPerSecond: knobs.requestsPerSecond ?? 0 },
      (serverId) => this.addressOf(serverId),
      (serverId) => this.servingAt(serverId, start),
      start
    )
    for (const lb of this.loadBalancers) for (const pool of lb.pools) this.addPool(pool, start)
    inventory.beforeChange = () => this.advance()
  }

  /** A member's address: a 10.x address from the server's position in the inventory. */
  addressOf(serverId: string): string {
    const index = this.inventory.ids().indexOf(serverId)
    return `10.0.${Math.floor(index / 250)}.${(index % 250) + 2}`
  }

  poolIds(): string[] {
    return [...this.pools.keys()]
  }

  pool(poolId: string): PoolState | undefined {
    return this.pools.get(poolId)
  }

  /** Registers something periodic (the AS audits). */
  addTicker(ticker: Ticker, phase: Phase): void {
    this.tickers.push({ ticker, phase: PHASES.indexOf(phase) })
  }

  /** Whether the server answers at `t`: ACTIVE with no task in progress, and booted (`bootDelayMs`) since. */
  servingAt(serverId: string, t: number): boolean {
    const state = this.inventory.stateAt(serverId, t)
    if (state === undefined) return false
    const boot = this.serverBootDelayMs[serverId] ?? this.bootDelayMs
    return state.status === 'ACTIVE' && state.task === undefined && t >= state.since + boot
  }

  /** Replays every instant up to now (see the module comment). Re-entrant calls do nothing. */
  advance(): void {
    if (this.advancing) return
    this.advancing = true
    try {
      const now = this.now()
      for (;;) {
        const next = this.nextTicker(now)
        if (next === undefined) break
        next.count++
        next.run(next.start + next.count * next.period)
      }
    } finally {
      this.advancing = false
    }
  }

  isBusy(lb: LoadBalancerState): boolean {
    return this.now() < lb.busyUntil
  }

  /** An accepted change: PENDING_UPDATE for `busyMs`. */
  markChanged(lb: LoadBalancerState): void {
    lb.busyUntil = this.now() + lb.busyMs
  }

  /** The pools with a member on this server. */
  poolsOf(serverId: string): PoolState[] {
    return [...this.pools.values()].filter((pool) => pool.members.some((m) => m.serverId === serverId))
  }

  removeMembers(pool: PoolState, serverId: string): MemberState[] {
    const removed = pool.members.filter((m) => m.serverId === serverId)
    pool.members = pool.members.filter((m) => m.serverId !== serverId)
    return removed
  }

  // ---- what tests read (each catches up with the clock first) ----

  view(): LoadBalancingView {
    return {
      traffic: () => this.trafficOf(),
      samples: (poolId) => this.samplesOf(poolId),
      range: (poolId) => this.rangeOf(poolId),
      removals: () => {
        this.advance()
        return this.removals.map((removal) => ({ ...removal }))
      },
      members: (poolId) => {
        this.advance()
        const pool = this.pools.get(poolId)
        if (pool === undefined) throw new Error(`no pool ${poolId}`)
        return pool.members.map((m) => ({
          id: m.id,
          serverId: m.serverId,
          weight: m.weight,
          operatingStatus: shownStatus(pool, m)
        }))
      }
    }
  }

  trafficOf(): Record<string, PoolTraffic> {
    this.advance()
    const result: Record<string, PoolTraffic> = {}
    for (const [id, state] of this.traffic) result[id] = state.snapshot()
    return result
  }

  samplesOf(poolId: string): PoolSample[] {
    this.advance()
    return [...this.trafficState(poolId).samples]
  }

  rangeOf(poolId: string): { healthy: { min: number; max: number }; serving: { min: number; max: number } } {
    const samples = this.samplesOf(poolId)
    // A pool is sampled when it is created, so there is always a range.
    const none = { min: 0, max: 0 }
    return { healthy: sampleRange(samples, 'healthy') ?? none, serving: sampleRange(samples, 'serving') ?? none }
  }

  private trafficState(poolId: string): PoolTrafficState {
    const state = this.traffic.get(poolId)
    if (state === undefined) throw new Error(`no pool ${poolId}`)
    return state
  }

  private addPool(pool: PoolState, start: number): void {
    if (this.pools.has(pool.id)) throw new RangeError(`pool ${pool.id} is defined twice`)
    this.pools.set(pool.id, pool)
    const traffic = new PoolTrafficState()
    this.traffic.set(pool.id, traffic)
    const monitored = isMonitored(pool)
    const probePeriod = monitored && pool.monitor ? pool.monitor.delay * 1000 : UNMONITORED_SAMPLE_MS
    this.addTicker(
      {
        start,
        period: probePeriod,
        count: 0,
        run: (t) => {
          for (const member of pool.members) {
            settleWeight(member, t)
            if (monitored) probe(pool, member, this.servingAt(member.serverId, t))
          }
          traffic.sample(this.sample(pool, t))
        }
      },
      'probe'
    )
    if (pool.requestsPerSecond > 0) {
      this.addTicker(
        { start, period: 1000 / pool.requestsPerSecond, count: 0, run: (t) => this.request(pool, traffic, t) },
        'traffic'
      )
    }
    traffic.sample(this.sample(pool, start))
  }

  private request(pool: PoolState, traffic: PoolTrafficState, t: number): void {
    const candidates: Candidate[] = []
    for (const member of pool.members) {
      settleWeight(member, t)
      const weight = routingWeight(pool, member)
      if (weight > 0 && isRoutable(pool, member)) candidates.push({ id: member.id, serverId: member.serverId, weight })
    }
    traffic.route(candidates, (serverId) => this.servingAt(serverId, t))
  }

  private sample(pool: PoolState, t: number): PoolSample {
    let healthy = 0
    let serving = 0
    for (const member of pool.members) {
      if (member.weight > 0 && shownStatus(pool, member) === 'ONLINE') healthy++
      if (routingWeight(pool, member) > 0 && isRoutable(pool, member) && this.servingAt(member.serverId, t)) serving++
    }
    return { at: t, healthy, serving }
  }

  /** The ticker due first at or before `now` (ties: earlier phase, then registration order). */
  private nextTicker(now: number): Ticker | undefined {
    let best: Ticker | undefined
    let bestAt = Infinity
    let bestPhase = Infinity
    for (const { ticker, phase } of this.tickers) {
      const at = ticker.start + (ticker.count + 1) * ticker.period
      if (at > now) continue
      if (at < bestAt || (at === bestAt && phase < bestPhase)) {
        best = ticker
        bestAt = at
        bestPhase = phase
      }
    }
    return best
  }
}
