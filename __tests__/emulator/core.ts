/**
 * The emulator's HTTP core, which knows no service: a `node:http` server on 127.0.0.1 that reads
 * each request, records and counts it, authenticates it through a `Guard`, routes it to the
 * `Route` a service registered, and plays the faults and latency a test asked for.
 *
 * Services (ECS, Nova, IAM, GitHub OIDC) depend on this module; it depends on none of them.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { decodeSafely, gatewayError, isPlainObject, newHexId, notFound, type Reply } from './http'
import {
  MAX_BODY_BYTES,
  type EmulatorCounters,
  type Fault,
  type IdentityRouteName,
  type LoadBalancingRouteName,
  type RecordedRequest,
  type RouteName
} from './options'

export type AnyRouteName = RouteName | IdentityRouteName | LoadBalancingRouteName

/** How a request authenticated, checked once on arrival. */
export interface Verification {
  ok: boolean
  message: string
  /** How the request tried to authenticate: an `Authorization` signature, or `X-Auth-Token` alone. */
  by: 'signature' | 'token' | 'none'
  /** Gateway error code when not ok; default APIG.0301. */
  code?: string
  /** The token, when authenticated by one; a token carries its project. */
  token?: { project?: { id: string } }
}

export interface RouteContext {
  req: IncomingMessage
  url: URL
  body: string
  /** The path's captures after the project id (all captures on other routes), percent-decoded. */
  params: string[]
  /** The project id of a 'project' route's path (decoded); '' on other routes. */
  projectId: string
  verification: Verification
}

export interface Route {
  name: AnyRouteName
  method: 'GET' | 'POST' | 'PUT'
  /** The whole path; on 'project' routes the first capture is the project id. */
  path: RegExp
  /**
   * 'none': an identity route, which needs neither signature nor token (and is counted only once
   * used); 'account': a valid signature or token; 'project': that, and `Guard.checkProject`.
   */
  auth: 'none' | 'account' | 'project'
  handle(context: RouteContext): Reply
}

/** How the core authenticates requests; the IAM and signature modules provide it. */
export interface Guard {
  authenticate(req: IncomingMessage, url: URL, body: string): Verification
  /** An error answer when an authenticated request may not use the project its path names. */
  checkProject(projectId: string, req: IncomingMessage, verification: Verification): Reply | undefined
}

export interface CoreOptions {
  onRequest?: (request: RecordedRequest) => void
  latencyMs?: number
  recordRequests?: boolean
  /** Called before any route processes a request (load balancing: catch up with the clock). */
  beforeProcess?: () => void
  /** Serve HTTPS with this PEM key and certificate (chain) instead of HTTP; see `EmulatorOptions.tls`. */
  tls?: { key: string; cert: string }
}

/** A route path that matches exactly this path. */
export function exactPath(path: string): RegExp {
  return new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)
}

const NOT_AUTHENTICATED: Verification = { ok: false, message: '', by: 'none' }

interface Pending {
  req: IncomingMessage
  url: URL
  route: Route
  record: RecordedRequest
  verification: Verification
}

export class EmulatorCore {
  url = ''
  readonly requests: RecordedRequest[] = []

  private readonly routes: Route[] = []
  private readonly faults = new Map<AnyRouteName, Fault[]>()
  private readonly counts: Pick<EmulatorCounters, 'requests' | 'outcomes'> = {
    requests: { submit: 0, job: 0, projects: 0, 'nova-action': 0, 'nova-server': 0, list: 0, server: 0, unknown: 0 },
    outcomes: {}
  }
  private readonly server: Server
  private readonly sockets = new Set<Socket>()
  private readonly timers = new Set<NodeJS.Timeout>()
  private closing: Promise<void> | undefined

  constructor(
    private readonly guard: Guard,
    private readonly options: CoreOptions = {}
  ) {
    this.server = options.tls ? createHttpsServer(options.tls) : createServer()
  }

  /** Adds a service's routes; a path matches at most one route. */
  addRoutes(routes: Route[]): void {
    for (const route of routes) {
      this.routes.push(route)
      this.faults.set(route.name, [])
    }
  }

