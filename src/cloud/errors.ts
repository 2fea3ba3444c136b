/** An error answer from a Huawei Cloud API, in any of its three body shapes. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    readonly apiMessage: string | undefined,
    readonly requestId: string | undefined,
    readonly what: string,
    /** How long the answer's `Retry-After` asked to wait, when it had one. */
    readonly retryAfterMs?: number
  ) {
    super(describeApiError(status, code, apiMessage, requestId, what))
    this.name = 'ApiError'
  }

  get isAuthFailure(): boolean {
    return this.status === 401 || this.status === 403
  }
}

function describeApiError(
  status: number,
  code: string | undefined,
  message: string | undefined,
  requestId: string | undefined,
  what: string
): string {
  const detail = [code, message].filter(Boolean).join(': ') || 'no error details in the response'
  return `${what} failed with HTTP ${status}, ${detail} (X-Request-Id: ${requestId ?? 'none'})`
}

/** The request never produced an answer; `sent` says whether it may have reached the cloud. */
export class TransportError extends Error {
  constructor(
    readonly what: string,
    readonly reason: string,
    readonly sent: boolean,
    /** The system error code, e.g. ENOTFOUND, when there was one. */
    readonly code?: string
  ) {
    super(`${what} got no complete answer: ${reason}`)
    this.name = 'TransportError'
  }
}

/**
 * The API gateway writes its codes as `APIG.xxxx` or `APIGW.xxxx` (both documented, same meaning):
 * this gives one spelling, `APIG.xxxx`, for either; other codes come back unchanged.
 */
export function gatewayCode(code: string | undefined): string | undefined {
  return code?.replace(/^APIGW\./, 'APIG.')
}

/**
 * TLS errors of a certificate signed by a CA Node does not trust: what a TLS-inspecting proxy or a
 * private endpoint with its own CA causes, and what NODE_EXTRA_CA_CERTS fixes.
 */
export const UNTRUSTED_CA_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'
])

/** Every certificate the runner refuses: an untrusted CA, an expired one, one for another name. */
export const CERTIFICATE_CODES: ReadonlySet<string> = new Set([
  ...UNTRUSTED_CA_CODES,
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID'
])

/**
 * Failures that asking again cannot mend: a host name that does not exist (EAI_AGAIN, a resolver
 * that is only slow, is not one of them) and a certificate the runner does not accept.
 */
const PERMANENT_CODES: ReadonlySet<string> = new Set(['ENOTFOUND', ...CERTIFICATE_CODES])

/** A request that failed for a reason no retry can change (see {@link PERMANENT_CODES}). */
export function isPermanentFailure(error: TransportError): boolean {
  return error.code !== undefined && PERMANENT_CODES.has(error.code)
}

/** The host name did not resolve (ENOTFOUND, EAI_AGAIN): proof that nothing was sent. */
export function isUnresolvedHost(error: unknown): error is TransportError {
  return error instanceof TransportError && !error.sent && (error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN')
}

export interface ErrorDetails {
  code?: string
  message?: string
}

function stringOrNumber(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value
  if (typeof value === 'number') return String(value)
  return undefined
}

/** `{"<fault>": {"code", "message"}}` with exactly one key, as Nova writes its errors. */
function novaFault(record: Record<string, unknown>): ErrorDetails | undefined {
  const keys = Object.keys(record)
  if (keys.length !== 1) return undefined
  const inner = record[keys[0]]
  if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) return undefined
  const { code, message } = inner as Record<string, unknown>
  if (stringOrNumber(code) === undefined && stringOrNumber(message) === undefined) return undefined
  // Nova's code repeats the HTTP status; the fault's name (e.g. itemNotFound) says more.
  return { code: typeof code === 'string' && code !== '' ? code : keys[0], message: stringOrNumber(message) }
}

/** A message that is itself a JSON-encoded Nova fault (seen inside ECS errors) gives its own message. */
function unwrapMessage(message: string | undefined): string | undefined {
  if (message === undefined || !message.trimStart().startsWith('{')) return message
  try {
    const parsed = JSON.parse(message) as unknown
    const fault =
      typeof parsed === 'object' && parsed !== null ? novaFault(parsed as Record<string, unknown>) : undefined
    return fault?.message === undefined ? message : `${fault.code}: ${fault.message}`
  } catch {
    return message
  }
}

/**
 * Reads `{"error":{"code","message"}}` (ECS and Keystone, whose code is a number),
 * `{"error_code","error_msg"}` (API gateway and IAM), `{"code","message"}`, and Nova's
 * `{"itemNotFound":{"code":404,"message"}}` (any single key: badRequest, forbidden, overLimit…).
 */
export function parseErrorBody(body: unknown): ErrorDetails {
  if (typeof body !== 'object' || body === null) return {}
  const record = body as Record<string, unknown>
  const nested = record.error
  if (typeof nested === 'object' && nested !== null) {
    const inner = nested as Record<string, unknown>
    return { code: stringOrNumber(inner.code), message: unwrapMessage(stringOrNumber(inner.message)) }
  }
  const flat = {
    code: stringOrNumber(record.error_code) ?? stringOrNumber(record.code),
    message: stringOrNumber(record.error_msg) ?? stringOrNumber(record.message) ?? stringOrNumber(record.error)
  }
  if (flat.code !== undefined || flat.message !== undefined) return flat
  return novaFault(record) ?? {}
}
