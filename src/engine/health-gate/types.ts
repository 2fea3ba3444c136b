import type { ScalingGroup, ScalingInstance } from '../../cloud/autoscaling'
import type { ElbClient, ElbHealthMonitor, ElbLoadBalancer, ElbMember, ElbPool } from '../../cloud/elb'
import type { Clock, Logger, Sleep } from '../../shared/ports'

/** The ELB calls the gate makes (an {@link ElbClient} in the action; a fake in unit tests). */
export type ElbPort = Pick<ElbClient, 'pools' | 'members' | 'healthMonitor' | 'loadBalancer' | 'setWeights'>

/** The Auto Scaling calls the gate makes. */
export interface ScalingPort {
  group(groupId: string, giveUpAt?: number): Promise<ScalingGroup>
  setPaused(groupId: string, paused: boolean, giveUpAt?: number): Promise<void>
  /** Needed for `as-protection: standby` only. */
  instances(groupId: string, giveUpAt?: number): Promise<ScalingInstance[]>
  setStandby(
    groupId: string,
    serverIds: readonly string[],
    standby: boolean,
    giveUpAt?: number,
    accepted?: (serverIds: readonly string[]) => void
  ): Promise<void>
}

export interface GatePorts {
  elb: ElbPort
  scaling?: ScalingPort
  clock: Clock
  sleep: Sleep
  random: () => number
  log: Logger
  /** Aborted when the run is cancelled: waits end at once. */
  signal: AbortSignal
}

/** A pool the run touches, as discovered before anything changed. */
export interface GatePool {
  id: string
  name: string
  algorithm: string
  /** `protocol`: TCP, UDP, QUIC, HTTP, … */
  protocol: string
  connectionDrain: ElbPool['connectionDrain']
  loadBalancer: ElbLoadBalancer
  monitor: ElbHealthMonitor | undefined
  /** Every member at discovery, this run's and others'. */
  members: ElbMember[]
  /** Members with weight > 0 at discovery: the pool's capacity. */
  weighted: number
  /** Healthy members (ONLINE, weight > 0) the pool must never go below. */
  minHealthy: number
}

/** One member of a selected server in one pool. */
export interface Membership {
  serverId: string
  poolId: string
  memberId: string
  loadBalancerId: string
  /** Its weight before the run: what it is restored to. */
  originalWeight: number
}

export interface Topology {
  pools: Map<string, GatePool>
  /** Per selected server, its members in the pools the run touches (none: not load-balanced). */
  memberships: Map<string, Membership[]>
  /** Why the run must not start, one line each, naming the pool or load balancer and the fix. */
  refusals: string[]
  /** Things worth saying that change nothing, e.g. members already at weight 0 left alone. */
  notes: string[]
  /** `as-protection: standby`: which selected server is in which group, and the groups' pools. */
  standby?: StandbyTopology
}

export interface StandbyTopology {
  /** Per selected server in a declared group: the group's id. */
  groupOf: Map<string, string>
  /** Per declared group: the pools of its listeners (standby unbinds its instances from these). */
  poolsOf: Map<string, string[]>
}

/** What is drained, so that it can always be put back: saved before every change. */
export interface JournalEntry extends Membership {
  /**
   * draining: the drain was about to be sent; drained: accepted; restored; gone: the member was
   * deleted. For a member standby takes out (`standbyGroup` set), after its drain:
   * unbinding: standby was about to be entered; unbound: the member is gone from the pool;
   * rebound: its server left standby and `memberId` is the NEW member AS created, to be set back
   * to `originalWeight`.
   */
  state: 'draining' | 'drained' | 'unbinding' | 'unbound' | 'rebound' | 'restored' | 'gone'
  wave: number
  /** The scaling group whose standby takes this member out (once drained): brought back by exiting standby. */
  standbyGroup?: string
  /** The member id before standby re-created it (set with `rebound`). */
  previousMemberId?: string
}

/** A server this run put in standby: entering (about to be sent), standby, exiting (about to be sent), exited. */
export interface StandbyEntry {
  groupId: string
  serverId: string
  wave: number
  state: 'entering' | 'standby' | 'exiting' | 'exited'
}

export interface Journal {
  version: 1
  entries: JournalEntry[]
  /** Scaling groups this run paused and has not resumed yet. */
  pausedGroups: string[]
  /** Servers drained and restarted but not yet seen healthy: a paused group is resumed only once they are. */
  unconfirmed: string[]
  /**
   * How long their members must read healthy without a break before a group is resumed after an
   * interruption: the longest stale-ONLINE window (fall window + one probe) of their pools, since
   * a member of a server still rebooting can read ONLINE for that long.
   */
  steadyMs: number
  /** Servers this run put in standby (as-protection: standby). */
  standby: StandbyEntry[]
}

/** Persists the journal (atomically) before each change; the post step reads it back. */
export type SaveJournal = (journal: Journal) => void

/** An entry whose member is still to be set back to its original weight. */
export function isPending(entry: JournalEntry): boolean {
  return entry.state === 'drained' || entry.state === 'rebound'
}

/** A pool or load balancer as messages name it: "name (id)", or the id when it has no other name. */
export const poolLabel = (pool: { id: string; name: string }): string =>
  pool.name !== '' && pool.name !== pool.id ? `${pool.name} (${pool.id})` : pool.id

/** `healthy(member)`: weight > 0 and every listener's status ONLINE. */
export function isHealthy(member: ElbMember): boolean {
  return member.weight > 0 && isOnline(member)
}

/** Every listener's status ONLINE, the weight aside (INITIAL, NO_MONITOR, UNKNOWN… are not). */
export function isOnline(member: ElbMember): boolean {
  return member.statuses.length > 0 && member.statuses.every((status) => status === 'ONLINE')
}

export function countHealthy(members: readonly ElbMember[]): number {
  return members.filter(isHealthy).length
}

/** Member ids of `entries` grouped by pool. */
export function byPool<T extends { poolId: string }>(entries: readonly T[]): Map<string, T[]> {
  const pools = new Map<string, T[]>()
  for (const entry of entries) {
    const list = pools.get(entry.poolId) ?? []
    list.push(entry)
    pools.set(entry.poolId, list)
  }
  return pools
}

export type { ElbPool }
