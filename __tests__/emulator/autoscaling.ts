/**
 * Auto Scaling (AS v1) as far as a rolling restart meets it: groups and their instances, the
 * periodic health audit that removes (and, for instances AS created, deletes) an unhealthy
 * instance, pausing a group, and standby. Routes:
 * - `GET /autoscaling-api/v1/{project_id}/scaling_group` and `.../scaling_group/{id}`;
 * - `POST .../scaling_group/{id}/action` `{"action":"pause"|"resume"}` -> 204;
 * - `GET .../scaling_group_instance/{id}/list` (`start_number`, `limit` ≤ 100, default 20,
 *   `life_cycle_state`, `health_status`);
 * - `POST .../scaling_group_instance/{id}/action`
 *   `{"action":"ENTER_STANDBY"|"EXIT_STANDBY","instances_id":[…≤10],"instance_append"?}` -> 204.
 * Errors have the AS shape `{"error":{"code","message"}}` (AS API reference, 错误码).
 *
 * The audit, every `health_periodic_audit_time` (0: every 10 s) on the emulator clock: an
 * INSERVICE instance is unhealthy under ELB_AUDIT when, past its grace period, a member of it in
 * one of the group's pools shows OFFLINE, and under NOVA_AUDIT when its server is not ACTIVE (a
 * reboot counts: the harsher reading, no source says either way). Unhealthy: `health_status`
 * ERROR, and unless the group is paused, removed at once (and recorded in `removals`). Whether
 * EXIT_STANDBY starts the grace period again is not documented: by default it does not (harsh).
 */
import type { Route } from './core'
import { newMember, shownStatus, type PoolState } from './elb-health'
import { ecsError, isPlainObject, NOT_JSON, parseBody, type Reply } from './http'
import { serviceRoutes, type LoadBalancing } from './load-balancing'
import type { EmulatorScalingGroup, RequestRateLimit } from './lb-options'

/** At most this many instances per batch instance action (批量操作实例). */
export const MAX_STANDBY_INSTANCES = 10
const AUDIT_MINUTES = new Set([0, 1, 5, 15, 60, 180])

interface Instance {
  serverId: string
  createdBy: 'auto' | 'manual'
  lifeCycle: 'INSERVICE' | 'STANDBY'
  health: 'INITIALIZING' | 'NORMAL' | 'ERROR'
  joinedAt: number
}

interface Group {
  id: string
  name: string
  instances: Instance[]
  poolIds: string[]
  /** The pools of `poolIds`, resolved at start. */
  pools: PoolState[]
  listenerWeight: number
  auditMethod: 'ELB_AUDIT' | 'NOVA_AUDIT'
  auditTimeMinutes: number
  graceSeconds: number
  paused: boolean
  exitRestartsGrace: boolean
}

const asError = (status: number, code: string, message: string): Reply => ({ status, body: ecsError(code, message) })

function buildGroup(spec: EmulatorScalingGroup): Group {
  const minutes = spec.auditTimeMinutes ?? 5
  if (!AUDIT_MINUTES.has(minutes))
    throw new RangeError(`scaling group ${spec.id}: auditTimeMinutes must be 0, 1, 5, 15, 60 or 180`)
  const poolIds = spec.poolIds ?? []
  return {
    id: spec.id,
    name: spec.name ?? spec.id,
    instances: spec.instances.map((instance) => {
      const detail = typeof instance === 'string' ? { serverId: instance } : instance
      return {
        serverId: detail.serverId,
        createdBy: detail.createdBy ?? 'auto',
        lifeCycle: detail.lifeCycleState ?? 'INSERVICE',
        health: 'NORMAL',
        // Already in the group when the emulator starts: past any grace period.
        joinedAt: -Infinity
      }
    }),
    poolIds,
    pools: [],
    listenerWeight: spec.listenerWeight ?? 1,
    auditMethod: spec.auditMethod ?? (poolIds.length > 0 ? 'ELB_AUDIT' : 'NOVA_AUDIT'),
    auditTimeMinutes: minutes,
    graceSeconds: spec.gracePeriodSeconds ?? 600,
    paused: spec.paused ?? false,
    exitRestartsGrace: spec.exitStandbyRestartsGrace ?? false
  }
}

export class AutoScalingService {
  private readonly groups: Group[]
  constructor(
    specs: EmulatorScalingGroup[],
    private readonly world: LoadBalancing,
    private readonly rateLimit: RequestRateLimit | undefined
  ) {
    const now = world.now()
    this.groups = specs.map((spec) => buildGroup(spec))
    for (const group of this.groups) {
      for (const poolId of group.poolIds) {
        const pool = world.pool(poolId)
        if (pool === undefined) throw new RangeError(`scaling group ${group.id}: no pool ${poolId}`)
        group.pools.push(pool)
      }
      const period = group.auditTimeMinutes === 0 ? 10_000 : group.auditTimeMinutes * 60_000
      world.addTicker({ start: now, period, count: 0, run: (t) => this.audit(group, t) }, 'audit')
    }
  }

