/**
 * The cloud's restart rate limit (`EmulatorOptions.rateLimit`): servers accepted per sliding window,
 * answered with the gateway's throttling response when a request would exceed it.
 */
import { gatewayError, type Reply } from './http'
import type { RateLimit } from './options'

const THROTTLED_MESSAGE = 'The throttling threshold has been reached.'

/**
 * Servers accepted per sliding window: an entry leaves the window `windowMs` after it was added.
 * Entries sit in a queue whose consumed head is dropped now and then, so memory follows the window.
 */
export class SlidingWindow {
  private readonly entries: { at: number; count: number }[] = []
  private head = 0
  private total = 0

  constructor(private readonly limit: RateLimit) {}

  /** Milliseconds until `count` more servers fit; 0 when they fit now. */
  waitMs(now: number, count: number): number {
    this.expire(now)
    if (this.total === 0 || this.total + count <= this.limit.servers) return 0
    let excess = this.total + count - this.limit.servers
    let i = this.head
    // Drop the oldest entries until the rest leave room; an oversized request waits for an empty window.
    for (; i < this.entries.length - 1; i++) {
      excess -= this.entries[i].count
      if (excess <= 0) break
    }
    return Math.max(1, this.entries[i].at + this.limit.windowMs - now)
  }

  add(now: number, count: number): void {
    this.entries.push({ at: now, count })
    this.total += count
  }

  private expire(now: number): void {
    while (this.head < this.entries.length && this.entries[this.head].at + this.limit.windowMs <= now) {
      this.total -= this.entries[this.head].count
      this.head++
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries.splice(0, this.head)
      this.head = 0
    }
  }
}

/** Admits restarts under an optional limit and counts the requests it throttled. */
export class RateLimiter {
  /** Requests answered 429. */
  throttled = 0
  private readonly window: SlidingWindow | undefined
  private readonly retryAfter: boolean

  constructor(
    limit: RateLimit | undefined,
    private readonly now: () => number
  ) {
    this.window = limit ? new SlidingWindow({ ...limit }) : undefined
    this.retryAfter = limit?.retryAfter ?? false
  }

  /** The 429 APIG.0308 answer (with `Retry-After` only when asked for) when `servers` more restarts would exceed the limit now; else admits them. */
  admit(servers: number): Reply | undefined {
    if (!this.window) return undefined
    const now = this.now()
    const waitMs = this.window.waitMs(now, servers)
    if (waitMs > 0) {
      this.throttled++
      return {
        status: 429,
        body: gatewayError('APIG.0308', THROTTLED_MESSAGE),
        headers: this.retryAfter ? { 'Retry-After': String(Math.ceil(waitMs / 1000)) } : undefined
      }
    }
    this.window.add(now, servers)
    return undefined
  }
}
