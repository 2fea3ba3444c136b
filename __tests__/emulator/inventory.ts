/**
 * The project's servers (`EmulatorOptions.inventory`) and their states, which follow the actions
 * accepted for them: REBOOT/HARD_REBOOT while a reboot's job runs, ACTIVE or SHUTOFF after it.
 */
import type { EmulatorServer } from './options'

/** The three batch actions of `POST /v1/{project_id}/cloudservers/action`. */
export type Action = 'reboot' | 'os-start' | 'os-stop'

/** The state a server must be in for an action; any other fails its sub-job with Ecs.0100. */
const STATE_NEEDED: Record<Action, string> = { reboot: 'ACTIVE', 'os-stop': 'ACTIVE', 'os-start': 'SHUTOFF' }
const STATE_AFTER: Record<Action, string> = { reboot: 'ACTIVE', 'os-stop': 'SHUTOFF', 'os-start': 'ACTIVE' }

interface InventoryServer extends EmulatorServer {
  status: string
  tags: string[]
  /** When `status` began (-Infinity: from the start). */
  since: number
  /** While an accepted action's job runs: the state shown from `from` until `at`, and the state after it. */
  until?: { from: number; at: number; during: string; after: string }
}

/** A server's state at an instant, and since when it has been in it. */
export interface ServerState {
  status: string
  since: number
}

export class Inventory {
  /**
   * Load-balancing hook: called before any server's state changes (an action begins, a test or the
   * Auto Scaling model sets a state, a job's end is taken in), so a model that replays time lazily
   * (`stateAt`) can first catch up with the state as it was.
   */
  beforeChange: (() => void) | undefined
  private readonly servers = new Map<string, InventoryServer>()

  constructor(
    servers: EmulatorServer[],
    private readonly now: () => number
  ) {
    for (const server of servers) {
      this.servers.set(server.id, {
        ...server,
        status: server.status ?? 'ACTIVE',
        tags: server.tags ?? [],
        since: -Infinity
      })
    }
  }

  ids(): string[] {
    return [...this.servers.keys()]
  }

  has(serverId: string): boolean {
    return this.servers.has(serverId)
  }

  /** True for a listed server not in the state `action` needs now; false for servers not listed. */
  inWrongState(serverId: string, action: Action): boolean {
    const server = this.servers.get(serverId)
    return server !== undefined && this.statusOf(server) !== STATE_NEEDED[action]
  }

  /** A listed server's accepted action: its state during the job (`jobDurationMs`), then after it. */
  begin(serverId: string, action: Action, hard: boolean, jobDurationMs: number): void {
    const server = this.servers.get(serverId)
    if (server === undefined) return
    this.beforeChange?.()
    const status = this.statusOf(server)
    const during = action === 'reboot' ? (hard ? 'HARD_REBOOT' : 'REBOOT') : status
    const now = this.now()
    server.until = { from: now, at: now + jobDurationMs, during, after: STATE_AFTER[action] }
  }

  /** Sets a server's state at `at` (default now), ending any action's effect on it. */
  setStatus(serverId: string, status: string, at = this.now()): void {
    const server = this.servers.get(serverId)
    if (server === undefined) throw new Error(`${serverId} is not in the inventory`)
    this.beforeChange?.()
    server.status = status
    server.since = at
    delete server.until
  }

  /**
   * A listed server's state at `t` (not before its last change), without taking anything in; used
   * by the load-balancing model to replay time. Undefined for servers not listed.
   */
  stateAt(serverId: string, t: number): ServerState | undefined {
    const server = this.servers.get(serverId)
    if (server === undefined) return undefined
    const { until } = server
    if (until === undefined) return { status: server.status, since: server.since }
    if (t < until.at) return { status: until.during, since: until.from }
    return { status: until.after, since: until.at }
  }

  /**
   * The servers of an enterprise project ('all_granted_eps' or null: all) from index `start` to
   * `end`, as the API describes them, and how many there are in all.
   */
  list(enterpriseProjectId: string | null, start: number, end: number): { count: number; servers: object[] } {
    const all = [...this.servers.values()].filter(
      (server) =>
        enterpriseProjectId === null ||
        enterpriseProjectId === 'all_granted_eps' ||
        (server.enterpriseProjectId ?? '0') === enterpriseProjectId
    )
    return { count: all.length, servers: all.slice(start, end).map((server) => this.describe(server)) }
  }

  /** One server as the API describes it, or undefined when not listed. */
  show(serverId: string): object | undefined {
    const server = this.servers.get(serverId)
    return server && this.describe(server)
  }

  private describe(server: InventoryServer): object {
    return {
      id: server.id,
      name: server.name,
      status: this.statusOf(server),
      tags: server.tags,
      enterprise_project_id: server.enterpriseProjectId ?? '0'
    }
  }

  /** A server's state now: during an action's job, then after it. */
  private statusOf(server: InventoryServer): string {
    if (server.until === undefined) return server.status
    if (this.now() < server.until.at) return server.until.during
    this.beforeChange?.()
    // Read again: the hook may have changed the server (Auto Scaling deleting it).
    const until = this.jobOf(server)
    if (until === undefined) return server.status
    server.status = until.after
    server.since = until.at
    delete server.until
    return server.status
  }

  private jobOf(server: InventoryServer): InventoryServer['until'] {
    return server.until
  }
}
