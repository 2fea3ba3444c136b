/**
 * The project's servers (`EmulatorOptions.inventory`) and their states, which follow the actions
 * accepted for them. Each server shows `status`, `OS-EXT-STS:vm_state`, `OS-EXT-STS:task_state`
 * and `OS-EXT-STS:power_state` as ECS documents them (`云服务器状态.md`, tables 3 and 4): while an
 * action's task runs, the task state is set and the status is what the vm state and task give
 * (REBOOT or HARD_REBOOT for a reboot; still ACTIVE while powering-off; still SHUTOFF while
 * powering-on). The task outlasts the job by `taskSettleMs`, so a job may report SUCCESS while its
 * servers are still moving.
 */
import type { EmulatorServer } from './options'

/** The three batch actions of `POST /v1/{project_id}/cloudservers/action`. */
export type Action = 'reboot' | 'os-start' | 'os-stop'

/** The state a server must be in for an action; any other (or a task in progress) fails its sub-job with Ecs.0100. */
const STATE_NEEDED: Record<Action, string> = { reboot: 'ACTIVE', 'os-stop': 'ACTIVE', 'os-start': 'SHUTOFF' }
const STATE_AFTER: Record<Action, string> = { reboot: 'ACTIVE', 'os-stop': 'SHUTOFF', 'os-start': 'ACTIVE' }

/** `OS-EXT-STS:vm_state` for each status (table 4); statuses not listed there have none. */
const VM_STATE: Record<string, string> = {
  ACTIVE: 'active',
  REBOOT: 'active',
  HARD_REBOOT: 'active',
  MIGRATING: 'active',
  REBUILD: 'active',
  RESIZE: 'active',
  SHUTOFF: 'stopped',
  VERIFY_RESIZE: 'resized',
  REVERT_RESIZE: 'resized',
  ERROR: 'error',
  DELETED: 'deleted',
  BUILD: 'building',
  SHELVED: 'shelved',
  SHELVED_OFFLOADED: 'shelved_offloaded'
}
/** Nova's power states: 0 NOSTATE, 1 RUNNING, 4 SHUTDOWN. */
const POWER_STATE: Record<string, number> = { active: 1, resized: 1, stopped: 4, shelved: 4, shelved_offloaded: 4 }

interface Task {
  /** `OS-EXT-STS:task_state` while it runs. */
  state: string
  /** `status` while it runs. */
  during: string
  /** `status` once it is over, at `endsAt`. */
  after: string
  /** When it began. */
  from: number
  endsAt: number
}

interface InventoryServer extends EmulatorServer {
  status: string
  tags: string[]
  /** When `status` began (-Infinity: from the start). */
  since: number
  task?: Task
}

/** A server's state at an instant, since when it has been in it, and the task it is carrying out. */
export interface ServerState {
  status: string
  since: number
  task?: string
}

/** The task an accepted action starts, as table 4 pairs task states and statuses. */
function taskOf(action: Action, hard: boolean, status: string): Omit<Task, 'from' | 'endsAt'> {
  const after = STATE_AFTER[action]
  if (action === 'reboot') {
    return hard
      ? { state: 'reboot_started_hard', during: 'HARD_REBOOT', after }
      : { state: 'reboot_started', during: 'REBOOT', after }
  }
  return { state: action === 'os-stop' ? 'powering-off' : 'powering-on', during: status, after }
}

/**
 * A tag as the API lists it: `key=value`, or only `key` when the value is empty (the SDKs'
 * ServerDetail.tags: "如果value为空字符串，则仅返回key"), so `canary=` is listed as `canary`.
 */
function listedTag(tag: string): string {
  return tag.indexOf('=') === tag.length - 1 ? tag.slice(0, -1) : tag
}

/** A server's task, read through a call so that no narrowing from before a hook survives it. */
function currentTask(server: InventoryServer): Task | undefined {
  return server.task
}

export class Inventory {
  /**
   * Load-balancing hook: called before any server's state changes (an action begins, a test or the
   * Auto Scaling model sets a state, a task's end is taken in), so a model that replays time lazily
   * (`stateAt`) can first catch up with the state as it was.
   */
  beforeChange: (() => void) | undefined
  private readonly servers = new Map<string, InventoryServer>()
  /** Listing order, newest first as Nova sorts (created_at desc); deleted servers keep their place for markers. */
  private readonly order: string[] = []
  private created = 0

  constructor(
    servers: EmulatorServer[],
    private readonly now: () => number,
    /** How long a server's task outlasts its job. */
    private readonly taskSettleMs = 0
  ) {
    for (const server of servers) {
      this.servers.set(server.id, {
        ...server,
        status: server.status ?? 'ACTIVE',
        tags: server.tags ?? [],
        since: -Infinity
      })
      this.order.push(server.id)
    }
  }

