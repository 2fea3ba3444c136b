/**
 * The ELB v3 routes a health-gated rolling restart needs (shapes from the SDK models, see
 * docs/api-contract.md §9): load balancers (and their status tree), pools, members, member weight
 * updates one by one and in batches, health monitors. Lists page with `limit`/`marker` and answer
 * `page_info`. Errors have the ELB shape `{"error_msg","error_code","request_id"}`. A load balancer
 * is PENDING_UPDATE for `busyMs` after each accepted change and then answers updates 409 ELB.8907.
 */
import type { Route } from './core'
import { changeWeight, shownStatus, type LoadBalancerState, type MemberState, type PoolState } from './elb-health'
import { gatewayError, isPlainObject, NOT_JSON, parseBody, type Reply } from './http'
import { serviceRoutes, type LoadBalancing } from './load-balancing'
import type { RequestRateLimit } from './lb-options'

/** At most this many members per batch update (BatchUpdateMembers). */
export const MAX_BATCH_MEMBERS = 200
const MAX_LIMIT = 2000
const CREATED = '2024-01-01T00:00:00Z'

/** `{"error_msg","error_code","request_id"}`: the ELB error shape (the gateway's too). */
export const elbError = gatewayError

const invalid = (field: string): Reply => ({ status: 400, body: elbError('ELB.8902', `Invalid input for '${field}'.`) })
const notFound = (kind: string, id: string): Reply => ({
  status: 404,
  body: elbError('ELB.8904', `${kind} ${id} could not be found.`)
})

/**
 * A page of `items` by `limit` (0-2000, default 2000) and `marker` (the id of the last item of the
 * previous page, only with `limit`), with `page_info`. `next_marker` is given whenever the page is
 * full, so a client must accept an empty last page.
 */
export function page<T extends { id: string }>(items: T[], url: URL): { items: T[]; page_info: object } | Reply {
  const query = url.searchParams
  const limitText = query.get('limit')
  const marker = query.get('marker')
  if (query.get('page_reverse') === 'true') return invalid('page_reverse')
  let limit = MAX_LIMIT
  if (limitText !== null) {
    limit = Number(limitText)
    if (limitText === '' || !Number.isInteger(limit) || limit < 0 || limit > MAX_LIMIT) return invalid('limit')
    if (limit === 0) limit = MAX_LIMIT
  }
  let start = 0
  if (marker !== null) {
    const index = items.findIndex((item) => item.id === marker)
    if (limitText === null || index < 0) return invalid('marker')
    start = index + 1
  }
  const slice = items.slice(start, start + limit)
  const pageInfo: Record<string, unknown> = { current_count: slice.length }
  if (slice.length > 0) pageInfo.previous_marker = slice[0].id
  if (slice.length === limit) pageInfo.next_marker = slice[slice.length - 1].id
  return { items: slice, page_info: pageInfo }
}

/** Keeps items whose `field` is one of the query's (repeated) values for `name`, when given. */
function filter<T>(items: T[], url: URL, name: string, field: (item: T) => unknown): T[] {
  const wanted = url.searchParams.getAll(name)
  if (wanted.length === 0) return items
  return items.filter((item) => {
    const value = field(item)
    const values = Array.isArray(value) ? value : [value]
    return values.some((v) => wanted.includes(String(v)))
  })
}

const listenerId = (pool: PoolState): string => `listener-${pool.id}`

export class ElbService {
  constructor(
    private readonly world: LoadBalancing,
    private readonly projectOf: () => string,
    private readonly rateLimit: RequestRateLimit | undefined
  ) {}

  routes(): Route[] {
    const route = serviceRoutes('/v3/([^/]+)/elb', this.rateLimit, this.world.now)
    return [
      route('elb-loadbalancers', 'GET', '/loadbalancers', (_, url) => this.listLoadBalancers(url)),
      route('elb-loadbalancer', 'GET', '/loadbalancers/([^/]+)', ([id]) => this.showLoadBalancer(id)),
      route('elb-statuses', 'GET', '/loadbalancers/([^/]+)/statuses', ([id]) => this.statuses(id)),
      route('elb-pools', 'GET', '/pools', (_, url) => this.listPools(url)),
      route('elb-pool', 'GET', '/pools/([^/]+)', ([id]) =>
        this.withPool(id, (pool) => this.ok({ pool: this.describePool(pool) }))
      ),
      route('elb-members', 'GET', '/pools/([^/]+)/members', ([id], url) => this.listMembers(id, url)),
      route('elb-member', 'GET', '/pools/([^/]+)/members/([^/]+)', ([poolId, id]) => this.showMember(poolId, id)),
      route('elb-member-update', 'PUT', '/pools/([^/]+)/members/([^/]+)', ([poolId, id], _, body) =>
        this.updateMember(poolId, id, body)
      ),
      route('elb-members-batch-update', 'POST', '/pools/([^/]+)/members/batch-update', ([poolId], _, body) =>
        this.batchUpdate(poolId, body)
      ),
      route('elb-healthmonitor', 'GET', '/healthmonitors/([^/]+)', ([id]) => this.showMonitor(id))
    ]
  }