  routes(): Route[] {
    const route = serviceRoutes('/autoscaling-api/v1/([^/]+)', this.rateLimit, this.world.now)
    return [
      route('as-groups', 'GET', '/scaling_group', (_, url) => this.listGroups(url)),
      route('as-group', 'GET', '/scaling_group/([^/]+)', ([id]) =>
        this.withGroup(id, (group) => ({ status: 200, body: { scaling_group: this.describeGroup(group) } }))
      ),
      route('as-group-action', 'POST', '/scaling_group/([^/]+)/action', ([id], _, body) => this.groupAction(id, body)),
      route('as-instances', 'GET', '/scaling_group_instance/([^/]+)/list', ([id], url) => this.listInstances(id, url)),
      route('as-instances-action', 'POST', '/scaling_group_instance/([^/]+)/action', ([id], _, body) =>
        this.instancesAction(id, body)
      )
    ]
  }

  private withGroup(id: string, answer: (group: Group) => Reply): Reply {
    const group = this.groups.find((candidate) => candidate.id === id)
    return group ? answer(group) : asError(404, 'AS.2007', `The AS group ${id} does not exist.`)
  }

  /** One audit of a group at `t`. */
  private audit(group: Group, t: number): void {
    for (const instance of [...group.instances]) {
      if (instance.lifeCycle !== 'INSERVICE') continue
      const problem = this.problemOf(group, instance, t)
      instance.health = problem === undefined ? 'NORMAL' : 'ERROR'
      if (problem !== undefined && !group.paused) this.remove(group, instance, t, problem)
    }
  }

  private problemOf(group: Group, instance: Instance, t: number): string | undefined {
    if (group.auditMethod === 'NOVA_AUDIT') {
      const status = this.world.inventory.stateAt(instance.serverId, t)?.status ?? 'DELETED'
      return status === 'ACTIVE' ? undefined : `NOVA_AUDIT: server ${status}`
    }
    if (t < instance.joinedAt + group.graceSeconds * 1000) return undefined
    for (const pool of group.pools) {
      const member = pool.members.find((m) => m.serverId === instance.serverId && shownStatus(pool, m) === 'OFFLINE')
      if (member) return `ELB_AUDIT: member ${member.id} of pool ${pool.id} OFFLINE`
    }
    return undefined
  }

  /** Takes the instance out of the group and its pools; deletes the server when AS created it. */
  private remove(group: Group, instance: Instance, t: number, reason: string): void {
    group.instances = group.instances.filter((i) => i !== instance)
    for (const pool of group.pools) this.world.removeMembers(pool, instance.serverId)
    const deleted = instance.createdBy === 'auto'
    if (deleted && this.world.inventory.has(instance.serverId)) {
      this.world.inventory.setStatus(instance.serverId, 'DELETED', t)
    }
    this.world.removals.push({ groupId: group.id, serverId: instance.serverId, at: t, reason, deleted })
  }

  private listGroups(url: URL): Reply {
    const paged = this.startLimit(url, 20)
    if ('status' in paged) return paged
    const groups = this.groups.slice(paged.start, paged.start + paged.limit)
    return {
      status: 200,
      body: {
        total_number: this.groups.length,
        start_number: paged.start,
        limit: paged.limit,
        scaling_groups: groups.map((group) => this.describeGroup(group))
      }
    }
  }

  private listInstances(id: string, url: URL): Reply {
    return this.withGroup(id, (group) => {
      const paged = this.startLimit(url, 20)
      if ('status' in paged) return paged
      const state = url.searchParams.get('life_cycle_state')
      const health = url.searchParams.get('health_status')
      const all = group.instances.filter(
        (i) => (state === null || i.lifeCycle === state) && (health === null || i.health === health)
      )
      const rows = all.slice(paged.start, paged.start + paged.limit).map((instance) => ({
        instance_id: instance.serverId,
        instance_name: instance.serverId,
        scaling_group_id: group.id,
        scaling_group_name: group.name,
        life_cycle_state: instance.lifeCycle,
        health_status: instance.health,
        scaling_configuration_id: instance.createdBy === 'auto' ? 'config-emulator' : '',
        scaling_configuration_name: instance.createdBy === 'auto' ? 'config-emulator' : '',
        protect_from_scaling_down: false,
        create_time: '2024-01-01T00:00:00Z'
      }))
      return {
        status: 200,
        body: { total_number: all.length, start_number: paged.start, limit: paged.limit, scaling_group_instances: rows }
      }
    })
  }

