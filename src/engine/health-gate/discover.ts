import type { ElbHealthMonitor, ElbLoadBalancer, ElbPool } from '../../cloud/elb'
import { forEachLimited } from '../../shared/limit'
import { plural } from '../../shared/text'
import {
  type ElbPort,
  type GatePool,
  type Membership,
  type Topology,
  countHealthy,
  isHealthy,
  poolLabel
} from './types'

/** At most this many unavailable members per pool: a count, or a percentage of its weighted members. */
export type MaxUnavailable = { count: number } | { percent: number }

export interface DiscoverSettings {
  /** Only these pools (`elb-pool-ids`); undefined: every pool holding a selected server. */
  poolIds?: readonly string[]
  maxUnavailable: MaxUnavailable
}

/** Algorithms under which the API reference says weights do not take effect. */
const WEIGHTLESS = new Set(['SOURCE_IP', 'QUIC_CID'])

/** The pool's minimum of healthy members: weighted − max-unavailable (a percentage rounds down), at least 1. */
export function minimumHealthy(weighted: number, maxUnavailable: MaxUnavailable): number {
  const allowed =
    'count' in maxUnavailable ? maxUnavailable.count : Math.floor((weighted * maxUnavailable.percent) / 100)
  return Math.max(1, weighted - Math.max(1, allowed))
}

/** Why this pool cannot be health-gated, or undefined. */
function poolRefusal(pool: GatePool, ours: Membership[]): string | undefined {
  const name = `Pool ${poolLabel(pool)}`
  if (pool.monitor === undefined || !pool.monitor.adminStateUp) {
    return `${name} has no health check${pool.monitor ? ' turned on' : ''}, so nothing can tell when a restarted member serves again. Add (or turn on) a health check on the pool, or leave the pool out with elb-pool-ids.`
  }
  if (WEIGHTLESS.has(pool.algorithm)) {
    return `${name} uses the ${pool.algorithm} algorithm, under which member weights are documented to have no effect, so weight 0 may not drain it. Switch the pool to ROUND_ROBIN or LEAST_CONNECTIONS, or leave it out with elb-pool-ids.`
  }
  const lb = pool.loadBalancer
  if (lb.provisioningStatus !== 'ACTIVE' || lb.operatingStatus === 'FROZEN') {
    return `Load balancer ${poolLabel(lb)} of pool ${poolLabel(pool)} is ${lb.provisioningStatus || 'in an unknown state'}${lb.operatingStatus === 'FROZEN' ? ' and FROZEN' : ''}, not ACTIVE, so its members cannot be changed. Run again once it is ACTIVE.`
  }
  const healthy = countHealthy(pool.members)
  const ourHealthy = ours.filter((m) => pool.members.some((x) => x.id === m.memberId && isHealthy(x))).length
  if (ourHealthy > 0 && healthy - 1 < pool.minHealthy) {
    const fix =
      pool.weighted <= 1
        ? 'Its only member with weight > 0 would leave it with none: add a member to the pool first.'
        : `Bring its unhealthy members back, or raise max-unavailable-per-pool.`
    return `${name} has ${healthy} of ${pool.weighted} weighted members healthy and must keep at least ${pool.minHealthy}: restarting even one server would go below. ${fix}`
  }
  return undefined
}

async function lookup<T>(cache: Map<string, Promise<T>>, id: string, read: (id: string) => Promise<T>): Promise<T> {
  let found = cache.get(id)
  if (found === undefined) {
    found = read(id)
    cache.set(id, found)
  }
  return found
}

/** ELB reads of a discovery in flight at once: pools (and their monitors and load balancers) are read in parallel. */
export const DISCOVERY_CONCURRENCY = 10

/** `read` for each item, `DISCOVERY_CONCURRENCY` at a time, results in the items' order; stops starting reads once one failed. */
async function readAll<T, R>(items: readonly T[], read: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Map<T, R>()
  let failed = false
  await forEachLimited(
    items,
    DISCOVERY_CONCURRENCY,
    () => failed,
    async (item) => {
      try {
        results.set(item, await read(item))
      } catch (error) {
        failed = true
        throw error
      }
    }
  )
  return items.map((item) => results.get(item) as R)
}