  private ok(body: Record<string, unknown>): Reply {
    return { status: 200, body: { request_id: '', ...body } }
  }

  private allPools(): PoolState[] {
    return this.world.loadBalancers.flatMap((lb) => lb.pools)
  }

  private withPool(poolId: string, answer: (pool: PoolState) => Reply): Reply {
    const pool = this.world.pool(poolId)
    return pool === undefined ? notFound('pool', poolId) : answer(pool)
  }

  private listLoadBalancers(url: URL): Reply {
    let lbs = this.world.loadBalancers
    lbs = filter(lbs, url, 'id', (lb) => lb.id)
    lbs = filter(lbs, url, 'name', (lb) => lb.name)
    lbs = filter(lbs, url, 'guaranteed', (lb) => lb.guaranteed)
    lbs = filter(lbs, url, 'provisioning_status', (lb) => this.provisioning(lb))
    const paged = page(lbs, url)
    if ('status' in paged) return paged
    return this.ok({
      loadbalancers: paged.items.map((lb) => this.describeLoadBalancer(lb)),
      page_info: paged.page_info
    })
  }

  private showLoadBalancer(id: string): Reply {
    const lb = this.world.loadBalancers.find((candidate) => candidate.id === id)
    return lb ? this.ok({ loadbalancer: this.describeLoadBalancer(lb) }) : notFound('loadbalancer', id)
  }

  private listPools(url: URL): Reply {
    let pools = this.allPools()
    pools = filter(pools, url, 'id', (pool) => pool.id)
    pools = filter(pools, url, 'name', (pool) => pool.name)
    pools = filter(pools, url, 'loadbalancer_id', (pool) => pool.lb.id)
    pools = filter(pools, url, 'healthmonitor_id', (pool) => pool.monitor?.id)
    pools = filter(pools, url, 'lb_algorithm', (pool) => pool.lbAlgorithm)
    pools = filter(pools, url, 'protocol', (pool) => pool.protocol)
    pools = filter(pools, url, 'member_device_id', (pool) => pool.members.map((m) => m.serverId))
    pools = filter(pools, url, 'member_instance_id', (pool) => pool.members.map((m) => m.serverId))
    pools = filter(pools, url, 'member_address', (pool) => pool.members.map((m) => m.address))
    const paged = page(pools, url)
    if ('status' in paged) return paged
    return this.ok({ pools: paged.items.map((pool) => this.describePool(pool)), page_info: paged.page_info })
  }

  private listMembers(poolId: string, url: URL): Reply {
    return this.withPool(poolId, (pool) => {
      let members = pool.members
      members = filter(members, url, 'id', (m) => m.id)
      members = filter(members, url, 'instance_id', (m) => m.serverId)
      members = filter(members, url, 'address', (m) => m.address)
      members = filter(members, url, 'protocol_port', (m) => m.protocolPort)
      members = filter(members, url, 'weight', (m) => m.weight)
      members = filter(members, url, 'operating_status', (m) => shownStatus(pool, m))
      members = filter(members, url, 'member_type', () => 'instance')
      const paged = page(members, url)
      if ('status' in paged) return paged
      return this.ok({ members: paged.items.map((m) => this.describeMember(pool, m)), page_info: paged.page_info })
    })
  }

  private showMember(poolId: string, memberId: string): Reply {
    return this.withPool(poolId, (pool) => {
      const member = pool.members.find((m) => m.id === memberId)
      return member ? this.ok({ member: this.describeMember(pool, member) }) : notFound('member', memberId)
    })
  }

