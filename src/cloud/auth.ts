import type { HttpRequest } from './http'
import { formatSdkDate, sign } from './signer'

/**
 * Prepares each request for the cloud. AK/SK signing is one strategy; token-based modes
 * (an IAM token in `X-Auth-Token`) fit the same shape.
 */
export interface Authenticator {
  authorize(request: HttpRequest, now: Date): Promise<HttpRequest>
  /**
   * After the cloud said the credentials of `failed` expired (HTTP 401 APIG.0307): true when a
   * retry may succeed, because fresh credentials were obtained (once per run, shared by every
   * request that failed meanwhile); false when this strategy cannot renew, or already did.
   */
  renew(failed: HttpRequest): Promise<boolean>
}

/** Sends requests as they are: for the IAM calls that themselves issue tokens. */
export const anonymous: Authenticator = {
  authorize: (request) => Promise.resolve(request),
  renew: () => Promise.resolve(false)
}

/**
 * An IAM token in `X-Auth-Token` (no signature), obtained on first use; renewed once if the
 * cloud reports it expired mid-run.
 */
export function tokenAuthenticator(obtain: () => Promise<string>, initial?: string): Authenticator {
  let current: Promise<string> | undefined = initial === undefined ? undefined : Promise.resolve(initial)
  let renewal: Promise<boolean> | undefined
  async function renewOnce(): Promise<boolean> {
    const previous = current
    try {
      current = obtain()
      await current
      return true
    } catch {
      // Keep the old token: later requests fail as expired, not on a broken promise.
      current = previous
      return false
    }
  }
  return {
    async authorize(request) {
      current ??= obtain()
      return { ...request, headers: { ...request.headers, 'X-Auth-Token': await current } }
    },
    async renew(failed) {
      renewal ??= renewOnce()
      return (await renewal) && failed.headers['X-Auth-Token'] !== (await current)
    }
  }
}

export interface AccessKeyCredentials {
  accessKeyId: string
  secretAccessKey: string
  /** Present for temporary credentials; sent as `X-Security-Token` and signed. */
  securityToken?: string
}

/**
 * Signs every header the request carries at this point (host, content-type, x-project-id),
 * plus the date and security token it adds. Headers the HTTP client adds later
 * (user-agent, content-length) stay unsigned.
 */
export function accessKeyAuthenticator(credentials: AccessKeyCredentials): Authenticator {
  return {
    authorize(request, now) {
      const headers: Record<string, string> = { ...request.headers, 'X-Sdk-Date': formatSdkDate(now) }
      if (credentials.securityToken !== undefined) {
        headers['X-Security-Token'] = credentials.securityToken
      }
      const { authorization } = sign(
        { method: request.method, url: request.url, signedHeaders: headers, body: request.body },
        credentials
      )
      return Promise.resolve({ ...request, headers: { ...headers, Authorization: authorization } })
    },
    // AK/SK given as inputs has nothing to renew: keys that expire need a new run.
    renew: () => Promise.resolve(false)
  }
}

/** Temporary keys are renewed this long before they expire, as both SDKs do (40 minutes)… */
export const RENEW_BEFORE_EXPIRY_MS = 40 * 60 * 1000
/** …or, for keys issued for a shorter time, once half their lifetime has passed. */
const RENEW_AFTER_LIFETIME_FRACTION = 0.5
/** After a failed renewal, the keys still valid are used, and renewal is tried again this much later. */
export const RENEWAL_RETRY_MS = 60 * 1000

/** Temporary keys with their security token and expiry (ms since the epoch). */
export type TemporaryKeys = Required<AccessKeyCredentials> & { expiresAt: number }

/** When keys obtained at `obtainedAt` are due for renewal. */
function renewalDue(credentials: TemporaryKeys, obtainedAt: number): number {
  const lifetime = credentials.expiresAt - obtainedAt
  return credentials.expiresAt - Math.min(RENEW_BEFORE_EXPIRY_MS, lifetime * RENEW_AFTER_LIFETIME_FRACTION)
}

export interface TemporaryKeyOptions {
  /** New temporary keys (with `expiresAt`, ms since the epoch); rejects with an error naming the step. */
  obtain: () => Promise<TemporaryKeys>
  clock: () => number
  /** Keys already obtained (at `obtainedAt`, ms since the epoch), used until their renewal is due. */
  initial?: { credentials: TemporaryKeys; obtainedAt: number }
  /** Told when a renewal failed but the current keys are still valid (and so still used). */
  onRenewalFailed?: (error: unknown) => void
}

interface HeldKeys {
  credentials: TemporaryKeys
  /** When a renewal is due (ms since the epoch). */
  renewAt: number
}

/**
 * Signs with temporary keys that renew themselves: before a request once they come close to
 * expiring (one renewal at a time, shared by every request that needs it), and once per run when
 * the cloud says the keys of a failed request expired. A failed renewal fails the request only
 * when the current keys have expired; until then they are used, and renewal is retried later.
 */
export function temporaryKeyAuthenticator(options: TemporaryKeyOptions): Authenticator {
  const { obtain, clock } = options
  let held: HeldKeys | undefined = options.initial && {
    credentials: options.initial.credentials,
    renewAt: renewalDue(options.initial.credentials, options.initial.obtainedAt)
  }
  let renewal: Promise<HeldKeys> | undefined
  let renewedOnRefusal: Promise<boolean> | undefined
  function renew(): Promise<HeldKeys> {
    renewal ??= (async () => {
      try {
        const obtainedAt = clock()
        const credentials = await obtain()
        held = { credentials, renewAt: renewalDue(credentials, obtainedAt) }
        return held
      } finally {
        renewal = undefined
      }
    })()
    return renewal
  }
  async function current(now: number): Promise<HeldKeys> {
    if (held === undefined) return renew()
    if (now < held.renewAt) return held
    try {
      return await renew()
    } catch (error) {
      if (now >= held.credentials.expiresAt) throw error
      options.onRenewalFailed?.(error)
      held = { ...held, renewAt: Math.min(now + RENEWAL_RETRY_MS, held.credentials.expiresAt) }
      return held
    }
  }
  return {
    async authorize(request, now) {
      const { credentials } = await current(now.getTime())
      return accessKeyAuthenticator(credentials).authorize(request, now)
    },
    async renew(failed) {
      const sent = failed.headers['X-Security-Token']
      if (held !== undefined && sent !== held.credentials.securityToken) return true
      renewedOnRefusal ??= renew().then(
        () => true,
        () => false
      )
      // Only fresh keys are worth a retry: never the ones just refused.
      return (await renewedOnRefusal) && sent !== held?.credentials.securityToken
    }
  }
}
