import type { Authenticator } from './auth'
import type { Logger, Sleep } from '../shared/ports'
import { errorMessage, formatDuration } from '../shared/text'
import { ApiError, TransportError, gatewayCode, isPermanentFailure, parseErrorBody } from './errors'
import type { HttpRequest, HttpResponse, Transport } from './http'
import { type RetryPolicy, parseRetryAfterMs, retryDelayMs } from './retry'
import { formatQuery } from './signer'

export interface ApiClientOptions {
  transport: Transport
  authenticator: Authenticator
  retry: RetryPolicy
  /** Milliseconds since the epoch. */
  clock: () => number
  sleep: Sleep
  random: () => number
  log: Logger
  /** Aborted when the run is cancelled: nothing new is sent and waits end at once. */
  signal: AbortSignal
  /**
   * Names the limit a call's `giveUpAt` stands for, in the warning when a retry would pass it;
   * default "timeout-seconds" (the run's deadline).
   */
  giveUpLimit?: (giveUpAt: number) => string
}

export interface ApiRequest {
  /** Names the request in logs and errors, e.g. "Restart batch 2 of 5". */
  what: string
  method: 'GET' | 'POST'
  endpoint: URL
  /** Path with every variable segment already encoded. */
  path: string
  query?: Record<string, string>
  body?: unknown
  /** Sent (and signed) as `X-Project-Id`. */
  projectId?: string
  /** More headers for this call (signed like the others with AK/SK). */
  headers?: Record<string, string>
  /**
   * Whether the request may be repeated after it possibly reached the cloud. A restart
   * request is not: repeating it could restart servers twice.
   */
  idempotent: boolean
  /** No retry is started that would wait past this time (ms since the epoch). */
  giveUpAt?: number
  /**
   * True: a refusal that asks to come back later (throttling, or a busy server) is thrown at once,
   * for a caller that waits its own way (the executor paces restart requests and follows jobs
   * meanwhile). Default false: retried here like other retryable answers.
   */
  callerRetriesRefusals?: boolean
}

export interface ApiResponse {
  status: number
  body: unknown
  requestId: string | undefined
  headers: HttpResponse['headers']
}

/** The content type of a JSON body, exactly as both official SDKs send it. */
export const JSON_CONTENT_TYPE = 'application/json;charset=UTF-8'

/**
 * Codes that mean "rejected for load, nothing was done, try later", whatever the status. Gateway
 * codes in either spelling (APIG./APIGW.) go through {@link gatewayCode} first.
 */
const THROTTLING_CODES = new Set(['APIG.0308', 'Common.0024', 'Common.1503'])
/** The gateway's "the token expired, get a new one" (401). */
const TOKEN_EXPIRED = 'APIG.0307'

function isThrottlingCode(code: string | undefined): boolean {
  const normal = gatewayCode(code)
  return normal !== undefined && THROTTLING_CODES.has(normal)
}

export function isThrottling(error: ApiError): boolean {
  return error.status === 429 || isThrottlingCode(error.code)
}

/**
 * `Ecs.0603` (documented with HTTP 501): other commands are being executed on the servers, try
 * again in a minute. A refusal: nothing was done.
 */
export function isBusy(error: ApiError): boolean {
  return error.code === 'Ecs.0603'
}

function isRetryable(error: ApiError | TransportError, idempotent: boolean): boolean {
  if (error instanceof TransportError) return !isPermanentFailure(error) && (idempotent || !error.sent)
  // Five failed AK/SK authentications lock the key for five minutes: never retry them.
  if (error.isAuthFailure) return false
  if (isThrottling(error)) return true
  return idempotent && error.status >= 500
}

function headerValue(headers: HttpResponse['headers'], name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat
}

/** Turns an HTTP answer into parsed JSON, or the ApiError it stands for. */
export function interpretResponse(response: HttpResponse, what: string, nowMs: number): ApiResponse {
  const requestId = headerValue(response.headers, 'x-request-id')
  const retryAfterMs = parseRetryAfterMs(headerValue(response.headers, 'retry-after'), nowMs)
  const ok = response.status >= 200 && response.status < 300
  let body: unknown
  try {
    body = response.body === '' ? undefined : (JSON.parse(response.body) as unknown)
  } catch {
    const problem = `the response is not JSON: ${snippet(response.body)}`
    throw new ApiError(response.status, undefined, problem, requestId, what, retryAfterMs)
  }
  const details = parseErrorBody(body)
  // Throttling can arrive as a 2xx (HTTP 202 with Common.0024): that is not an acceptance.
  if (!ok || isThrottlingCode(details.code)) {
    throw new ApiError(response.status, details.code, details.message, requestId, what, retryAfterMs)
  }
  return { status: response.status, body, requestId, headers: response.headers }
}

