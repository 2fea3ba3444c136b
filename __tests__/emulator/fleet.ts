/**
 * What the ECS and Nova routes share about servers: which exist, which fail or are refused, the
 * inventory and its states, the rate limit, and the restarts counted per server.
 */
import { Inventory } from './inventory'
import type { EmulatorOptions, ServerFailure, ServerRejection } from './options'
import { RateLimiter } from './rate-limit'

/** Default `taskSettleMs`: a server's task outlasts its job a little. */
const DEFAULT_TASK_SETTLE_MS = 100

/** The last restart of a server (batch or Nova), which is what the Nova show-server route reports. */
export interface ServerRestart {
  at: number
  hard: boolean
  failure: ServerFailure | undefined
}

export class Fleet {
  readonly inventory: Inventory
  readonly limiter: RateLimiter
  /** Time from submission until a job (or a Nova reboot) is over. */
  readonly jobDurationMs: number
  /** Time from submission during which the job's query is answered as for an unknown job. */
  readonly jobHiddenMs: number
  /** What happens to a server that does not exist; see `EmulatorOptions.unknownServers`. */
  readonly unknownServers: 'reject' | 'sub-job'
  /** How the inventory changes after each list page (`EmulatorOptions.churnWhileListing`). */
  readonly churnWhileListing: { create: number; delete: number }
  /** Restarts counted over all servers. */
  restartsTotal = 0

  private readonly knownServers: Set<string> | undefined
  private readonly failures: Map<string, ServerFailure>
  private readonly rejections: Map<string, ServerRejection>
  private readonly restarts = new Map<string, number>()
  private readonly lastRestarts = new Map<string, ServerRestart>()

  constructor(
    options: EmulatorOptions,
    readonly now: () => number
  ) {
    this.inventory = new Inventory(options.inventory ?? [], now, options.taskSettleMs ?? DEFAULT_TASK_SETTLE_MS)
    this.limiter = new RateLimiter(options.rateLimit, now)
    this.jobDurationMs = Math.max(0, options.jobDurationMs ?? 100)
    this.jobHiddenMs = options.jobHiddenMs ?? 0
    this.unknownServers = options.unknownServers ?? 'sub-job'
    this.churnWhileListing = { create: 0, delete: 0, ...options.churnWhileListing }
    this.knownServers =
      options.servers === undefined || options.servers === 'any'
        ? options.inventory
          ? new Set(this.inventory.ids())
          : undefined
        : new Set(options.servers)
    this.failures = new Map(Object.entries(options.serverFailures ?? {}))
    this.rejections = new Map(Object.entries(options.rejectServers ?? {}))
  }

  isUnknown(serverId: string): boolean {
    return this.knownServers !== undefined && !this.knownServers.has(serverId)
  }

  /** How the cloud refuses a whole request that names this server, if it does. */
  rejectionOf(serverId: string): ServerRejection | undefined {
    return this.rejections.get(serverId)
  }

  /** How this server's restart fails (`serverFailures`), if it does. */
  failureOf(serverId: string): ServerFailure | undefined {
    return this.failures.get(serverId)
  }

  countRestart(serverId: string): void {
    this.restarts.set(serverId, (this.restarts.get(serverId) ?? 0) + 1)
    this.restartsTotal++
  }

  restartCount(serverId: string): number {
    return this.restarts.get(serverId) ?? 0
  }

  /** Servers restarted at least once. */
  restartedServers(): number {
    return this.restarts.size
  }

  noteReboot(serverId: string, hard: boolean, failure: ServerFailure | undefined): void {
    this.lastRestarts.set(serverId, { at: this.now(), hard, failure })
  }

  lastReboot(serverId: string): ServerRestart | undefined {
    return this.lastRestarts.get(serverId)
  }
}
