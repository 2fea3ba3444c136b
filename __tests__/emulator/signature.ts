/**
 * SDK-HMAC-SHA256, the API gateway's AK/SK signature, written for the emulator from the public
 * description (the signing section of /work/shared/reference/ecs-api.md) and checked against its
 * published vectors. It shares no code with the action's own signer in `src/`, so a signing bug
 * there cannot pass on both sides.
 *
 * The verifier accepts what the cloud accepts: whatever headers `SignedHeaders` lists (names in any
 * case), as long as `X-Sdk-Date` is among them; `Host`, `Content-Type` and `X-Project-Id` may be
 * left unsigned (the Go SDK never signs `Host` or `Content-Type`). A signed host must be the one
 * the request reached. A security token is required, and must be
 * signed, exactly when the access key is a temporary one.
 */
import { createHash, createHmac } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { Verification } from './core'
import { constantTimeEqual, decodeSafely, headerValue } from './http'
import { MAX_DATE_SKEW_MS, type EmulatorCredential } from './options'

/** Temporary keys: the security token is required, and they are refused from `expiresAt` on. */
export interface TemporaryCredential extends EmulatorCredential {
  securityToken: string
  expiresAt: number
}

export const SDK_HMAC_SHA256 = 'SDK-HMAC-SHA256'
export const SIGNATURE_FAIL_MESSAGE = 'Incorrect IAM authentication information: verify aksk signature fail'

/** What the signature covers. */
export interface SignedRequest {
  method: string
  /** The path as sent on the wire: each segment is decoded, then encoded again. */
  path: string
  /** The query parameters, decoded. */
  query: URLSearchParams
  /** The signed headers, names in any case; `x-sdk-date` must be among them. */
  headers: Record<string, string>
  /** The exact body sent; '' when there is none. */
  body: string
}

/** Every byte of the UTF-8 form except `A-Z a-z 0-9 - _ . ~` as `%XX`, upper-case hex. */
export function percentEncode(text: string): string {
  let out = ''
  for (const byte of Buffer.from(text, 'utf8')) {
    const unreserved =
      (byte >= 0x41 && byte <= 0x5a) || // A-Z
      (byte >= 0x61 && byte <= 0x7a) || // a-z
      (byte >= 0x30 && byte <= 0x39) || // 0-9
      byte === 0x2d || // -
      byte === 0x5f || // _
      byte === 0x2e || // .
      byte === 0x7e // ~
    out += unreserved ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/** Segments encoded one by one, joined with `/`, with a `/` appended unless there is one. */
export function canonicalUri(path: string): string {
  const uri = path
    .split('/')
    .map((segment) => percentEncode(decodeSafely(segment)))
    .join('/')
  return uri.endsWith('/') ? uri : `${uri}/`
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

/** `k=v` pairs, sorted by raw key and, for a repeated key, by raw value, then encoded and joined with `&`. */
export function canonicalQueryString(query: URLSearchParams): string {
  const pairs = [...query].sort(([k1, v1], [k2, v2]) => byteOrder(k1, k2) || byteOrder(v1, v2))
  return pairs.map(([key, value]) => `${percentEncode(key)}=${percentEncode(value)}`).join('&')
}

/**
 * The query as the gateway is taken to read it (RFC 3986): each key and value percent-decoded
 * once, `+` a plus sign. Whether the real gateway reads `+` as a space is undocumented; the
 * harsher reading makes a client that sends `+` for a space fail here.
 */
export function gatewayQuery(search: string): URLSearchParams {
  const pairs = search
    .replace(/^\?/, '')
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair): [string, string] => {
      const equals = pair.indexOf('=')
      return equals === -1
        ? [decodeSafely(pair), '']
        : [decodeSafely(pair.slice(0, equals)), decodeSafely(pair.slice(equals + 1))]
    })
  return new URLSearchParams(pairs)
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex')
}

/** The signed headers as sorted `[lower-case name, trimmed value]` pairs. */
function canonicalHeaderList(headers: Record<string, string>): [string, string][] {
  const list = Object.entries(headers).map(([name, value]): [string, string] => [name.toLowerCase(), value.trim()])
  return list.sort(([a], [b]) => byteOrder(a, b))
}

export function canonicalRequest(request: SignedRequest): string {
  const headers = canonicalHeaderList(request.headers)
  const headerBlock = headers.map(([name, value]) => `${name}:${value}\n`).join('')
  return [
    request.method.toUpperCase(),
    canonicalUri(request.path),
    canonicalQueryString(request.query),
    headerBlock,
    headers.map(([name]) => name).join(';'),
    sha256Hex(request.body)
  ].join('\n')
}

export function stringToSign(sdkDate: string, canonical: string): string {
  return [SDK_HMAC_SHA256, sdkDate, sha256Hex(canonical)].join('\n')
}

/** The signature and `Authorization` header of a request. */
export function signRequest(
  request: SignedRequest,
  accessKeyId: string,
  secretAccessKey: string
): { signature: string; signedHeaders: string; authorization: string } {
  const headers = canonicalHeaderList(request.headers)
  const sdkDate = headers.find(([name]) => name === 'x-sdk-date')?.[1]
  if (sdkDate === undefined) throw new Error('x-sdk-date must be a signed header')
  const signature = createHmac('sha256', Buffer.from(secretAccessKey, 'utf8'))
    .update(stringToSign(sdkDate, canonicalRequest(request)), 'utf8')
    .digest('hex')
  const signedHeaders = headers.map(([name]) => name).join(';')
  const authorization = `${SDK_HMAC_SHA256} Access=${accessKeyId}, SignedHeaders=${signedHeaders}, Signature=${signature}`
  return { signature, signedHeaders, authorization }
}

/** `YYYYMMDDTHHMMSSZ` (UTC), the `X-Sdk-Date` format. */
export function formatSdkDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace(/[-:]/g, '') + 'Z'
}

