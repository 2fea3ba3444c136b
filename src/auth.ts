import type { HttpRequest } from './http'
import { formatSdkDate, sign } from './signer'

/**
 * Prepares each request for the cloud. AK/SK signing is one strategy; token-based modes
 * (an IAM token in `X-Auth-Token`) fit the same shape.
 */
export interface Authenticator {
  authorize(request: HttpRequest, now: Date): Promise<HttpRequest>
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
    }
  }
}
