import { createHash, createHmac } from 'node:crypto'

/**
 * SDK-HMAC-SHA256, the AK/SK request signature of Huawei Cloud's API gateway.
 * Unlike AWS SigV4 there is no key derivation: the secret key signs the string directly.
 */
const SIGNING_ALGORITHM = 'SDK-HMAC-SHA256'

export interface SigningInput {
  method: string
  /** The request URL as sent on the wire (path and query already percent-encoded). */
  url: URL
  /** Exactly the headers to sign; names in any case. `x-sdk-date` must be among them. */
  signedHeaders: Record<string, string>
  /** The exact body bytes sent (empty string when there is none). */
  body: string
}

export interface SigningKey {
  accessKeyId: string
  secretAccessKey: string
}

export interface Signature {
  authorization: string
  signedHeaderNames: string[]
  signature: string
}

/** `YYYYMMDDTHHMMSSZ` in UTC, the format of the `X-Sdk-Date` header. */
export function formatSdkDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z')
}

/** Percent-encodes everything but the RFC 3986 unreserved characters, upper-case hex. */
function encodeComponent(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

export function canonicalUri(pathname: string): string {
  const encoded = pathname
    .split('/')
    .map((segment) => encodeComponent(decodeSegment(segment)))
    .join('/')
  return encoded.endsWith('/') ? encoded : `${encoded}/`
}

/**
 * The query of a URL as it goes on the wire, read as the gateway reads it (RFC 3986): split on
 * `&` and the first `=`, each part percent-decoded once, `+` a plus sign (not a space).
 */
export function wireQueryPairs(search: string): [string, string][] {
  const pairs: [string, string][] = []
  for (const pair of search.replace(/^\?/, '').split('&')) {
    if (pair === '') continue
    const equals = pair.indexOf('=')
    const key = equals === -1 ? pair : pair.slice(0, equals)
    pairs.push([decodeSegment(key), equals === -1 ? '' : decodeSegment(pair.slice(equals + 1))])
  }
  return pairs
}

/**
 * The query string to put on the wire: each key and value encoded as the canonical query encodes
 * it (a space is `%20`, never `+`), in the order given. Both SDKs send `%20` too.
 */
export function formatQuery(pairs: Iterable<readonly [string, string]>): string {
  return [...pairs].map(([key, value]) => `${encodeComponent(key)}=${encodeComponent(value)}`).join('&')
}

/**
 * Pairs sorted by raw key and, for a repeated key, by raw value (UTF-8 byte order, as the Go SDK's
 * `sort.Strings` and the signing guide), then encoded: keys `a0` and `a:` give `a0=…&a%3A=…`.
 */
export function canonicalQuery(pairs: Iterable<readonly [string, string]>): string {
  return formatQuery([...pairs].sort(([k1, v1], [k2, v2]) => byteOrder(k1, k2) || byteOrder(v1, v2)))
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

function compare(a: string, b: string): number {
  if (a === b) return 0
  return a < b ? -1 : 1
}

function normalizedHeaders(headers: Record<string, string>): [string, string][] {
  return Object.entries(headers)
    .map(([name, value]): [string, string] => [name.trim().toLowerCase(), value.trim()])
    .sort(([a], [b]) => compare(a, b))
}

export function sha256Hex(data: string): string {
  return createHash('sha256').update(data, 'utf8').digest('hex')
}

export function canonicalRequest(input: SigningInput): string {
  const headers = normalizedHeaders(input.signedHeaders)
  return [
    input.method.toUpperCase(),
    canonicalUri(input.url.pathname),
    canonicalQuery(wireQueryPairs(input.url.search)),
    headers.map(([name, value]) => `${name}:${value}\n`).join(''),
    headers.map(([name]) => name).join(';'),
    sha256Hex(input.body)
  ].join('\n')
}

export function stringToSign(sdkDate: string, canonical: string): string {
  return `${SIGNING_ALGORITHM}\n${sdkDate}\n${sha256Hex(canonical)}`
}

export function sign(input: SigningInput, key: SigningKey): Signature {
  const headers = normalizedHeaders(input.signedHeaders)
  const sdkDate = headers.find(([name]) => name === 'x-sdk-date')?.[1]
  if (sdkDate === undefined) {
    throw new Error('x-sdk-date must be one of the signed headers')
  }
  const signature = createHmac('sha256', key.secretAccessKey)
    .update(stringToSign(sdkDate, canonicalRequest(input)), 'utf8')
    .digest('hex')
  const signedHeaderNames = headers.map(([name]) => name)
  return {
    signature,
    signedHeaderNames,
    authorization: `${SIGNING_ALGORITHM} Access=${key.accessKeyId}, SignedHeaders=${signedHeaderNames.join(';')}, Signature=${signature}`
  }
}