/** Milliseconds of an `X-Sdk-Date` value, or undefined when it is not a real date in that format. */
export function parseSdkDate(value: string): number | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value)
  if (!match) return undefined
  const ms = Date.UTC(+match[1], +match[2] - 1, +match[3], +match[4], +match[5], +match[6])
  // Date.UTC rolls 2024-02-30 over into March: only a date that formats back to itself is real.
  return formatSdkDate(ms) === value ? ms : undefined
}

interface Authorization {
  accessKeyId: string
  /** Lower case, as listed. */
  signedHeaders: string[]
  signature: string
}

/** `SDK-HMAC-SHA256 Access={AK}, SignedHeaders={a;b}, Signature={hex}`; undefined when malformed. */
export function parseAuthorization(value: string): Authorization | undefined {
  const match = /^SDK-HMAC-SHA256 Access=([^,\s]+), SignedHeaders=([A-Za-z0-9_;-]+), Signature=([0-9a-f]{64})$/.exec(
    value
  )
  if (!match) return undefined
  const signedHeaders = match[2].toLowerCase().split(';')
  if (signedHeaders.some((name) => name === '')) return undefined
  return { accessKeyId: match[1], signedHeaders, signature: match[3] }
}

/** Checks the AK/SK signature of requests against the emulator's credentials and clock. */
export class SignatureVerifier {
  constructor(
    private readonly credentials: Record<string, EmulatorCredential>,
    private readonly now: () => number,
    /** Temporary keys IAM issued (with their expiry), for access key ids not in `credentials`. */
    private readonly temporary: (accessKeyId: string) => TemporaryCredential | undefined = () => undefined
  ) {}

  /** The verification of a request with an `Authorization` header. */
  verify(req: IncomingMessage, url: URL, body: string, authorizationValue: string): Verification {
    const fail = (message = SIGNATURE_FAIL_MESSAGE): Verification => ({ ok: false, message, by: 'signature' })
    const authorization = parseAuthorization(authorizationValue)
    if (!authorization) return fail()
    const { accessKeyId } = authorization
    const credential: EmulatorCredential | TemporaryCredential | undefined = Object.hasOwn(
      this.credentials,
      accessKeyId
    )
      ? this.credentials[accessKeyId]
      : this.temporary(accessKeyId)
    if (!credential) {
      return fail(`Incorrect IAM authentication information: Get secretKey failed,ak:${accessKeyId},err:ak not exist`)
    }
    const signed = new Set(authorization.signedHeaders)
    const required = ['x-sdk-date']
    const securityToken = headerValue(req.headers, 'x-security-token')
    if (credential.securityToken !== undefined) {
      required.push('x-security-token')
      if (securityToken === undefined || !constantTimeEqual(securityToken, credential.securityToken)) return fail()
    } else if (securityToken !== undefined) {
      return fail()
    }
    if (required.some((name) => !signed.has(name))) return fail()

    const headers: Record<string, string> = {}
    for (const name of signed) {
      const value = headerValue(req.headers, name)
      if (value === undefined) return fail()
      headers[name] = value
    }
    const date = parseSdkDate(headers['x-sdk-date'].trim())
    if (date === undefined) return fail()
    if (Math.abs(date - this.now()) > MAX_DATE_SKEW_MS) {
      return fail('Incorrect IAM authentication information: signature expired')
    }
    // `url` is the path and query as received; the signed host must be the Host header received.
    const request = { method: req.method ?? 'GET', path: url.pathname, query: gatewayQuery(url.search), headers, body }
    const expected = signRequest(request, accessKeyId, credential.secretAccessKey)
    if (!constantTimeEqual(expected.signature, authorization.signature)) return fail()
    // Expired temporary keys: the cloud's exact answer is not documented; this one is not the
    // renewable APIG.0307, so a client must renew them in time (the harsher side).
    const { expiresAt } = credential as Partial<TemporaryCredential>
    if (expiresAt !== undefined && this.now() >= expiresAt) {
      return fail('Incorrect IAM authentication information: the security token has expired')
    }
    return { ok: true, message: '', by: 'signature' }
  }
}
