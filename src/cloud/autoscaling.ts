import type { ApiClient } from './api'

/** A scaling group as a rolling restart needs it. */
export interface ScalingGroup {
  id: string
  name: string
  /** `scaling_group_status`: INSERVICE, PAUSED, ERROR, DELETING, … */
  status: string
  isScaling: boolean
  /** The pools of its `lbaas_listeners`: standby unbinds its instances from these. */
  poolIds: string[]
}

/** An instance of a scaling group (`scaling_group_instances[]`). */
export interface ScalingInstance {
  serverId: string
  /** INSERVICE, PENDING, PENDING_WAIT, REMOVING, REMOVING_WAIT, STANDBY, ENTERING_STANDBY, … */
  lifeCycleState: string
}

/** At most this many instances per batch instance action (批量操作实例). */
export const MAX_STANDBY_INSTANCES = 10
/** The largest `limit` of an instance list page. */
const INSTANCE_PAGE = 100

const text = (value: unknown): string => (typeof value === 'string' ? value : '')

const poolIdsOf = (value: unknown): string[] =>
  Array.isArray(value) ? value.map((l) => text((l as { pool_id?: unknown } | null)?.pool_id)).filter(Boolean) : []

/** Auto Scaling v1: reading a group and its instances, pausing and resuming it, standby. */
export class AutoScalingClient {
  constructor(
    private readonly api: ApiClient,
    readonly endpoint: URL,
    readonly projectId: string
  ) {}

  private path(suffix: string): string {
    return `/autoscaling-api/v1/${this.projectId}${suffix}`
  }

  async group(groupId: string, giveUpAt?: number): Promise<ScalingGroup> {
    const response = await this.api.request({
      what: `Read scaling group ${groupId}`,
      method: 'GET',
      endpoint: this.endpoint,
      path: this.path(`/scaling_group/${encodeURIComponent(groupId)}`),
      projectId: this.projectId,
      idempotent: true,
      giveUpAt
    })
    const raw = ((response.body as { scaling_group?: unknown } | undefined)?.scaling_group ?? {}) as Record<
      string,
      unknown
    >
    return {
      id: text(raw.scaling_group_id) || groupId,
      name: text(raw.scaling_group_name),
      status: text(raw.scaling_group_status),
      isScaling: raw.is_scaling === true,
      poolIds: [...new Set(poolIdsOf(raw.lbaas_listeners))]
    }
  }

  /** `pause` keeps health checks but removes no instance; `resume` lets the group act again. */
  async setPaused(groupId: string, paused: boolean, giveUpAt?: number): Promise<void> {
    await this.api.request({
      what: `${paused ? 'Pause' : 'Resume'} scaling group ${groupId}`,
      method: 'POST',
      endpoint: this.endpoint,
      path: this.path(`/scaling_group/${encodeURIComponent(groupId)}/action`),
      body: { action: paused ? 'pause' : 'resume' },
      projectId: this.projectId,
      // Repeated, it is refused (AS.2020, already in that state), which the caller reads back.
      idempotent: false,
      giveUpAt
    })
  }

  /** Every instance of the group, paged by `start_number` and `limit` (at most 100). */
  async instances(groupId: string, giveUpAt?: number): Promise<ScalingInstance[]> {
    const all: ScalingInstance[] = []
    for (;;) {
      const response = await this.api.request({
        what: `List the instances of scaling group ${groupId}`,
        method: 'GET',
        endpoint: this.endpoint,
        path: this.path(`/scaling_group_instance/${encodeURIComponent(groupId)}/list`),
        query: { start_number: String(all.length), limit: String(INSTANCE_PAGE) },
        projectId: this.projectId,
        idempotent: true,
        giveUpAt
      })
      const body = (response.body ?? {}) as { scaling_group_instances?: unknown; total_number?: unknown }
      const rows = Array.isArray(body.scaling_group_instances) ? (body.scaling_group_instances as unknown[]) : []
      for (const row of rows) {
        const raw = (row ?? {}) as Record<string, unknown>
        all.push({ serverId: text(raw.instance_id), lifeCycleState: text(raw.life_cycle_state) })
      }
      const total = typeof body.total_number === 'number' ? body.total_number : 0
      if (rows.length < INSTANCE_PAGE || all.length >= total) return all
    }
  }

  /**
   * ENTER_STANDBY (AS unbinds the instances from the group's pools and stops checking them) or
   * EXIT_STANDBY (AS binds them again, as new members), at most 10 instances per call.
   * `accepted` hears each call's instances once the cloud took them.
   */
  async setStandby(
    groupId: string,
    serverIds: readonly string[],
    standby: boolean,
    giveUpAt?: number,
    accepted?: (serverIds: readonly string[]) => void
  ): Promise<void> {
    const action = standby ? 'ENTER_STANDBY' : 'EXIT_STANDBY'
    for (let start = 0; start < serverIds.length; start += MAX_STANDBY_INSTANCES) {
      const chunk = serverIds.slice(start, start + MAX_STANDBY_INSTANCES)
      await this.api.request({
        what: `${standby ? 'Enter' : 'Exit'} standby for ${chunk.length} instance(s) of scaling group ${groupId}`,
        method: 'POST',
        endpoint: this.endpoint,
        path: this.path(`/scaling_group_instance/${encodeURIComponent(groupId)}/action`),
        body: standby ? { action, instances_id: chunk, instance_append: 'no' } : { action, instances_id: chunk },
        projectId: this.projectId,
        // Repeated, it is refused (AS.4015 / AS.4038, wrong state): the caller reads the state back.
        idempotent: false,
        giveUpAt
      })
      accepted?.(chunk)
    }
  }
}
