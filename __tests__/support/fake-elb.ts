/** The health gate's test world: an in-memory ELB and Auto Scaling on a virtual clock (no timers, no HTTP). */
import type { ElbHealthMonitor, ElbMember, ElbPool, WeightChange } from '../../src/cloud/elb'
import { ApiError } from '../../src/cloud/errors'
import { discover } from '../../src/engine/health-gate/discover'
import { type GateSettings } from '../../src/engine/health-gate/gate'
import type { ElbPort, ScalingPort } from '../../src/engine/health-gate/types'

export interface FakePool extends ElbPool {
  members: ElbMember[]
  guaranteed?: boolean
  provisioning?: string
  monitorOn?: boolean
  /** Overrides of the health monitor (default delay 5, timeout 3, rise 3, fall 3). */
  monitor?: Partial<ElbHealthMonitor>
}

export const member = (pool: string, server: string, weight = 1, status = 'ONLINE'): ElbMember => ({
  id: `${pool}.${server}`,
  instanceId: server,
  address: '',
  weight,
  statuses: [status]
})

export function pool(id: string, servers: string[], extra: Partial<FakePool> = {}): FakePool {
  return {
    id,
    name: id,
    algorithm: 'ROUND_ROBIN',
    protocol: 'HTTP',
    healthMonitorId: `${id}-hm`,
    loadBalancerIds: [`lb-${id}`],
    connectionDrain: { enable: false, timeout: 300 },
    members: servers.map((s) => member(id, s)),
    ...extra
  }
}

export function fakeElb(pools: FakePool[], clock: { now: number }) {
  const writes: { at: number; poolId: string; changes: WeightChange[] }[] = []
  /** Each read with the deadline it was given for waiting out throttling. */
  const reads: { at: number; what: string; giveUpAt: number }[] = []
  const elb: ElbPort & { writes: typeof writes; reads: typeof reads; failWrites: number } = {
    writes,
    reads,
    failWrites: 0,
    pools: (giveUpAt, ids) => {
      reads.push({ at: clock.now, what: 'pools', giveUpAt })
      return Promise.resolve(pools.filter((p) => ids === undefined || ids.includes(p.id)))
    },
    members: (id, giveUpAt) => {
      reads.push({ at: clock.now, what: `members ${id}`, giveUpAt })
      const found = pools.find((p) => p.id === id)
      if (found === undefined) {
        return Promise.reject(new ApiError(404, 'ELB.8904', `pool ${id} could not be found.`, undefined, 'x'))
      }
      return Promise.resolve(structuredClone(found.members))
    },
    healthMonitor: (id) => {
      const p = pools.find((x) => x.healthMonitorId === id)
      return Promise.resolve({
        id,
        adminStateUp: p?.monitorOn !== false,
        delay: 5,
        timeout: 3,
        maxRetries: 3,
        maxRetriesDown: 3,
        ...p?.monitor
      })
    },
    loadBalancer: (id) => {
      const p = pools.find((x) => x.loadBalancerIds[0] === id)
      return Promise.resolve({
        id,
        name: id,
        guaranteed: p?.guaranteed !== false,
        provisioningStatus: p?.provisioning ?? 'ACTIVE',
        operatingStatus: 'ONLINE'
      })
    },
    setWeights(poolId, changes) {
      if (elb.failWrites > 0) {
        elb.failWrites--
        return Promise.reject(new ApiError(500, 'ELB.8906', 'Internal server error.', undefined, 'set weights'))
      }
      writes.push({ at: clock.now, poolId, changes: [...changes] })
      const p = pools.find((x) => x.id === poolId) as FakePool
      for (const change of changes) {
        const m = p.members.find((x) => x.id === change.memberId)
        if (m === undefined) {
          return Promise.reject(new ApiError(404, 'ELB.8904', `member ${change.memberId} not found.`, undefined, 'x'))
        }
        m.weight = change.weight
      }
      return Promise.resolve()
    }
  }
  return elb
}

export function ports(elb: ElbPort, clock: { now: number }, onSleep: (now: number) => void = () => {}) {
  const logs: string[] = []
  return {
    logs,
    deps: {
      elb,
      clock: () => clock.now,
      sleep: (ms: number) => {
        clock.now += ms
        onSleep(clock.now)
        return Promise.resolve()
      },
      random: () => 0.5,
      log: { info: (m: string) => logs.push(m), warning: (m: string) => logs.push(m), debug: () => {} },
      signal: new AbortController().signal
    }
  }
}

