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
  /** While an accepted action's job runs: the state shown until `at`, and the state after it. */
  until?: { at: number; during: string; after: string }
}

/**
 * A tag as the API lists it: `key=value`, or only `key` when the value is empty (the SDKs'
 * ServerDetail.tags: "如果value为空字符串，则仅返回key"), so `canary=` is listed as `canary`.
 */
function listedTag(tag: string): string {
  return tag.indexOf('=') === tag.length - 1 ? tag.slice(0, -1) : tag
}

export class Inventory {
  private readonly servers = new Map<string, InventoryServer>()
  /** Listing order, newest first as Nova sorts (created_at desc); deleted servers keep their place for markers. */
  private readonly order: string[] = []
  private created = 0

  constructor(
    servers: EmulatorServer[],
    private readonly now: () => number
  ) {
    for (const server of servers) {
      this.servers.set(server.id, { ...server, status: server.status ?? 'ACTIVE', tags: server.tags ?? [] })
      this.order.push(server.id)
    }
  }

  /** A new server, listed first (the newest); its ID is UUID-shaped and never reused. */
  create(): string {
    const id = `ffffffff-0000-4000-8000-${String(++this.created).padStart(12, '0')}`
    this.servers.set(id, { id, name: `created-${this.created}`, status: 'ACTIVE', tags: [] })
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

  /** True for a listed server not in the state `action` needs now; false for servers not listed. */
  inWrongState(serverId: string, action: Action): boolean {
    const server = this.servers.get(serverId)
    return server !== undefined && this.statusOf(server) !== STATE_NEEDED[action]
  }

  /** A listed server's accepted action: its state during the job (`jobDurationMs`), then after it. */
  begin(serverId: string, action: Action, hard: boolean, jobDurationMs: number): void {
    const server = this.servers.get(serverId)
    if (server === undefined) return
    const during = action === 'reboot' ? (hard ? 'HARD_REBOOT' : 'REBOOT') : server.status
    server.until = { at: this.now() + jobDurationMs, during, after: STATE_AFTER[action] }
  }

  /** Sets a server's state now, ending any action's effect on it. */
  setStatus(serverId: string, status: string): void {
    const server = this.servers.get(serverId)
    if (server === undefined) throw new Error(`${serverId} is not in the inventory`)
    server.status = status
    delete server.until
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
    return {
      id: server.id,
      name: server.name,
      status: this.statusOf(server),
      tags: server.tags.map(listedTag),
      enterprise_project_id: server.enterpriseProjectId ?? '0'
    }
  }

  /** A server's state now: during an action's job, then after it. */
  private statusOf(server: InventoryServer): string {
    if (server.until === undefined) return server.status
    if (this.now() < server.until.at) return server.until.during
    server.status = server.until.after
    delete server.until
    return server.status
  }
}