  /** A new server, listed first (the newest); its ID is UUID-shaped and never reused. */
  create(): string {
    const id = `ffffffff-0000-4000-8000-${String(++this.created).padStart(12, '0')}`
    this.servers.set(id, { id, name: `created-${this.created}`, status: 'ACTIVE', tags: [], since: this.now() })
    this.order.unshift(id)
    return id
  }

  /** Deletes a server: no longer listed or shown, but still a valid marker (Nova reads markers with deleted rows). */
  delete(serverId: string): void {
    if (!this.servers.delete(serverId)) throw new Error(`${serverId} is not in the inventory`)
  }

  /** The servers listed first now, at most `count`. */
  firstListed(count: number): string[] {
    return this.order.filter((id) => this.servers.has(id)).slice(0, count)
  }

  ids(): string[] {
    return [...this.servers.keys()]
  }

  has(serverId: string): boolean {
    return this.servers.has(serverId)
  }

  /** True for a listed server not in the state `action` needs now, or busy with a task; false for servers not listed. */
  inWrongState(serverId: string, action: Action): boolean {
    const server = this.servers.get(serverId)
    if (server === undefined) return false
    this.settle(server)
    return server.task !== undefined || server.status !== STATE_NEEDED[action]
  }

  /** A listed server's accepted action: its task runs for the job (`jobDurationMs`) and `taskSettleMs` more. */
  begin(serverId: string, action: Action, hard: boolean, jobDurationMs: number): void {
    const server = this.servers.get(serverId)
    if (server === undefined) return
    this.beforeChange?.()
    this.settle(server)
    const from = this.now()
    server.task = { ...taskOf(action, hard, server.status), from, endsAt: from + jobDurationMs + this.taskSettleMs }
  }

  /** Sets a server's state at `at` (default now), ending any task on it. */
  setStatus(serverId: string, status: string, at = this.now()): void {
    const server = this.servers.get(serverId)
    if (server === undefined) throw new Error(`${serverId} is not in the inventory`)
    this.beforeChange?.()
    server.status = status
    server.since = at
    delete server.task
  }

  /**
   * A listed server's state at `t` (not before its last change), without taking anything in; used
   * by the load-balancing model to replay time. Undefined for servers not listed.
   */
  stateAt(serverId: string, t: number): ServerState | undefined {
    const server = this.servers.get(serverId)
    if (server === undefined) return undefined
    const { task } = server
    if (task === undefined) return { status: server.status, since: server.since }
    if (t < task.endsAt) return { status: task.during, since: task.from, task: task.state }
    return { status: task.after, since: task.endsAt }
  }

  /**
   * The servers of an enterprise project ('all_granted_eps' or null: all), as the API describes
   * them, from index `start` to `end`, or (with `marker`) the `limit` after the server `marker`;
   * and how many there are in all. Undefined when the marker names no server, listed or deleted.
   */
  list(
    enterpriseProjectId: string | null,
    page: { start: number; end: number } | { marker: string; limit: number }
  ): { count: number; servers: object[] } | undefined {
    const inProject = (id: string): boolean => {
      const server = this.servers.get(id)
      return (
        server !== undefined &&
        (enterpriseProjectId === null ||
          enterpriseProjectId === 'all_granted_eps' ||
          (server.enterpriseProjectId ?? '0') === enterpriseProjectId)
      )
    }
    const all = this.order.filter(inProject)
    let ids: string[]
    if ('marker' in page) {
      const at = this.order.indexOf(page.marker)
      if (at === -1) return undefined
      ids = this.order
        .slice(at + 1)
        .filter(inProject)
        .slice(0, page.limit)
    } else {
      ids = all.slice(page.start, page.end)
    }
    return { count: all.length, servers: ids.map((id) => this.describe(this.servers.get(id) as InventoryServer)) }
  }

  /** One server as the API describes it, or undefined when not listed. */
  show(serverId: string): object | undefined {
    const server = this.servers.get(serverId)
    return server && this.describe(server)
  }

  private describe(server: InventoryServer): object {
    this.settle(server)
    const { task } = server
    const status = task?.during ?? server.status
    // The vm state is the stable one the task started from.
    const vmState: string | null = server.status in VM_STATE ? VM_STATE[server.status] : null
    return {
      id: server.id,
      name: server.name,
      status,
      tags: server.tags.map(listedTag),
      enterprise_project_id: server.enterpriseProjectId ?? '0',
      'OS-EXT-STS:vm_state': vmState,
      'OS-EXT-STS:task_state': task?.state ?? null,
      'OS-EXT-STS:power_state': vmState !== null && vmState in POWER_STATE ? POWER_STATE[vmState] : 0,
      locked: false
    }
  }

  /** Ends a task whose time is up: the server takes the state the action leads to. */
  private settle(server: InventoryServer): void {
    if (server.task === undefined || this.now() < server.task.endsAt) return
    this.beforeChange?.()
    // Read again: the hook may have changed the server (Auto Scaling deleting it).
    const task = currentTask(server)
    if (task === undefined) return
    server.status = task.after
    server.since = task.endsAt
    delete server.task
  }
}