export const servers = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `s${from + i}`)

/** A virtual clock and an in-memory ELB with pool `web` of s0…s{n-1} (and `more`), discovered with one member to spare. */
export async function webFleet(n: number, ...more: FakePool[]) {
  const clock = { now: 0 }
  const web = pool('web', servers(n))
  const elb = fakeElb([web, ...more], clock)
  const topology = await discover(servers(n), { maxUnavailable: { count: 1 } }, elb, Infinity)
  return { clock, web, elb, topology }
}

/** A scaling group of the fake: its pools (standby unbinds from them) and its instances. */
export interface FakeGroup {
  poolIds: string[]
  servers: string[]
  /** Weight of the members re-created on EXIT_STANDBY; default 1. */
  listenerWeight?: number
}

/**
 * In-memory Auto Scaling: pause/resume; and, for `standby.groups`, instance lists and
 * ENTER_STANDBY (members leave the group's pools) / EXIT_STANDBY (new members `{pool}.{server}.new{n}`,
 * the listener weight, INITIAL), at most 10 per call, as the emulator does. `refuseStandby`
 * refuses the next standby call of that kind (after `after` calls of it went through).
 */
export function fakeScaling(
  groups: Record<string, string>,
  clock: { now: number },
  refuse?: ApiError,
  standby: { pools: FakePool[]; groups: Partial<Record<string, FakeGroup>> } = { pools: [], groups: {} }
) {
  const calls: string[] = []
  const lifeCycle = new Map<string, string>()
  let created = 0
  const scaling: ScalingPort & {
    calls: string[]
    lifeCycle: typeof lifeCycle
    refuseStandby: { enter: boolean; error: ApiError; after?: number } | undefined
  } = {
    calls,
    lifeCycle,
    refuseStandby: undefined,
    group: (id) =>
      Promise.resolve({
        id,
        name: id,
        status: groups[id],
        isScaling: false,
        poolIds: standby.groups[id]?.poolIds ?? []
      }),
    setPaused(id, paused) {
      if (refuse !== undefined) return Promise.reject(refuse)
      calls.push(`${paused ? 'pause' : 'resume'} ${id} at ${clock.now}`)
      groups[id] = paused ? 'PAUSED' : 'INSERVICE'
      return Promise.resolve()
    },
    instances: (id) =>
      Promise.resolve(
        (standby.groups[id]?.servers ?? []).map((serverId) => ({
          serverId,
          lifeCycleState: lifeCycle.get(serverId) ?? 'INSERVICE'
        }))
      ),
    setStandby(id, ids, enter, _giveUpAt, accepted) {
      const group = standby.groups[id] ?? { poolIds: [], servers: [] }
      for (let start = 0; start < ids.length; start += 10) {
        const chunk = ids.slice(start, start + 10)
        const refusal = scaling.refuseStandby
        if (refusal?.enter === enter && (refusal.after ?? 0) > 0) refusal.after = (refusal.after ?? 0) - 1
        else if (refusal?.enter === enter) {
          scaling.refuseStandby = undefined
          return Promise.reject(refusal.error)
        }
        calls.push(`${enter ? 'enter' : 'exit'} ${id} ${chunk.join(',')} at ${clock.now}`)
        for (const serverId of chunk) {
          lifeCycle.set(serverId, enter ? 'STANDBY' : 'INSERVICE')
          for (const p of standby.pools.filter((x) => group.poolIds.includes(x.id))) {
            if (enter) p.members = p.members.filter((m) => m.instanceId !== serverId)
            else
              p.members.push({
                ...member(p.id, serverId, group.listenerWeight ?? 1, 'INITIAL'),
                id: `${p.id}.${serverId}.new${++created}`
              })
          }
        }
        accepted?.(chunk)
      }
      return Promise.resolve()
    }
  }
  return scaling
}

export const gateSettings = (extra: Partial<GateSettings> = {}): GateSettings => ({
  drainMs: 0,
  // The action always waits at least WEIGHT_PROPAGATION_MS; these tests choose.
  propagationMs: 0,
  healthTimeoutMs: 60_000,
  pollIntervalMs: 1000,
  stablePolls: 2,
  deadline: Infinity,
  scalingGroupIds: [],
  ...extra
})