  async listen(port = 0): Promise<void> {
    const server = this.server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
    this.url = `${this.options.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket)
      socket.once('close', () => this.sockets.delete(socket))
    })
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.handle(req, res))
  }

  /** Queues faults for a route; each matching request consumes one, in order. */
  inject(route: AnyRouteName, ...faults: Fault[]): void {
    this.faultsOf(route).push(...faults)
  }

  pendingFaults(route: AnyRouteName): number {
    return this.faultsOf(route).length
  }

  /** Requests per route and outcomes so far (copies). */
  counters(): Pick<EmulatorCounters, 'requests' | 'outcomes'> {
    return { requests: { ...this.counts.requests }, outcomes: { ...this.counts.outcomes } }
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      for (const timer of this.timers) clearTimeout(timer)
      this.timers.clear()
      this.server.close(() => resolve())
      this.server.closeAllConnections()
      for (const socket of this.sockets) socket.destroy()
      this.sockets.clear()
    })
    return this.closing
  }

  private faultsOf(route: AnyRouteName): Fault[] {
    const queue = this.faults.get(route)
    if (queue === undefined) throw new Error(`no route named ${route}`)
    return queue
  }

  private routeOf(method: string, pathname: string): Route | undefined {
    return this.routes.find((route) => route.method === method && route.path.test(pathname))
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const method = (req.method ?? 'GET').toUpperCase()
    const rawUrl = req.url ?? '/'
    let url: URL | undefined
    if (rawUrl.startsWith('/')) {
      try {
        url = new URL(`http://emulator.invalid${rawUrl}`)
      } catch {
        url = undefined
      }
    }
    const route = url ? this.routeOf(method, url.pathname) : undefined
    const name = route?.name ?? 'unknown'
    const record: RecordedRequest = {
      route: name,
      method,
      path: url?.pathname ?? rawUrl,
      query: url ? new URLSearchParams(url.searchParams) : new URLSearchParams(),
      headers: req.headers,
      body: '',
      status: 'hang',
      signatureValid: false,
      authenticatedBy: 'none'
    }
    if (this.options.recordRequests ?? true) this.requests.push(record)
    this.counts.requests[name] = (this.counts.requests[name] ?? 0) + 1
    // Faults are taken in arrival order, before the body has been read.
    const fault = route ? this.faultsOf(route.name).shift() : undefined

    const chunks: Buffer[] = []
    let size = 0
    let tooLarge = false
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) tooLarge = true
      else chunks.push(chunk)
    })
    req.on('error', () => {
      /* client went away while sending; nothing to answer */
    })
    req.on('end', () => {
      record.body = Buffer.concat(chunks).toString('utf8')
      // Verified once, on arrival (a 'delay' fault does not move the date-skew or token expiry check).
      // The identity routes need neither a signature nor a token.
      const verification =
        url && route?.auth !== 'none' ? this.guard.authenticate(req, url, record.body) : NOT_AUTHENTICATED
      record.signatureValid = verification.ok && verification.by === 'signature'
      record.authenticatedBy = verification.ok ? verification.by : 'none'
      const answer = (): void => {
        if (tooLarge) {
          this.send(res, record, { status: 413, body: gatewayError('APIG.0201', 'Request entity too large') })
        } else if (!url || !route) {
          this.send(res, record, notFound())
        } else {
          this.applyFault(fault, { req, url, route, record, verification }, res)
        }
      }
      this.after(this.options.latencyMs ?? 0, answer)
    })
  }

  /** Runs `task` now (0 ms) or after `ms`, on a timer close() clears. */
  private after(ms: number, task: () => void): void {
    if (ms <= 0) {
      task()
      return
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      task()
    }, ms)
    this.timers.add(timer)
  }

  private applyFault(fault: Fault | undefined, pending: Pending, res: ServerResponse): void {
    const { record } = pending
    switch (fault?.kind) {
      case undefined:
      case 'pass':
        this.send(res, record, this.process(pending))
        return
      case 'respond':
        this.send(res, record, { status: fault.status, body: fault.body, headers: fault.headers }, true)
        return
      case 'reset':
        this.reset(res, record)
        return
      case 'reset-after-processing':
        this.process(pending)
        this.reset(res, record)
        return
      case 'hang':
        record.status = 'hang'
        this.finish(record)
        return
      case 'delay':
        // At least a turn of the event loop, as a timer of 0 ms would be.
        this.after(Math.max(1, fault.ms), () => this.send(res, record, this.process(pending)))
        return
    }
  }

  /** A route's normal answer, once the request is authenticated (and its project may be used). */
  private process({ req, url, route, verification, record }: Pending): Reply {
    this.options.beforeProcess?.()
    const captures = route.path.exec(url.pathname)?.slice(1) ?? []
    const decoded = captures.map((segment) => decodeSafely(segment))
    const context: RouteContext = { req, url, body: record.body, params: decoded, projectId: '', verification }
    if (route.auth === 'none') return route.handle(context)
    if (!verification.ok) {
      return { status: 401, body: gatewayError(verification.code ?? 'APIG.0301', verification.message) }
    }
    if (route.auth === 'project') {
      context.projectId = decoded[0]
      context.params = decoded.slice(1)
      const refused = this.guard.checkProject(context.projectId, req, verification)
      if (refused) return refused
    }
    return route.handle(context)
  }

  private reset(res: ServerResponse, record: RecordedRequest): void {
    record.status = 'reset'
    // A TCP RST, as a dropped connection looks to the client.
    res.req.socket.resetAndDestroy()
    this.finish(record)
  }

  private send(res: ServerResponse, record: RecordedRequest, reply: Reply, injected = false): void {
    let payload: string
    const requestId = newHexId()
    // Lower-case names, so injected headers replace ours whatever their case.
    const headers: Record<string, string> = { 'x-request-id': requestId }
    if (!injected && isPlainObject(reply.body) && 'request_id' in reply.body) {
      // The gateway reports the same id in the body and in the header.
      reply.body.request_id = requestId
    }
    if (reply.body === undefined) {
      payload = ''
    } else if (typeof reply.body === 'string') {
      payload = reply.body
      headers['content-type'] = 'text/plain; charset=utf-8'
    } else {
      payload = JSON.stringify(reply.body)
      headers['content-type'] = 'application/json'
    }
    for (const [name, value] of Object.entries(reply.headers ?? {})) headers[name.toLowerCase()] = value
    headers['content-length'] = String(Buffer.byteLength(payload))
    record.status = reply.status
    if (!res.destroyed && !res.writableEnded) {
      res.writeHead(reply.status, headers)
      res.end(payload)
    }
    this.finish(record)
  }

  /** Counts the request's outcome and reports it, once it is known. */
  private finish(record: RecordedRequest): void {
    const key = String(record.status)
    this.counts.outcomes[key] = (this.counts.outcomes[key] ?? 0) + 1
    this.options.onRequest?.(record)
  }
}