  private showMonitor(id: string): Reply {
    const pool = this.allPools().find((candidate) => candidate.monitor?.id === id)
    if (pool?.monitor === undefined) return notFound('healthmonitor', id)
    const { monitor } = pool
    return this.ok({
      healthmonitor: {
        id: monitor.id,
        name: '',
        project_id: this.projectOf(),
        admin_state_up: monitor.adminStateUp,
        delay: monitor.delay,
        timeout: monitor.timeout,
        max_retries: monitor.maxRetries,
        max_retries_down: monitor.maxRetriesDown,
        type: monitor.type,
        monitor_port: null,
        url_path: '/',
        expected_codes: '200',
        http_method: 'GET',
        domain_name: null,
        pools: [{ id: pool.id }],
        created_at: CREATED,
        updated_at: CREATED
      }
    })
  }

  /** `PUT .../members/{member_id}` with `{"member":{"weight"?,"name"?,"admin_state_up"?}}`. */
  private updateMember(poolId: string, memberId: string, body: string): Reply {
    return this.withPool(poolId, (pool) => {
      const member = pool.members.find((m) => m.id === memberId)
      if (member === undefined) return notFound('member', memberId)
      const parsed = parseBody(body)
      if (parsed === NOT_JSON || !isPlainObject(parsed) || !isPlainObject(parsed.member)) return invalid('member')
      if (Object.keys(parsed.member).length === 0) {
        // As reported for weight 0 dropped by a client (sbercloud terraform provider #373).
        return { status: 400, body: elbError('SYS.0400', "Invalid request body: Empty body '{}' is meaningless.") }
      }
      const weight = this.weightOf(parsed.member)
      if (typeof weight === 'object') return weight
      const busy = this.busy(pool.lb)
      if (busy) return busy
      if (weight !== undefined) changeWeight(pool, member, weight, this.world.now(), this.world.weightApplyMs)
      this.world.markChanged(pool.lb)
      return this.ok({ member: this.describeMember(pool, member) })
    })
  }

  /**
   * `POST .../members/batch-update` with `{"members":[{"id","weight"?,…}]}` (1-200). Applied in
   * order; an unknown member id stops it there with 404, the earlier ones staying applied (whether
   * the cloud is atomic is not documented: this is the harsher reading).
   */
  private batchUpdate(poolId: string, body: string): Reply {
    return this.withPool(poolId, (pool) => {
      const parsed = parseBody(body)
      if (parsed === NOT_JSON || !isPlainObject(parsed) || !Array.isArray(parsed.members)) return invalid('members')
      const items: unknown[] = parsed.members
      if (items.length === 0 || items.length > MAX_BATCH_MEMBERS) return invalid('members')
      const updates: { id: string; weight: number | undefined }[] = []
      for (const item of items) {
        if (!isPlainObject(item) || typeof item.id !== 'string' || item.id === '') return invalid('members.id')
        const weight = this.weightOf(item)
        if (typeof weight === 'object') return weight
        updates.push({ id: item.id, weight })
      }
      const busy = this.busy(pool.lb)
      if (busy) return busy
      const updated: MemberState[] = []
      for (const update of updates) {
        const member = pool.members.find((m) => m.id === update.id)
        if (member === undefined) {
          if (updated.length > 0) this.world.markChanged(pool.lb)
          return notFound('member', update.id)
        }
        if (update.weight !== undefined) {
          changeWeight(pool, member, update.weight, this.world.now(), this.world.weightApplyMs)
        }
        updated.push(member)
      }
      this.world.markChanged(pool.lb)
      return this.ok({ members: updated.map((m) => this.describeMember(pool, m)) })
    })
  }

