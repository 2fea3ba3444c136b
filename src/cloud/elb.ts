import type { ApiClient, ApiRequest } from './api'
import { isThrottling } from './api'
import { ApiError } from './errors'
import { type RetryPolicy, retryDelayMs } from './retry'
import type { Sleep } from '../shared/ports'

/** A pool of an ELB v3 load balancer, reduced to what a health-gated restart needs. */
export interface ElbPool {
  id: string
  name: string
  /** `lb_algorithm`: ROUND_ROBIN, LEAST_CONNECTIONS, SOURCE_IP, QUIC_CID, … */
  algorithm: string
  protocol: string
  /** `healthmonitor_id`; null when the pool has none. */
  healthMonitorId: string | null
  loadBalancerIds: string[]
  /**
   * `connection_drain` (deregistration delay; TCP/UDP/QUIC pools): once a member is at weight 0,
   * its existing connections are kept for `timeout` seconds (10-4000) when on, cut at once when off.
   */
  connectionDrain: { enable: boolean; timeout: number }
}

/** A backend server of a pool (`member_type` instance: `instanceId` is the ECS id). */
export interface ElbMember {
  /** The member id (not the ECS id). */
  id: string
  /** The ECS id; '' for IP-type members. */
  instanceId: string
  address: string
  weight: number
  /**
   * The health the API shows: each listener's `status[].operating_status` when the member has
   * any (they take priority), else `operating_status`.
   */
  statuses: string[]
}

export interface ElbHealthMonitor {
  id: string
  adminStateUp: boolean
  /** Seconds between probes. */
  delay: number
  timeout: number
  /** Successes that turn a member OFFLINE -> ONLINE. */
  maxRetries: number
  /** Failures that turn it ONLINE -> OFFLINE. */
  maxRetriesDown: number
}

export interface ElbLoadBalancer {
  id: string
  name: string
  /** true: dedicated; false: shared. */
  guaranteed: boolean
  provisioningStatus: string
  operatingStatus: string
}

export interface WeightChange {
  memberId: string
  weight: number
}

/** At most this many members per `batch-update` call. */
export const MAX_BATCH_MEMBERS = 200
const PAGE_LIMIT = 2000
/** A load balancer busy with an earlier change answers 409 with this code. */
const CONFLICT = 'ELB.8907'

/** How the client waits out refused calls (injected, so tests run on a virtual clock). */
export interface WaitPorts {
  clock: () => number
  sleep: Sleep
  random: () => number
  signal?: AbortSignal
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '')
const num = (value: unknown, fallback = 0): number => (typeof value === 'number' ? value : fallback)
const ids = (value: unknown): string[] =>
  Array.isArray(value) ? value.map((item) => text((item as { id?: unknown } | null)?.id)).filter(Boolean) : []

function readPool(raw: Record<string, unknown>): ElbPool {
  return {
    id: text(raw.id),
    name: text(raw.name),
    algorithm: text(raw.lb_algorithm),
    protocol: text(raw.protocol),
    healthMonitorId: text(raw.healthmonitor_id) || null,
    loadBalancerIds: ids(raw.loadbalancers),
    connectionDrain: readConnectionDrain(raw.connection_drain)
  }
}

/** `connection_drain` `{enable, timeout}`; absent (older pools, shared load balancers) reads as off. */
function readConnectionDrain(raw: unknown): ElbPool['connectionDrain'] {
  const drain = (raw ?? {}) as { enable?: unknown; timeout?: unknown }
  return { enable: drain.enable === true, timeout: num(drain.timeout) }
}

function readMember(raw: Record<string, unknown>): ElbMember {
  const perListener = Array.isArray(raw.status)
    ? raw.status.map((entry) => text((entry as { operating_status?: unknown } | null)?.operating_status))
    : []
  return {
    id: text(raw.id),
    instanceId: text(raw.instance_id),
    address: text(raw.address),
    weight: num(raw.weight, 1),
    statuses: perListener.length > 0 ? perListener : [text(raw.operating_status)]
  }
}

/** Backoff between refusals for now: doubling from 0.5 s to 10 s (or the server's Retry-After, up to 10 s). */
const REFUSAL_BACKOFF: RetryPolicy = { maxAttempts: 0, baseDelayMs: 500, maxDelayMs: 10_000 }

/** Whether the answer is a refusal for now: the load balancer busy (409 ELB.8907) or throttling. */
export function isRefusedForNow(error: unknown): error is ApiError {
  return error instanceof ApiError && ((error.status === 409 && error.code === CONFLICT) || isThrottling(error))
}

/**
 * The ELB v3 calls of a health-gated restart: pools, members, monitors, load balancers, weights.
 * Every call takes `giveUpAt` (ms since the epoch): a refusal for now (throttling, or a load
 * balancer busy with an earlier change) is waited out with backoff until then, in this client's
 * one loop (the API client hands refusals back); then the last refusal is thrown.
 */
export class ElbClient {
  constructor(
    private readonly api: ApiClient,
    readonly endpoint: URL,
    readonly projectId: string,
    private readonly wait: WaitPorts
  ) {}

  private async get(
    what: string,
    path: string,
    giveUpAt: number,
    query: Record<string, string> = {}
  ): Promise<Record<string, unknown>> {
    const call: ApiRequest = {
      what,
      method: 'GET',
      endpoint: this.endpoint,
      path: `/v3/${this.projectId}/elb${path}`,
      query,
      projectId: this.projectId,
      idempotent: true,
      callerRetriesRefusals: true,
      giveUpAt
    }
    const response = await this.untilAccepted(giveUpAt, () => this.api.request(call))
    return (response.body ?? {}) as Record<string, unknown>
  }

