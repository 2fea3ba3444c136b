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
    // AK/SK has nothing to renew; temporary keys that expire need a new run.
    renew: () => Promise.resolve(false)
  }
}