  /** The `weight` of an update body: undefined when absent, a 400 answer when not 0-100. */
  private weightOf(spec: Record<string, unknown>): number | undefined | Reply {
    const { weight } = spec
    if (weight === undefined) return undefined
    if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 0 || weight > 100) return invalid('weight')
    return weight
  }

  private busy(lb: LoadBalancerState): Reply | undefined {
    if (!this.world.isBusy(lb)) return undefined
    return {
      status: 409,
      body: elbError(
        'ELB.8907',
        `Data conflict. Load balancer ${lb.id} is ${this.provisioning(lb)}; retry when it is ACTIVE.`
      )
    }
  }

  private provisioning(lb: LoadBalancerState): string {
    return this.world.isBusy(lb) ? 'PENDING_UPDATE' : 'ACTIVE'
  }

  private describeLoadBalancer(lb: LoadBalancerState): object {
    return {
      id: lb.id,
      name: lb.name,
      description: '',
      project_id: this.projectOf(),
      provisioning_status: this.provisioning(lb),
      operating_status: 'ONLINE',
      admin_state_up: true,
      provider: 'vlb',
      guaranteed: lb.guaranteed,
      pools: lb.pools.map((pool) => ({ id: pool.id })),
      listeners: lb.pools.map((pool) => ({ id: listenerId(pool) })),
      vip_address: '10.255.0.10',
      vpc_id: 'vpc-emulator',
      availability_zone_list: lb.guaranteed ? ['az1'] : [],
      enterprise_project_id: '0',
      tags: [],
      eips: [],
      created_at: CREATED,
      updated_at: CREATED
    }
  }

  private describePool(pool: PoolState): object {
    return {
      id: pool.id,
      name: pool.name,
      description: '',
      project_id: this.projectOf(),
      admin_state_up: true,
      protocol: pool.protocol,
      lb_algorithm: pool.lbAlgorithm,
      healthmonitor_id: pool.monitor?.id ?? null,
      listeners: [{ id: listenerId(pool) }],
      loadbalancers: [{ id: pool.lb.id }],
      members: pool.members.map((m) => ({ id: m.id })),
      session_persistence: null,
      ip_version: 'v4',
      slow_start: null,
      member_deletion_protection_enable: false,
      connection_drain: { ...pool.connectionDrain },
      type: 'instance',
      vpc_id: 'vpc-emulator',
      enterprise_project_id: '0',
      created_at: CREATED,
      updated_at: CREATED
    }
  }

  private describeMember(pool: PoolState, member: MemberState): object {
    const status = shownStatus(pool, member)
    const reason =
      status === 'OFFLINE'
        ? { reason_code: 'CONNECT_TIMEOUT', expected_response: '200', healthcheck_response: '' }
        : undefined
    const description: Record<string, unknown> = {
      id: member.id,
      name: '',
      project_id: this.projectOf(),
      admin_state_up: true,
      subnet_cidr_id: 'subnet-emulator',
      protocol_port: member.protocolPort,
      weight: member.weight,
      address: member.address,
      ip_version: 'v4',
      operating_status: status,
      status: [{ listener_id: listenerId(pool), operating_status: status, ...(reason && { reason }) }],
      member_type: 'instance',
      instance_id: member.serverId
    }
    if (reason) description.reason = reason
    // "Not returned for ... resources of shared load balancers" (GO model_member.go).
    if (pool.lb.guaranteed) {
      description.created_at = new Date(member.createdAt).toISOString().replace(/\.\d+Z$/, 'Z')
      description.updated_at = new Date(member.updatedAt).toISOString().replace(/\.\d+Z$/, 'Z')
    }
    return description
  }

  /** `GET .../loadbalancers/{id}/statuses`: the status tree (one listener per pool here). */
  private statuses(id: string): Reply {
    const lb = this.world.loadBalancers.find((candidate) => candidate.id === id)
    if (lb === undefined) return notFound('loadbalancer', id)
    const pools = lb.pools.map((pool) => {
      const members = pool.members.map((m) => ({
        id: m.id,
        address: m.address,
        protocol_port: m.protocolPort,
        provisioning_status: 'ACTIVE',
        operating_status: shownStatus(pool, m)
      }))
      const offline = members.filter((m) => m.operating_status === 'OFFLINE').length
      const operating = offline === 0 ? 'ONLINE' : offline === members.length ? 'OFFLINE' : 'DEGRADED'
      return {
        id: pool.id,
        name: pool.name,
        provisioning_status: 'ACTIVE',
        operating_status: operating,
        healthmonitor: pool.monitor
          ? { id: pool.monitor.id, type: pool.monitor.type, provisioning_status: 'ACTIVE' }
          : {},
        members
      }
    })
    const listeners = lb.pools.map((pool, i) => ({
      id: listenerId(pool),
      name: '',
      provisioning_status: 'ACTIVE',
      operating_status: 'ONLINE',
      pools: [pools[i]]
    }))
    const tree = {
      id: lb.id,
      name: lb.name,
      provisioning_status: this.provisioning(lb),
      operating_status: 'ONLINE',
      listeners,
      pools
    }
    return this.ok({ statuses: { loadbalancer: tree } })
  }
}
