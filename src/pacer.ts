/** The cloud counts restarted servers over a sliding minute. */
export const RATE_WINDOW_MS = 60_000

/**
 * Spaces restart requests so that no sliding minute holds more servers than the limit, instead
 * of bouncing off the cloud's throttling. When the cloud throttles anyway, the account's limit is
 * lower than assumed: the pacer lowers its own to what the last minute held.
 */
export class Pacer {
  private readonly sent: { at: number; servers: number }[] = []

  constructor(
    private limit: number,
    private readonly clock: () => number
  ) {}

  get serversPerMinute(): number {
    return this.limit
  }

  private inWindow(now: number): { at: number; servers: number }[] {
    while (this.sent.length > 0 && this.sent[0].at <= now - RATE_WINDOW_MS) this.sent.shift()
    return this.sent
  }

  /** The earliest time (ms since the epoch) at which `servers` more fit under the limit. */
  availableAt(servers: number): number {
    const now = this.clock()
    const window = this.inWindow(now)
    let total = window.reduce((sum, entry) => sum + entry.servers, 0)
    // Drop the oldest entries, in order, until the new request fits; it may go when they expire.
    let at = now
    for (const entry of window) {
      if (total + servers <= this.limit) break
      total -= entry.servers
      at = entry.at + RATE_WINDOW_MS
    }
    return at
  }

  record(servers: number): void {
    this.sent.push({ at: this.clock(), servers })
  }

  /**
   * Throttled although paced: the account's limit is at most what the last minute held, so that
   * becomes the limit. Throttling with nothing sent in the last minute says nothing about our rate
   * (another client may share the quota), so the limit stays. Returns the limit now in force.
   */
  throttled(): number {
    const inLastMinute = this.inWindow(this.clock()).reduce((sum, entry) => sum + entry.servers, 0)
    if (inLastMinute > 0) this.limit = Math.min(this.limit, inLastMinute)
    return this.limit
  }
}