/**
 * Finds every pool and member of the selected servers (by `instance_id`), each pool's health
 * monitor and load balancer, and what would make the run unsafe. Changes nothing. Throttled
 * reads are waited out until `giveUpAt`. Pools are read in parallel (bounded), and reported in
 * the order the API listed them.
 */
export async function discover(
  serverIds: readonly string[],
  settings: DiscoverSettings,
  elb: ElbPort,
  giveUpAt: number
): Promise<Topology> {
  const selected = new Set(serverIds)
  const topology: Topology = { pools: new Map(), memberships: new Map(), refusals: [], notes: [] }
  for (const id of serverIds) topology.memberships.set(id, [])
  const reads: Reads = { monitors: new Map(), balancers: new Map(), elb, giveUpAt }
  const pools = await elb.pools(giveUpAt, settings.poolIds)
  for (const missing of (settings.poolIds ?? []).filter((id) => !pools.some((pool) => pool.id === id))) {
    topology.refusals.push(`Pool ${missing} of elb-pool-ids was not found in the project. Check the ID.`)
  }
  const lists = await readAll(pools, (raw) => elb.members(raw.id, giveUpAt))
  const touched = pools.flatMap((raw, i) =>
    lists[i].some((m) => selected.has(m.instanceId)) ? [{ raw, members: lists[i] }] : []
  )
  const described = await readAll(touched, ({ raw, members }) =>
    describePool(raw, members, settings.maxUnavailable, reads)
  )
  for (const pool of described) {
    topology.pools.set(pool.id, pool)
    const memberships: Membership[] = []
    for (const member of pool.members.filter((m) => selected.has(m.instanceId))) {
      if (member.weight === 0) {
        topology.notes.push(
          `Member ${member.id} of server ${member.instanceId} in pool ${poolLabel(pool)} is at weight 0 already: left as it is, never raised.`
        )
        continue
      }
      const membership = {
        serverId: member.instanceId,
        poolId: pool.id,
        memberId: member.id,
        loadBalancerId: pool.loadBalancer.id,
        originalWeight: member.weight
      }
      memberships.push(membership)
      topology.memberships.get(member.instanceId)?.push(membership)
    }
    const refusal = poolRefusal(pool, memberships)
    if (refusal !== undefined) topology.refusals.push(refusal)
  }
  const unbalanced = serverIds.filter((id) => topology.memberships.get(id)?.length === 0).length
  if (unbalanced > 0) {
    topology.notes.push(`${plural(unbalanced, 'server')} in no selected pool: restarted without draining.`)
  }
  return topology
}

/** The ELB reads of a discovery: monitors and load balancers read once each. */
interface Reads {
  monitors: Map<string, Promise<ElbHealthMonitor>>
  balancers: Map<string, Promise<ElbLoadBalancer>>
  elb: ElbPort
  giveUpAt: number
}

async function describePool(
  raw: ElbPool,
  members: GatePool['members'],
  maxUnavailable: MaxUnavailable,
  { monitors, balancers, elb, giveUpAt }: Reads
): Promise<GatePool> {
  const lbId = raw.loadBalancerIds[0] ?? ''
  // The monitor and the load balancer are read together; each is read once per discovery.
  const [monitor, loadBalancer] = await Promise.all([
    raw.healthMonitorId ? lookup(monitors, raw.healthMonitorId, (id) => elb.healthMonitor(id, giveUpAt)) : undefined,
    lbId === ''
      ? { id: '', name: '', guaranteed: true, provisioningStatus: 'not bound to a load balancer', operatingStatus: '' }
      : lookup(balancers, lbId, (id) => elb.loadBalancer(id, giveUpAt))
  ])
  const weighted = members.filter((m) => m.weight > 0).length
  return {
    id: raw.id,
    name: raw.name,
    algorithm: raw.algorithm,
    protocol: raw.protocol,
    connectionDrain: raw.connectionDrain,
    loadBalancer,
    monitor,
    members,
    weighted,
    minHealthy: minimumHealthy(weighted, maxUnavailable)
  }
}
