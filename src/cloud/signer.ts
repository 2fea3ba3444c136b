import { createHash, createHmac } from 'node:crypto'

/**
 * SDK-HMAC-SHA256, the AK/SK request signature of Huawei Cloud's API gateway.
 * Unlike AWS SigV4 there is no key derivation: the secret key signs the string directly.
 */
export const SIGNING_ALGORITHM = 'SDK-HMAC-SHA256'

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
export function encodeComponent(value: string): string {
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

export function canonicalQuery(params: URLSearchParams): string {
  return [...params]
    .map(([key, value]) => [encodeComponent(key), encodeComponent(value)])
    .sort(([k1, v1], [k2, v2]) => compare(k1, k2) || compare(v1, v2))
    .map(([key, value]) => `${key}=${value}`)
    .join('&')
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
    canonicalQuery(input.url.searchParams),
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