  private startLimit(url: URL, fallback: number): { start: number; limit: number } | Reply {
    const start = Number(url.searchParams.get('start_number') ?? 0)
    const limit = Number(url.searchParams.get('limit') ?? fallback)
    if (!Number.isInteger(start) || start < 0 || !Number.isInteger(limit) || limit < 0 || limit > 100) {
      return asError(400, 'AS.0022', 'request body error: start_number or limit.')
    }
    return { start, limit }
  }

  /** `{"action":"pause"|"resume"}`; pausing a paused group (or resuming a running one) is refused. */
  private groupAction(id: string, body: string): Reply {
    return this.withGroup(id, (group) => {
      const parsed = parseBody(body)
      const action = parsed !== NOT_JSON && isPlainObject(parsed) ? parsed.action : undefined
      if (action !== 'pause' && action !== 'resume') return asError(400, 'AS.0022', 'request body error: action.')
      if ((action === 'pause') === group.paused) {
        return asError(400, 'AS.2020', `The AS group ${group.id} is already ${group.paused ? 'paused' : 'in service'}.`)
      }
      group.paused = action === 'pause'
      return { status: 204 }
    })
  }

  /**
   * ENTER_STANDBY: INSERVICE instances stop being audited and are unbound from the group's pools.
   * EXIT_STANDBY: STANDBY instances are bound again, as new members (new ids, weight
   * `listenerWeight`, INITIAL until their first probe), and audited again: at once, unless the
   * group's `exitStandbyRestartsGrace` starts their grace period again.
   */
  private instancesAction(id: string, body: string): Reply {
    return this.withGroup(id, (group) => {
      const parsed = parseBody(body)
      if (parsed === NOT_JSON || !isPlainObject(parsed)) return asError(400, 'AS.0022', 'request body error.')
      const { action, instances_id: ids } = parsed
      if (action !== 'ENTER_STANDBY' && action !== 'EXIT_STANDBY') {
        return asError(
          400,
          'AS.0022',
          `request body error: the emulator supports only ENTER_STANDBY and EXIT_STANDBY, not ${String(action)}.`
        )
      }
      if (
        !Array.isArray(ids) ||
        ids.length === 0 ||
        ids.length > MAX_STANDBY_INSTANCES ||
        !ids.every((v) => typeof v === 'string')
      ) {
        return asError(400, 'AS.0022', `request body error: instances_id must hold 1-${MAX_STANDBY_INSTANCES} ids.`)
      }
      const needed = action === 'ENTER_STANDBY' ? 'INSERVICE' : 'STANDBY'
      const instances = ids.map((serverId) => group.instances.find((i) => i.serverId === serverId))
      const wrong = instances.findIndex((instance) => instance?.lifeCycle !== needed)
      if (wrong >= 0) {
        const code = action === 'ENTER_STANDBY' ? 'AS.4015' : 'AS.4038'
        return asError(400, code, `Instance ${ids[wrong]} is not ${needed} in AS group ${group.id}.`)
      }
      for (const instance of instances as Instance[]) {
        if (action === 'ENTER_STANDBY') this.enterStandby(group, instance)
        else this.exitStandby(group, instance)
      }
      return { status: 204 }
    })
  }

  private enterStandby(group: Group, instance: Instance): void {
    instance.lifeCycle = 'STANDBY'
    for (const pool of group.pools) this.world.removeMembers(pool, instance.serverId)
  }

  private exitStandby(group: Group, instance: Instance): void {
    const now = this.world.now()
    instance.lifeCycle = 'INSERVICE'
    // Unknown whether the grace period starts again: by default it does not (the harsh side).
    if (group.exitRestartsGrace) instance.joinedAt = now
    for (const pool of group.pools) {
      const address = this.world.addressOf(instance.serverId)
      pool.members.push(newMember(instance.serverId, address, 80, group.listenerWeight, 'INITIAL', now))
    }
  }

  private describeGroup(group: Group): object {
    return {
      scaling_group_id: group.id,
      scaling_group_name: group.name,
      scaling_group_status: group.paused ? 'PAUSED' : 'INSERVICE',
      scaling_configuration_id: 'config-emulator',
      current_instance_number: group.instances.length,
      desire_instance_number: group.instances.length,
      min_instance_number: 0,
      max_instance_number: Math.max(group.instances.length, 1) * 2,
      is_scaling: false,
      health_periodic_audit_method: group.auditMethod,
      health_periodic_audit_time: group.auditTimeMinutes,
      health_periodic_audit_grace_period: group.graceSeconds,
      lbaas_listeners: group.poolIds.map((poolId) => ({
        pool_id: poolId,
        listener_id: `listener-${poolId}`,
        protocol_port: 80,
        weight: group.listenerWeight
      })),
      create_time: '2024-01-01T00:00:00Z'
    }
  }
}