/** Sends authenticated JSON requests, retrying only where that is safe. */
export class ApiClient {
  constructor(private readonly options: ApiClientOptions) {}

  async request(call: ApiRequest): Promise<ApiResponse> {
    const { retry, sleep, random, clock, log, signal } = this.options
    const sent: { request?: HttpRequest } = {}
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) throw new TransportError(call.what, 'the run was cancelled before it was sent', false)
      try {
        return await this.attempt(call, sent)
      } catch (error) {
        if (!(error instanceof ApiError || error instanceof TransportError)) throw error
        if (
          error instanceof ApiError &&
          gatewayCode(error.code) === TOKEN_EXPIRED &&
          sent.request !== undefined &&
          (await this.options.authenticator.renew(sent.request))
        ) {
          log.info(`${call.what}: the token had expired; signed in again and retrying once`)
          attempt--
          continue
        }
        const refusal = error instanceof ApiError && (isThrottling(error) || isBusy(error))
        if (refusal && call.callerRetriesRefusals === true) throw error
        if (attempt >= retry.maxAttempts || !isRetryable(error, call.idempotent)) throw error
        const retryAfterMs = error instanceof ApiError ? error.retryAfterMs : undefined
        const delay = retryDelayMs(attempt, retryAfterMs, retry, random)
        const why = `${error instanceof ApiError && isThrottling(error) ? 'throttled' : 'failed'} (${errorMessage(error)})`
        if (call.giveUpAt !== undefined && clock() + delay > call.giveUpAt) {
          log.warning(
            `${call.what} ${why}; not retrying, since waiting ${formatDuration(delay)} would pass ${this.options.giveUpLimit?.(call.giveUpAt) ?? 'timeout-seconds'}`
          )
          throw error
        }
        const reason = retryAfterMs !== undefined ? ' as Retry-After asks' : ''
        log.info(
          `${call.what} ${why}; retrying in ${formatDuration(delay)}${reason} (attempt ${attempt + 1} of ${retry.maxAttempts})`
        )
        await sleep(delay, signal)
      }
    }
  }

  /** Sends the call once; `sent.request` keeps the request as authorized, for a renewal. */
  private async attempt(call: ApiRequest, sent: { request?: HttpRequest }): Promise<ApiResponse> {
    const { transport, authenticator, clock, log } = this.options
    const url = new URL(call.path, call.endpoint)
    // Not URLSearchParams, which writes a space as `+`: the wire carries what is signed (`%20`).
    url.search = formatQuery(Object.entries(call.query ?? {}))
    const body = call.body === undefined ? '' : JSON.stringify(call.body)
    const headers: Record<string, string> = { Host: url.host }
    if (body !== '') headers['Content-Type'] = JSON_CONTENT_TYPE
    if (call.projectId !== undefined) headers['X-Project-Id'] = call.projectId
    Object.assign(headers, call.headers)
    const unsigned: HttpRequest = { method: call.method, url, headers, body }
    const request = await authenticator.authorize(unsigned, new Date(clock())).catch((error: unknown) => {
      // Nothing left this machine: a request that could not be signed (say, temporary keys that
      // expired while their renewal kept failing) fails like one that could not connect.
      if (error instanceof TransportError) throw error
      throw new TransportError(call.what, `the request could not be signed: ${errorMessage(error)}`, false)
    })
    sent.request = request
    const started = clock()
    const response = await transport.send(request, call.what, this.options.signal)
    const requestId = headerValue(response.headers, 'x-request-id')
    log.debug(
      `${call.method} ${url.pathname}${url.search} -> HTTP ${response.status} in ${clock() - started} ms (X-Request-Id: ${requestId ?? 'none'})`
    )
    return interpretResponse(response, call.what, clock())
  }
}
