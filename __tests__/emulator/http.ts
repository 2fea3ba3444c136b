/**
 * What every route of the emulator answers with: the `Reply` it hands the core, the error shapes of
 * the services it plays (ECS, API gateway, IAM, Keystone, Nova), and small request helpers.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'

/** An answer a route gives; the core writes it (and adds `X-Request-Id`, `Content-Type`, `Content-Length`). */
export interface Reply {
  status: number
  /** object -> JSON, string -> raw text, absent -> empty. */
  body?: unknown
  headers?: Record<string, string>
}

export const NOT_FOUND_MESSAGE = 'The API does not exist or has not been published in the environment.'

/** `{"error":{"code","message"}}`, the ECS service error shape. */
export function ecsError(code: string, message: string): object {
  return { error: { code, message } }
}

/** `{"error_code","error_msg","request_id"}`, the API gateway error shape. */
export function gatewayError(code: string, message: string): object {
  return { error_code: code, error_msg: message, request_id: newHexId() }
}

/** `{"error_msg","error_code"}`, the IAM error shape. */
export function iamError(code: string, message: string): object {
  return { error_msg: message, error_code: code }
}

/** `{"error":{"code":401,"message","title"}}`, the Keystone error shape (numeric code) of `/v3/auth/tokens`. */
export function keystoneError(code: number, title: string, message: string): object {
  return { error: { code, message, title } }
}

/** Nova's error shape, e.g. `{"itemNotFound":{"code":404,"message":…}}`. */
export function novaError(kind: string, code: number, message: string): object {
  return { [kind]: { code, message } }
}

/** The gateway's 404 APIG.0101 for a path no route serves. */
export function notFound(): Reply {
  return { status: 404, body: gatewayError('APIG.0101', NOT_FOUND_MESSAGE) }
}

export function newHexId(): string {
  return randomBytes(16).toString('hex')
}

export const NOT_JSON = Symbol('not JSON')

/** A request body as JSON, or NOT_JSON; each route answers that in its own error shape. */
export function parseBody(body: string): unknown {
  try {
    return JSON.parse(body) as unknown
  } catch {
    return NOT_JSON
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** One header's value (repeated ones joined with `, `), by lower-case name. */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  if (value === undefined) return undefined
  return Array.isArray(value) ? value.join(', ') : value
}

/** `decodeURIComponent`, or the segment as it is when it is not valid percent-encoding. */
export function decodeSafely(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8')
  const right = Buffer.from(b, 'utf8')
  if (left.length !== right.length) {
    // Compare anyway so the time does not depend on where the strings differ.
    timingSafeEqual(left, left)
    return false
  }
  return timingSafeEqual(left, right)
}