  /**
   * Every page of a list, following `page_info.next_marker` until a page is short or empty. A
   * marker seen before means the paging does not advance: an error, rather than a loop.
   */
  private async list(what: string, path: string, key: string, giveUpAt: number): Promise<unknown[]> {
    const all: unknown[] = []
    const seen = new Set<string>()
    let marker: string | undefined
    for (;;) {
      const page = await this.get(what, path, giveUpAt, { limit: String(PAGE_LIMIT), ...(marker && { marker }) })
      const items = Array.isArray(page[key]) ? (page[key] as unknown[]) : []
      all.push(...items)
      const next = text((page.page_info as { next_marker?: unknown } | undefined)?.next_marker)
      if (items.length < PAGE_LIMIT || next === '') return all
      if (seen.has(next)) throw new Error(`${what} stopped: page ${seen.size + 1} leads back to marker ${next}`)
      seen.add(next)
      marker = next
    }
  }

  /**
   * Every pool of the project (or only `poolIds` when given): one paged call, instead of one
   * `member_device_id` query per server; the members say which servers each pool holds.
   */
  async pools(giveUpAt: number, poolIds?: readonly string[]): Promise<ElbPool[]> {
    const rows = await this.list('List the ELB pools', '/pools', 'pools', giveUpAt)
    const pools = rows.map((raw) => readPool(raw as Record<string, unknown>)).filter((pool) => pool.id !== '')
    return poolIds === undefined ? pools : pools.filter((pool) => poolIds.includes(pool.id))
  }

  /** All members of a pool. */
  async members(poolId: string, giveUpAt: number): Promise<ElbMember[]> {
    const path = `/pools/${encodeURIComponent(poolId)}/members`
    const rows = await this.list(`List the members of pool ${poolId}`, path, 'members', giveUpAt)
    return rows.map((raw) => readMember(raw as Record<string, unknown>))
  }

  async healthMonitor(id: string, giveUpAt: number): Promise<ElbHealthMonitor> {
    const body = await this.get(`Read health monitor ${id}`, `/healthmonitors/${encodeURIComponent(id)}`, giveUpAt)
    const raw = (body.healthmonitor ?? {}) as Record<string, unknown>
    return {
      id: text(raw.id) || id,
      adminStateUp: raw.admin_state_up !== false,
      delay: num(raw.delay, 5),
      timeout: num(raw.timeout, 3),
      maxRetries: num(raw.max_retries, 3),
      maxRetriesDown: num(raw.max_retries_down, 3)
    }
  }

  async loadBalancer(id: string, giveUpAt: number): Promise<ElbLoadBalancer> {
    const body = await this.get(`Read load balancer ${id}`, `/loadbalancers/${encodeURIComponent(id)}`, giveUpAt)
    const raw = (body.loadbalancer ?? {}) as Record<string, unknown>
    return {
      id: text(raw.id) || id,
      name: text(raw.name),
      guaranteed: raw.guaranteed !== false,
      provisioningStatus: text(raw.provisioning_status),
      operatingStatus: text(raw.operating_status)
    }
  }

  /**
   * Sets member weights of one pool, at most 200 per `batch-update` call, `weight` always sent
   * (0 included). A load balancer busy with an earlier change (409 ELB.8907) or throttling is
   * waited out with backoff until `giveUpAt`; then the last refusal is thrown. `accepted` hears
   * each call's changes once the cloud took them, so a caller knows what went through before a
   * later call failed.
   */
  async setWeights(
    poolId: string,
    changes: readonly WeightChange[],
    giveUpAt: number,
    accepted?: (changes: readonly WeightChange[]) => void
  ): Promise<void> {
    for (let start = 0; start < changes.length; start += MAX_BATCH_MEMBERS) {
      const chunk = changes.slice(start, start + MAX_BATCH_MEMBERS)
      const members = chunk.map((c) => ({ id: c.memberId, weight: c.weight }))
      await this.untilAccepted(giveUpAt, () =>
        this.api.request({
          what: `Set the weights of ${members.length} member(s) of pool ${poolId}`,
          method: 'POST',
          endpoint: this.endpoint,
          path: `/v3/${this.projectId}/elb/pools/${encodeURIComponent(poolId)}/members/batch-update`,
          body: { members },
          projectId: this.projectId,
          // Setting a weight twice sets it once: safe to send again.
          idempotent: true,
          callerRetriesRefusals: true,
          giveUpAt
        })
      )
      accepted?.(chunk)
    }
  }

  /**
   * Sends until accepted, waiting out refusals for now until `giveUpAt` (reads and writes alike):
   * the one loop for them, since the API client hands refusals back (`callerRetriesRefusals`).
   */
  private async untilAccepted<T>(giveUpAt: number, send: () => Promise<T>): Promise<T> {
    const { clock, sleep, random, signal } = this.wait
    for (let attempt = 1; ; attempt++) {
      try {
        return await send()
      } catch (error) {
        if (!isRefusedForNow(error)) throw error
        const delay = retryDelayMs(attempt, error.retryAfterMs, REFUSAL_BACKOFF, random)
        if (clock() + delay > giveUpAt || signal?.aborted === true) throw error
        await sleep(delay, signal)
      }
    }
  }
}
