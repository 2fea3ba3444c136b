import { isBusy, isThrottling } from '../cloud/api'
import type { ApiError } from '../cloud/errors'
import { backoffDelayMs } from '../cloud/retry'
import { formatDuration } from '../shared/text'

/**
 * Why the cloud refused a restart request for now, having done nothing: throttled (429
 * `APIG(W).0308`, 202 `Common.0024`, 503 `Common.1503`) or busy (501 `Ecs.0603`, "other commands
 * are being executed, try again in a minute").
 */
export type Refusal = 'throttled' | 'busy'

export function refusalOf(error: ApiError): Refusal | undefined {
  if (isThrottling(error)) return 'throttled'
  if (isBusy(error)) return 'busy'
  return undefined
}

/** The cloud counts its limits per minute: no wait needs to be longer than that window. */
export const MAX_REFUSAL_WAIT_MS = 60_000
/** `Ecs.0603` asks to try again in a minute; the jitter adds up to a quarter more. */
const BUSY_WAIT_MS = 60_000

export interface RefusalWait {
  ms: number
  /** Why this long, for the log: empty, or " as Retry-After asks". */
  because: string
}

/**
 * The wait before attempt `attempt + 1` of a refused request (`attempt` counts from 1). A
 * `Retry-After` is honoured as given. Otherwise a throttled request waits "equal jitter" (half
 * fixed, half random) over a step that starts at `firstStepMs` and doubles with each refusal, up
 * to a minute; a busy one waits the documented minute plus up to 15 s of jitter.
 */
export function refusalWait(
  refusal: Refusal,
  error: ApiError,
  attempt: number,
  firstStepMs: number,
  random: () => number
): RefusalWait {
  if (error.retryAfterMs !== undefined) return { ms: error.retryAfterMs, because: ' as Retry-After asks' }
  if (refusal === 'busy') return { ms: Math.round(BUSY_WAIT_MS * (1 + random() / 4)), because: '' }
  const policy = {
    maxAttempts: Number.POSITIVE_INFINITY,
    baseDelayMs: Math.max(1, firstStepMs),
    maxDelayMs: MAX_REFUSAL_WAIT_MS
  }
  return { ms: backoffDelayMs(attempt, policy, random), because: '' }
}

/** How a refusal reads in the log, e.g. "throttled (… APIG.0308 …)". */
export function describeRefusal(refusal: Refusal, error: ApiError): string {
  return refusal === 'throttled'
    ? `throttled (${error.message})`
    : `refused because its servers are busy with other commands (${error.message})`
}

/** "retrying in 23 s (attempt 4), until timeout-seconds" */
export function retryLine(wait: RefusalWait, nextAttempt: number): string {
  return `retrying in ${formatDuration(wait.ms)}${wait.because} (attempt ${nextAttempt}), until timeout-seconds`
}
