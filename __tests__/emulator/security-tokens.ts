/**
 * IAM's temporary access keys: `POST /v3.0/OS-CREDENTIAL/securitytokens` with a token this
 * emulator issued (`X-Auth-Token`, unscoped or scoped) answers 201 with an access key, secret key
 * and security token, valid for `duration_seconds` (900-86400) by the emulator clock, or for
 * `temporaryKeyLifetimeMs` when set. The signature verifier asks `lookup()` for them: they sign
 * requests (with `X-Security-Token` signed) until they expire, and are refused after.
 */
import { randomBytes } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { exactPath, type Route } from './core'
import { headerValue, iamError, isPlainObject, keystoneError, newHexId, NOT_JSON, parseBody, type Reply } from './http'
import { iamTime, type IamService } from './iam'
import { SECURITY_TOKENS_PATH, TEMPORARY_KEY_DURATION_SECONDS, type EmulatorOptions } from './options'

/** Temporary keys as issued; the verifier checks `expiresAt` against the emulator clock. */
export interface TemporaryKey {
  secretAccessKey: string
  securityToken: string
  expiresAt: number
}

/** IAM's default when `duration_seconds` is absent: 15 minutes. */
const DEFAULT_DURATION_SECONDS = 900

/** Upper-case letters and digits, the alphabet of IAM access key ids. */
function randomKeyId(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
  return [...randomBytes(length)].map((byte) => alphabet[byte % alphabet.length]).join('')
}

export class TemporaryKeys {
  /** Issued keys by access key id, in issue order. */
  private readonly keys = new Map<string, TemporaryKey>()
  private readonly lifetimeMs: number | undefined

  constructor(
    private readonly iam: IamService,
    private readonly now: () => number,
    options: EmulatorOptions
  ) {
    this.lifetimeMs = options.temporaryKeyLifetimeMs
  }

  route(): Route {
    return {
      name: 'securitytokens',
      method: 'POST',
      path: exactPath(SECURITY_TOKENS_PATH),
      auth: 'none',
      handle: ({ req, body }) => this.issue(req, body)
    }
  }

  /** The temporary key with this id, expired ones included; undefined when never issued. */
  lookup(accessKeyId: string): TemporaryKey | undefined {
    return this.keys.get(accessKeyId)
  }

  /** Every temporary key issued so far, in issue order. */
  issued(): ({ accessKeyId: string } & TemporaryKey)[] {
    return [...this.keys].map(([accessKeyId, key]) => ({ accessKeyId, ...key }))
  }

  /** `duration_seconds` of `{"auth":{"identity":{"methods":["token"],"token":{…}}}}`, or what is wrong. */
  private durationSeconds(body: string, token: string): number | { error: string } {
    const parsed = parseBody(body)
    if (parsed === NOT_JSON) return { error: 'not valid JSON.' }
    const auth = isPlainObject(parsed) ? parsed.auth : undefined
    const identity = isPlainObject(auth) ? auth.identity : undefined
    if (!isPlainObject(identity)) return { error: 'auth.identity is required.' }
    if (!Array.isArray(identity.methods) || identity.methods.length !== 1 || identity.methods[0] !== 'token') {
      return { error: 'auth.identity.methods must be ["token"].' }
    }
    const tokenBody = identity.token ?? {}
    if (!isPlainObject(tokenBody)) return { error: 'auth.identity.token must be an object.' }
    if (tokenBody.id !== undefined && tokenBody.id !== token) {
      return { error: 'auth.identity.token.id must be the token of X-Auth-Token.' }
    }
    const seconds = tokenBody.duration_seconds ?? DEFAULT_DURATION_SECONDS
    const { min, max } = TEMPORARY_KEY_DURATION_SECONDS
    if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < min || seconds > max) {
      return { error: `auth.identity.token.duration_seconds must be an integer from ${min} to ${max}.` }
    }
    return seconds
  }

  private issue(req: IncomingMessage, body: string): Reply {
    const token = headerValue(req.headers, 'x-auth-token')
    const verified = token === undefined ? undefined : this.iam.verifyToken(token, { allowUnscoped: true })
    if (token === undefined || !verified?.ok) {
      const message = 'The request you have made requires authentication.'
      return { status: 401, body: keystoneError(401, 'Unauthorized', message) }
    }
    const seconds = this.durationSeconds(body, token)
    if (typeof seconds !== 'number') {
      return { status: 400, body: iamError('IAM.0011', `Invalid request body: ${seconds.error}`) }
    }
    const accessKeyId = randomKeyId(20)
    const key: TemporaryKey = {
      secretAccessKey: randomBytes(30).toString('base64url'),
      securityToken: `gQ${randomBytes(384).toString('base64url')}`,
      expiresAt: this.now() + (this.lifetimeMs ?? seconds * 1000)
    }
    this.keys.set(accessKeyId, key)
    const credential = {
      access: accessKeyId,
      secret: key.secretAccessKey,
      securitytoken: key.securityToken,
      expires_at: iamTime(key.expiresAt)
    }
    return { status: 201, body: { credential }, headers: { 'X-IAM-Trace-Id': newHexId() } }
  }
}
