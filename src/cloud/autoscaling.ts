import type { ApiClient } from './api'

/** A scaling group as a rolling restart needs it. */
export interface ScalingGroup {
  id: string
  name: string
  /** `scaling_group_status`: INSERVICE, PAUSED, ERROR, DELETING, … */
  status: string
  isScaling: boolean
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '')

/** Auto Scaling v1: reading a group, and pausing and resuming it. */
export class AutoScalingClient {
  constructor(
    private readonly api: ApiClient,
    readonly endpoint: URL,
    readonly projectId: string
  ) {}

  private path(suffix: string): string {
    return `/autoscaling-api/v1/${this.projectId}${suffix}`
  }

  async group(groupId: string): Promise<ScalingGroup> {
    const response = await this.api.request({
      what: `Read scaling group ${groupId}`,
      method: 'GET',
      endpoint: this.endpoint,
      path: this.path(`/scaling_group/${encodeURIComponent(groupId)}`),
      projectId: this.projectId,
      idempotent: true
    })
    const raw = ((response.body as { scaling_group?: unknown } | undefined)?.scaling_group ?? {}) as Record<
      string,
      unknown
    >
    return {
      id: text(raw.scaling_group_id) || groupId,
      name: text(raw.scaling_group_name),
      status: text(raw.scaling_group_status),
      isScaling: raw.is_scaling === true
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
}
