import type { Plan } from './plan'

/** The cloud counts restarted servers per minute. */
export const RATE_WINDOW_MS = 60_000
/** A little room for clocks and latency, so requests do not arrive just before the cloud's window allows. */
const SAFETY = 1.02
/** How much the pace drops each time the cloud throttles although paced. */
const SLOWDOWN = 0.75

/** How long a request of `servers` holds the next one back at `limit` servers per minute. */
export function spacingMs(servers: number, limit: number): number {
  return Math.ceil((servers * RATE_WINDOW_MS * SAFETY) / limit)
}

/**
 * The earliest time after the first request at which the plan's last request can go, at `limit`
 * servers per minute with `pauseMs` between waves. The jobs' own time (which rolling waves also
 * wait for) is not known beforehand, so the run takes at least this long, usually more.
 */
export function earliestLastRequestMs(plan: Plan, limit: number, pauseMs: number): number {
  let now = 0
  let nextAt = 0
  for (const [index, wave] of plan.waves.entries()) {
    if (index > 0) now += pauseMs
    for (const batch of wave) {
      now = Math.max(now, nextAt)
      nextAt = now + spacingMs(batch.serverIds.length, limit)
    }
  }
  return now
}

/**
 * Spaces restart requests evenly at `limit` servers per minute (a request of n servers takes
 * n/limit of a minute, before the next may go), instead of bursting and bouncing off the cloud's
 * throttling. Evenly spaced requests also respect a limit the cloud counts over a shorter window.
 * When the cloud throttles anyway, the account's limit is lower than assumed: the pace drops.
 */
export class Pacer {
  private nextAt = Number.NEGATIVE_INFINITY

  constructor(
    private limit: number,
    private readonly clock: () => number
  ) {}

  get serversPerMinute(): number {
    return this.limit
  }

  /** The earliest time (ms since the epoch) at which the next request may go. */
  availableAt(): number {
    return Math.max(this.clock(), this.nextAt)
  }

  /** A request of `servers` went now: the next waits for its share of the minute. */
  record(servers: number): void {
    this.nextAt = this.clock() + this.shareMs(servers)
  }

  /** The share of the minute that `servers` take at the pace now in force. */
  shareMs(servers: number): number {
    return spacingMs(servers, this.limit)
  }

  /** Throttled although paced: slows down, and returns the pace now in force. */
  throttled(): number {
    this.limit = Math.max(1, Math.floor(this.limit * SLOWDOWN))
    return this.limit
  }
}
