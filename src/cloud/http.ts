import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import { HttpClient } from '@actions/http-client'
import { CERTIFICATE_CODES, TransportError, UNTRUSTED_CA_CODES } from './errors'

export interface HttpRequest {
  method: 'GET' | 'POST'
  url: URL
  headers: Record<string, string>
  body: string
}

export interface HttpResponse {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

export interface Transport {
  /**
   * Resolves with any HTTP answer; rejects only with a {@link TransportError}, also at once
   * when `signal` aborts (the request may have been sent by then).
   */
  send(request: HttpRequest, what: string, signal?: AbortSignal): Promise<HttpResponse>
  close(): void
}

export interface TransportOptions {
  timeoutMs: number
  maxBodyBytes: number
  userAgent: string
}

/**
 * Network errors that prove the request never left this machine when they come from resolving
 * the name or opening the connection (so even a restart request may be sent again). The same
 * codes on an open connection (`read EHOSTUNREACH`) may come after the request was written.
 */
const NOT_CONNECTED_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH'
])
const BEFORE_SENDING_SYSCALLS: ReadonlySet<string> = new Set(['getaddrinfo', 'connect'])

const UNTRUSTED_CA_HINT =
  "the server's certificate is signed by a CA this runner does not trust. Behind a TLS-inspecting proxy or with a private CA, set the NODE_EXTRA_CA_CERTS environment variable of the job to the path of that CA's PEM file"

/**
 * The reason a request got no answer, and whether it may have reached the cloud: anything but a
 * certificate refused during the handshake, or a failure to resolve or connect, may have.
 */
export function describeNetworkFailure(error: unknown): { reason: string; sent: boolean; code: string | undefined } {
  const { code, syscall } = (error ?? {}) as NodeJS.ErrnoException
  const message = error instanceof Error ? error.message : String(error)
  const reason = code && !message.includes(code) ? `${code} ${message}` : message
  const beforeSending =
    code !== undefined &&
    (CERTIFICATE_CODES.has(code) ||
      (NOT_CONNECTED_CODES.has(code) && syscall !== undefined && BEFORE_SENDING_SYSCALLS.has(syscall)))
  return {
    reason: code !== undefined && UNTRUSTED_CA_CODES.has(code) ? `${reason}: ${UNTRUSTED_CA_HINT}` : reason,
    sent: !beforeSending,
    code
  }
}

function readBody(message: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    message.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBytes) {
        reject(new Error(`the response body is larger than ${maxBytes} bytes`))
        message.destroy()
        return
      }
      chunks.push(chunk)
    })
    message.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    message.on('error', reject)
    message.on('aborted', () => reject(new Error('the connection closed mid-response')))
  })
}

/** HTTP over @actions/http-client (which honours the runner's proxy settings). */
export function createHttpTransport(options: TransportOptions): Transport {
  const client = new HttpClient(options.userAgent, [], {
    socketTimeout: options.timeoutMs,
    allowRedirects: false,
    keepAlive: true
  })

  async function exchange(request: HttpRequest): Promise<HttpResponse> {
    const url = request.url.toString()
    const response =
      request.method === 'POST'
        ? await client.post(url, request.body, request.headers)
        : await client.get(url, request.headers)
    const body = await readBody(response.message, options.maxBodyBytes)
    return { status: response.message.statusCode ?? 0, headers: response.message.headers, body }
  }

  return {
    send(request, what, signal) {
      return new Promise<HttpResponse>((resolve, reject) => {
        const fail = (reason: string, sent: boolean, code?: string): void => {
          clearTimeout(timer)
          signal?.removeEventListener('abort', cancel)
          reject(new TransportError(what, reason, sent, code))
        }
        const cancel = (): void => fail('the run was cancelled while waiting for the answer', true)
        const timer = setTimeout(
          () => fail(`request-timeout-seconds (${options.timeoutMs / 1000} s) ran out`, true),
          options.timeoutMs
        )
        if (signal?.aborted) {
          fail('the run was cancelled before it was sent', false)
          return
        }
        signal?.addEventListener('abort', cancel, { once: true })
        exchange(request).then(
          (response) => {
            clearTimeout(timer)
            signal?.removeEventListener('abort', cancel)
            resolve(response)
          },
          (error: unknown) => {
            const { reason, sent, code } = describeNetworkFailure(error)
            fail(reason, sent, code)
          }
        )
      })
    },
    close() {
      client.dispose()
    }
  }
}
