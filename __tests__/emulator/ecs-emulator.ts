/**
 * A loopback emulator of the two Huawei Cloud ECS endpoints the action uses
 * (batch power action and job query) plus the IAM project lookup, and, for the
 * benchmark's per-server contender, the Nova reboot and show-server routes.
 *
 * It is a real `node:http` server on 127.0.0.1 that verifies every request's
 * SDK-HMAC-SHA256 signature, keeps jobs whose progress follows an injectable
 * clock, counts restarts per server, and can be told to misbehave
 * (error answers, socket resets, hangs, delays) one request at a time, or to
 * reject every batch that names certain servers.
 *
 * For benchmarks it can also model the real cloud's timing: a latency added to
 * every request (`latencyMs`) and the documented restart rate limit
 * (`rateLimit`), answered with the gateway's throttling response; `counters()`
 * and `recordRequests: false` keep long runs light.
 *
 * For token authentication it also issues real IAM tokens: by password
 * (`POST /v3/auth/tokens`, users in `iamUsers`) and by federation with an OIDC
 * ID token (`POST /v3.0/OS-AUTH/id-token/tokens`, providers in
 * `identityProviders`, the JWT's RS256 signature and claims verified for real).
 * Every route that takes an AK/SK signature also takes such a token as
 * `X-Auth-Token` (without an `Authorization` header). And it can stand in for
 * GitHub's OIDC token service (`GET /_github/oidc/token`, `githubOidc`), which
 * is what `@actions/core`'s `getIDToken()` calls.
 */
import {
  createHash,
  createPublicKey,
  randomBytes,
  randomUUID,
  timingSafeEqual,
  verify as verifySignature,
  type JsonWebKey,
  type KeyObject
} from 'node:crypto'
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse
} from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { parseAuthorization, parseSdkDate, sign } from '../../src/cloud/signer'
import { signJwt } from '../support/oidc'

export interface EmulatorCredential {
  secretAccessKey: string
  securityToken?: string
}

export interface ServerFailure {
  code: string
  reason: string
}

/** How the cloud answers a whole batch request that names a server it refuses. */
export interface ServerRejection {
  /** HTTP status, 400-599. */
  status: number
  code: string
  reason: string
}

/** A server the emulator lists, with what selection and state checks look at. */
export interface EmulatorServer {
  id: string
  name: string
  /** Default ACTIVE. Changes when an accepted action's job finishes (see `inventory`). */
  status?: string
  /** `key=value` strings, as the API lists them. */
  tags?: string[]
  enterpriseProjectId?: string
}

interface InventoryServer extends EmulatorServer {
  status: string
  tags: string[]
  /** While an accepted action's job runs: the state shown until `at`, and the state after it. */
  until?: { at: number; during: string; after: string }
}

/**
 * An OIDC identity provider as IAM's openid-connect-config holds it: `issuer` is `idp_url` (the
 * tokens' `iss`), `clientId` is `client_id` (matched against `aud`), `jwks` is `signing_key`.
 */
export interface EmulatorIdentityProvider {
  issuer: string
  clientId: string
  /** `{"keys":[{kty,n,e,kid,...}]}`; tokens are checked against the RSA key whose `kid` their header names. */
  jwks: { keys: object[] }
}

/** An IAM user that may get a token by password. */
export interface EmulatorIamUser {
  /** The account (domain) name, `auth.identity.password.user.domain.name`. */
  domain: string
  name: string
  password: string
}

/** How the emulator stands in for GitHub's OIDC token service (see `EmulatorOptions.githubOidc`). */
export interface EmulatorGithubOidc {
  /** `iss` of the tokens, e.g. https://token.actions.githubusercontent.com. */
  issuer: string
  /** What the caller must send as `Authorization: Bearer …` (ACTIONS_ID_TOKEN_REQUEST_TOKEN). */
  requestToken: string
  /** RSA private key that signs the tokens (RS256). */
  privateKey: KeyObject
  /** `kid` in every token header. */
  kid: string
  /** `sub`; default `repo:{repository}:ref:{ref}`, i.e. 'repo:octo/fleet:ref:refs/heads/main'. */
  subject?: string
  /** `repository` claim (`owner/name`); default 'octo/fleet'. */
  repository?: string
  /** `ref` claim; default 'refs/heads/main'. */
  ref?: string
  /** `exp` - `iat`; default 300. Negative: the token is already expired when issued. */
  expiresInSeconds?: number
}

export interface EmulatorOptions {
  /**
   * The project's servers for `GET /v1/{project_id}/cloudservers/detail` (pages: `offset` is the
   * page number, `limit` at most 1000, optional `enterprise_project_id`) and
   * `GET /v1/{project_id}/cloudservers/{server_id}`. When set (and `servers` is not), only these
   * servers exist. Their state follows the actions: a server not in the state an action needs
   * (ACTIVE for reboot and os-stop, SHUTOFF for os-start) fails its sub-job with Ecs.0100; an
   * accepted one shows REBOOT/HARD_REBOOT during a reboot's job, and ACTIVE (reboot, os-start) or
   * SHUTOFF (os-stop) once the job has finished. `setServerStatus()` changes one at any time.
   */
  inventory?: EmulatorServer[]
  /** Port to listen on, 127.0.0.1 only; default 0 (any free port). */
  port?: number
  /** AK -> SK (and security token for temporary credentials); default DEFAULT_CREDENTIALS. */
  credentials?: Record<string, EmulatorCredential>
  /** Project name (= region) -> project id; default DEFAULT_PROJECTS. */
  projects?: Record<string, string>
  /** 'any' (default): every server id exists. */
  servers?: 'any' | string[]
  /** Servers whose sub-job ends FAIL with this code/reason. */
  serverFailures?: Record<string, ServerFailure>
  /**
   * What happens to a server not in `servers`: 'reject' -> the whole POST is answered 404 Ecs.0114;
   * 'sub-job' (default) -> the request is accepted and that server's sub-job ends FAIL Ecs.0114.
   */
  unknownServers?: 'reject' | 'sub-job'
  /**
   * Servers for which the cloud rejects the WHOLE submit request (reboot, os-start or os-stop), e.g.
   * 404 Ecs.0114 (not found), 400 Ecs.0100 (wrong state), 400 Ecs.0605 (locked). A correctly signed,
   * otherwise valid submit that names one or more of them is answered `status` with
   * `ecsError(code, reason)` of the first such server in request order (an unknown server in
   * `unknownServers: 'reject'` mode counts as such a server too, at its position); no job is created and
   * no restart is counted for any server in the request. Such requests show up in `requests` with that
   * status. Checked after the signature, project and body validation (Ecs.0005, Ecs.0118), which win.
   * `start()` throws a RangeError for a status outside 400-599.
   */
  rejectServers?: Record<string, ServerRejection>
  /** Time from submission until the job is terminal; default 100. */
  jobDurationMs?: number
  /** Clock for job progress and date-skew checks; default Date.now. */
  now?: () => number
  /**
   * Extension (not needed by tests): called once per request when its outcome is known
   * (answered, reset, or left hanging). Used by serve.ts --verbose.
   */
  onRequest?: (request: RecordedRequest) => void
  /**
   * Extension (benchmarks): milliseconds every request waits, once its body has been read and its
   * signature checked, before it is processed and answered; applies to every route (unknown ones
   * too) and comes before any injected fault (a 'delay' fault adds to it). Default 0: processed at
   * once, as before. `start()` throws a RangeError unless it is a finite number >= 0.
   */
  latencyMs?: number
  /**
   * Extension (benchmarks): the cloud's restart rate limit, e.g. the documented 1000 servers per
   * minute (`{ servers: 1000, windowMs: 60_000 }`) or that scaled down. A restart request that
   * would otherwise be accepted (a batch `reboot` POST after every other check, or a Nova reboot,
   * which counts one server) is counted by its distinct servers in a sliding window: if the servers
   * accepted in the last `windowMs` plus its own would exceed `servers`, it is answered 429
   * `APIG.0308` "The throttling threshold has been reached." with a `Retry-After` header (the whole
   * seconds, rounded up, until it would fit) and nothing is restarted. A request of more servers
   * than the limit fits only into an empty window. `os-start` and `os-stop` are not limited.
   * `start()` throws a RangeError unless `servers` is a positive integer and `windowMs` a positive
   * finite number.
   */
  rateLimit?: RateLimit
  /**
   * Extension (benchmarks): false -> `requests` stays empty, so no headers or bodies are kept for
   * runs of many thousands of requests; `counters()` and `onRequest` work either way. Default true.
   */
  recordRequests?: boolean
  /**
   * Extension (token auth): OIDC identity providers by IdP id, for
   * `POST /v3.0/OS-AUTH/id-token/tokens` (header `X-Idp-Id`). Default none: that route answers 404.
   */
  identityProviders?: Record<string, EmulatorIdentityProvider>
  /** Extension (token auth): IAM users for `POST /v3/auth/tokens` by password. Default none. */
  iamUsers?: EmulatorIamUser[]
  /**
   * Extension (token auth): lifetime of the tokens the emulator issues, per `now()`; default 24 h.
   * `start()` throws a RangeError unless it is a positive finite number.
   */
  tokenLifetimeMs?: number
  /**
   * Extension (OIDC): answer `GET /_github/oidc/token?audience=…` (see GITHUB_OIDC_PATH) as GitHub's
   * OIDC token service does for `@actions/core`'s `getIDToken()`: with `Authorization: Bearer
   * {requestToken}`, `{"value":"<RS256 JWT>"}`. `githubOidcEnv()` gives the two environment
   * variables that point `getIDToken()` here. Default unset: that route answers 404.
   */
  githubOidc?: EmulatorGithubOidc
}

/** Servers restarted per sliding window; see `EmulatorOptions.rateLimit`. */
export interface RateLimit {
  servers: number
  windowMs: number
}

/** What `counters()` returns: a summary that costs no memory per request. */
export interface EmulatorCounters {
  /**
   * Requests received per route, counted on arrival. The identity routes ('id-token',
   * 'password-token', 'github-oidc') show up only once such a request has arrived.
   */
  requests: Record<RouteName | 'unknown', number> & Partial<Record<IdentityRouteName, number>>
  /** Requests by outcome: the HTTP status answered (injected answers included), 'reset' or 'hang'. */
  outcomes: Record<string, number>
  /** Requests the rate limit answered 429 APIG.0308. */
  throttled: number
  /** Restarts counted over all servers: the sum of `restartCount()` of every server. */
  restarts: number
  /** Servers restarted at least once. */
  restartedServers: number
}

export const DEFAULT_CREDENTIALS: Record<string, EmulatorCredential> = {
  AKEMULATOR0000000000: { secretAccessKey: 'SKEMULATOR0000000000000000000000000000000' }
}
/** The access key of DEFAULT_CREDENTIALS, in the shape clients take it. */
export const DEFAULT_ACCESS_KEY = (() => {
  const [accessKeyId, { secretAccessKey }] = Object.entries(DEFAULT_CREDENTIALS)[0]
  return { accessKeyId, secretAccessKey }
})()
export const DEFAULT_REGION = 'ap-southeast-1'
export const DEFAULT_PROJECT_ID = '0123456789abcdef0123456789abcdef'
export const DEFAULT_PROJECTS: Record<string, string> = { [DEFAULT_REGION]: DEFAULT_PROJECT_ID }
/** The domain (account) id reported for every project. */
export const DEFAULT_DOMAIN_ID = 'fedcba9876543210fedcba9876543210'
/** The domain (account) name reported in tokens for federated users and projects. */
export const DEFAULT_DOMAIN_NAME = 'emulator-account'
/** Default `tokenLifetimeMs`: IAM tokens live 24 h. */
export const DEFAULT_TOKEN_LIFETIME_MS = 24 * 60 * 60 * 1000
/** Clock skew allowed when checking an ID token's `exp`, `nbf` and `iat`. */
export const ID_TOKEN_CLOCK_SKEW_MS = 60 * 1000
/** `POST`: a project-scoped (or unscoped) token for an OIDC ID token, route 'id-token'. */
export const ID_TOKEN_PATH = '/v3.0/OS-AUTH/id-token/tokens'
/** `POST`: a token by IAM user password, route 'password-token'. */
export const PASSWORD_TOKEN_PATH = '/v3/auth/tokens'
/** `GET ?audience=…`: GitHub's OIDC token service, route 'github-oidc'. */
export const GITHUB_OIDC_PATH = '/_github/oidc/token'

/** At most this many servers in one batch request (Ecs.0118 above). */
export const MAX_SERVERS_PER_REQUEST = 1000
/** Allowed distance between X-Sdk-Date and the emulator clock. */
export const MAX_DATE_SKEW_MS = 15 * 60 * 1000
/** Request bodies larger than this are answered 413 APIG.0201. */
export const MAX_BODY_BYTES = 12 * 1024 * 1024

/** 'nova-action' and 'nova-server' are the Nova routes (`/v2.1/{project_id}/servers/{server_id}[/action]`). */
export type RouteName = 'submit' | 'job' | 'projects' | 'nova-action' | 'nova-server' | 'list' | 'server'

/**
 * The routes that need no AK/SK signature or token: 'id-token' (ID_TOKEN_PATH), 'password-token'
 * (PASSWORD_TOKEN_PATH) and 'github-oidc' (GITHUB_OIDC_PATH). Faults can be injected on them too.
 */
export type IdentityRouteName = 'id-token' | 'password-token' | 'github-oidc'

export type Fault =
  /** Answer this instead of processing; body: object -> JSON, string -> raw text, absent -> empty. */
  | { kind: 'respond'; status: number; body?: unknown; headers?: Record<string, string> }
  /** Destroy the socket before processing anything. */
  | { kind: 'reset' }
  /** Process normally (accept the batch, create the job, count the restarts), then destroy the socket without answering. */
  | { kind: 'reset-after-processing' }
  /** Never answer; the socket stays open until close(). */
  | { kind: 'hang' }
  /** Wait, then process normally. */
  | { kind: 'delay'; ms: number }
  /**
   * Process normally; it only uses up one queued fault, so the faults after it hit later requests:
   * `inject('submit', { kind: 'pass' }, { kind: 'pass' }, { kind: 'reset' })` resets only the third submit.
   */
  | { kind: 'pass' }

export interface RecordedRequest {
  route: RouteName | IdentityRouteName | 'unknown'
  method: string
  /** The path as received, without the query. */
  path: string
  query: URLSearchParams
  headers: IncomingHttpHeaders
  /** The exact body received (UTF-8). */
  body: string
  /** HTTP status answered; 'reset' when the socket was destroyed; 'hang' while (or because) nothing was answered. */
  status: number | 'reset' | 'hang'
  /** A valid AK/SK signature (false for token-authenticated requests and on the identity routes). */
  signatureValid: boolean
  /**
   * How the request authenticated: 'signature' (valid AK/SK signature), 'token' (a valid
   * `X-Auth-Token` this emulator issued, not expired; its project is checked later), or 'none'
   * (neither, and always on the identity routes, which need neither).
   */
  authenticatedBy: 'signature' | 'token' | 'none'
}

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

type Action = 'reboot' | 'os-start' | 'os-stop'

const JOB_TYPES: Record<Action, { job: string; subJob: string }> = {
  reboot: { job: 'batchRebootServers', subJob: 'rebootServer' },
  'os-start': { job: 'batchStartServers', subJob: 'startServer' },
  'os-stop': { job: 'batchStopServers', subJob: 'stopServer' }
}

const NOT_FOUND_MESSAGE = 'The API does not exist or has not been published in the environment.'
const THROTTLED_MESSAGE = 'The throttling threshold has been reached.'
const SIGNATURE_FAIL_MESSAGE = 'Incorrect IAM authentication information: verify aksk signature fail'
const UNKNOWN_SERVER: ServerFailure = { code: 'Ecs.0114', reason: 'The ECS does not exist.' }

interface Job {
  id: string
  projectId: string
  action: Action
  servers: string[]
  /** Index in `servers` -> failure; only failing sub-jobs are stored. */
  failures: Map<number, ServerFailure>
  firstFailure: ServerFailure | undefined
  submittedAt: number
}

/** The last restart of a server (batch or Nova), which is what the Nova show-server route reports. */
interface ServerRestart {
  at: number
  hard: boolean
  failure: ServerFailure | undefined
}

interface Reply {
  status: number
  body?: unknown
  headers?: Record<string, string>
}

interface Verification {
  ok: boolean
  message: string
  /** How the request tried to authenticate: an `Authorization` signature, or `X-Auth-Token` alone. */
  by: 'signature' | 'token' | 'none'
  /** Gateway error code when not ok; default APIG.0301. */
  code?: string
  /** The token, when authenticated by one. */
  token?: IssuedToken
}

/** A token this emulator issued (the `X-Subject-Token` value is the key it is stored under). */
interface IssuedToken {
  issuedAt: number
  expiresAt: number
  /** Set by `expireTokens()`. */
  expired: boolean
  /** Absent for an unscoped token. */
  project?: { id: string; name: string }
  methods: string[]
  user: Record<string, unknown>
}

/** `scope` of a token request: none (unscoped) or a project by id and/or name. */
type Scope = { project?: { id?: string; name?: string } } | { error: string }

interface RequestContext {
  req: IncomingMessage
  url: URL
  record: RecordedRequest
  verification: Verification
}

function newHexId(): string {
  return randomBytes(16).toString('hex')
}

const NOT_JSON = Symbol('not JSON')

/** A request body as JSON, or NOT_JSON; each route answers that in its own error shape. */
function parseBody(body: string): unknown {
  try {
    return JSON.parse(body) as unknown
  } catch {
    return NOT_JSON
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  if (value === undefined) return undefined
  return Array.isArray(value) ? value.join(', ') : value
}

const V1_SUBMIT = /^\/v1\/([^/]+)\/cloudservers\/action$/
const V1_JOB = /^\/v1\/([^/]+)\/jobs\/([^/]+)$/
const V1_LIST = /^\/v1\/([^/]+)\/cloudservers\/detail$/
const V1_SERVER = /^\/v1\/([^/]+)\/cloudservers\/([^/]+)$/
const WRONG_STATE: ServerFailure = { code: 'Ecs.0100', reason: 'The ECS status does not meet requirements.' }
const STATE_NEEDED: Record<Action, string> = { reboot: 'ACTIVE', 'os-stop': 'ACTIVE', 'os-start': 'SHUTOFF' }
const STATE_AFTER: Record<Action, string> = { reboot: 'ACTIVE', 'os-stop': 'SHUTOFF', 'os-start': 'ACTIVE' }
const NOVA_ACTION = /^\/v2\.1\/([^/]+)\/servers\/([^/]+)\/action$/
const NOVA_SERVER = /^\/v2\.1\/([^/]+)\/servers\/([^/]+)$/
/** Nova's own spellings of the reboot types. */
const NOVA_REBOOT_TYPES = new Set(['SOFT', 'Soft', 'soft', 'HARD', 'Hard', 'hard'])

/** Nova's error shape, e.g. `{"itemNotFound":{"code":404,"message":…}}`. */
function novaError(kind: string, code: number, message: string): object {
  return { [kind]: { code, message } }
}

/**
 * Servers accepted per sliding window: an entry leaves the window `windowMs` after it was added.
 * Entries sit in a queue whose consumed head is dropped now and then, so memory follows the window.
 */
class SlidingWindow {
  private readonly entries: { at: number; count: number }[] = []
  private head = 0
  private total = 0

  constructor(private readonly limit: RateLimit) {}

  /** Milliseconds until `count` more servers fit; 0 when they fit now. */
  waitMs(now: number, count: number): number {
    this.expire(now)
    if (this.total === 0 || this.total + count <= this.limit.servers) return 0
    let excess = this.total + count - this.limit.servers
    let i = this.head
    // Drop the oldest entries until the rest leave room; an oversized request waits for an empty window.
    for (; i < this.entries.length - 1; i++) {
      excess -= this.entries[i].count
      if (excess <= 0) break
    }
    return Math.max(1, this.entries[i].at + this.limit.windowMs - now)
  }

  add(now: number, count: number): void {
    this.entries.push({ at: now, count })
    this.total += count
  }

  private expire(now: number): void {
    while (this.head < this.entries.length && this.entries[this.head].at + this.limit.windowMs <= now) {
      this.total -= this.entries[this.head].count
      this.head++
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries.splice(0, this.head)
      this.head = 0
    }
  }
}

export class EcsEmulator {
  readonly url: string
  readonly requests: RecordedRequest[] = []

  private readonly credentials: Record<string, EmulatorCredential>
  private readonly projectsByName: Map<string, string>
  private readonly projectIds: Set<string>
  private readonly knownServers: Set<string> | undefined
  private readonly serverFailures: Map<string, ServerFailure>
  private readonly unknownServers: 'reject' | 'sub-job'
  private readonly rejectServers: Map<string, ServerRejection>
  private readonly jobDurationMs: number
  private readonly now: () => number
  private readonly onRequest: ((request: RecordedRequest) => void) | undefined
  private readonly latencyMs: number
  private readonly window: SlidingWindow | undefined
  private readonly recordRequests: boolean

  private readonly faults: Record<RouteName | IdentityRouteName, Fault[]> = {
    submit: [],
    job: [],
    projects: [],
    'nova-action': [],
    'nova-server': [],
    list: [],
    server: [],
    'id-token': [],
    'password-token': [],
    'github-oidc': []
  }
  private readonly identityProviders: Map<string, EmulatorIdentityProvider>
  private readonly iamUsers: EmulatorIamUser[]
  private readonly tokenLifetimeMs: number
  private readonly githubOidc: EmulatorGithubOidc | undefined
  /** Issued tokens by value, in issue order. */
  private readonly tokens = new Map<string, IssuedToken>()
  private readonly inventory = new Map<string, InventoryServer>()
  private readonly jobs = new Map<string, Job>()
  private readonly jobOrder: string[] = []
  private readonly restarts = new Map<string, number>()
  private readonly lastRestarts = new Map<string, ServerRestart>()
  private readonly counts: EmulatorCounters = {
    requests: { submit: 0, job: 0, projects: 0, 'nova-action': 0, 'nova-server': 0, list: 0, server: 0, unknown: 0 },
    outcomes: {},
    throttled: 0,
    restarts: 0,
    restartedServers: 0
  }
  private readonly sockets = new Set<Socket>()
  private readonly timers = new Set<NodeJS.Timeout>()
  private closing: Promise<void> | undefined

  private constructor(
    private readonly server: Server,
    options: EmulatorOptions
  ) {
    const address = server.address() as AddressInfo
    this.url = `http://127.0.0.1:${address.port}`
    this.credentials = options.credentials ?? DEFAULT_CREDENTIALS
    const projects = options.projects ?? DEFAULT_PROJECTS
    this.projectsByName = new Map(Object.entries(projects))
    this.projectIds = new Set(Object.values(projects))
    for (const server of options.inventory ?? []) {
      this.inventory.set(server.id, { ...server, status: server.status ?? 'ACTIVE', tags: server.tags ?? [] })
    }
    this.knownServers =
      options.servers === undefined || options.servers === 'any'
        ? options.inventory
          ? new Set(this.inventory.keys())
          : undefined
        : new Set(options.servers)
    this.serverFailures = new Map(Object.entries(options.serverFailures ?? {}))
    this.unknownServers = options.unknownServers ?? 'sub-job'
    this.rejectServers = new Map(Object.entries(options.rejectServers ?? {}))
    this.jobDurationMs = Math.max(0, options.jobDurationMs ?? 100)
    this.now = options.now ?? Date.now
    this.onRequest = options.onRequest
    this.latencyMs = options.latencyMs ?? 0
    this.window = options.rateLimit ? new SlidingWindow({ ...options.rateLimit }) : undefined
    this.recordRequests = options.recordRequests ?? true
    this.identityProviders = new Map(Object.entries(options.identityProviders ?? {}))
    this.iamUsers = [...(options.iamUsers ?? [])]
    this.tokenLifetimeMs = options.tokenLifetimeMs ?? DEFAULT_TOKEN_LIFETIME_MS
    this.githubOidc = options.githubOidc
  }

  static async start(options: EmulatorOptions = {}): Promise<EcsEmulator> {
    for (const [id, { status }] of Object.entries(options.rejectServers ?? {})) {
      if (!Number.isInteger(status) || status < 400 || status > 599) {
        throw new RangeError(`rejectServers[${JSON.stringify(id)}].status must be an integer in 400-599, not ${status}`)
      }
    }
    const { latencyMs, rateLimit } = options
    if (latencyMs !== undefined && !(Number.isFinite(latencyMs) && latencyMs >= 0)) {
      throw new RangeError(`latencyMs must be a finite number >= 0, not ${latencyMs}`)
    }
    if (rateLimit !== undefined) {
      if (!Number.isInteger(rateLimit.servers) || rateLimit.servers < 1) {
        throw new RangeError(`rateLimit.servers must be a positive integer, not ${rateLimit.servers}`)
      }
      if (!(Number.isFinite(rateLimit.windowMs) && rateLimit.windowMs > 0)) {
        throw new RangeError(`rateLimit.windowMs must be a positive finite number, not ${rateLimit.windowMs}`)
      }
    }
    const { tokenLifetimeMs, githubOidc } = options
    if (tokenLifetimeMs !== undefined && !(Number.isFinite(tokenLifetimeMs) && tokenLifetimeMs > 0)) {
      throw new RangeError(`tokenLifetimeMs must be a positive finite number, not ${tokenLifetimeMs}`)
    }
    if (githubOidc !== undefined) {
      if (githubOidc.privateKey.type !== 'private' || githubOidc.privateKey.asymmetricKeyType !== 'rsa') {
        throw new TypeError('githubOidc.privateKey must be an RSA private key')
      }
      const { expiresInSeconds } = githubOidc
      if (expiresInSeconds !== undefined && !Number.isFinite(expiresInSeconds)) {
        throw new RangeError(`githubOidc.expiresInSeconds must be a finite number, not ${expiresInSeconds}`)
      }
    }
    const server = createServer()
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(options.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
    const emulator = new EcsEmulator(server, options)
    server.on('connection', (socket: Socket) => {
      emulator.sockets.add(socket)
      socket.once('close', () => emulator.sockets.delete(socket))
    })
    server.on('request', (req: IncomingMessage, res: ServerResponse) => emulator.handle(req, res))
    return emulator
  }

  /** Queues faults for a route; each matching request consumes one, in order. */
  inject(route: RouteName | IdentityRouteName, ...faults: Fault[]): void {
    this.faults[route].push(...faults)
  }

  /** Faults still queued for a route. */
  pendingFaults(route: RouteName | IdentityRouteName): number {
    return this.faults[route].length
  }

  /** Every token issued so far (the `X-Subject-Token` values), in issue order, expired ones included. */
  issuedTokens(): string[] {
    return [...this.tokens.keys()]
  }

  /**
   * Makes every token issued so far expired at once (requests with them get 401 APIG.0307), e.g. a
   * token that expires mid-run. Tokens issued afterwards are not affected.
   */
  expireTokens(): void {
    for (const token of this.tokens.values()) token.expired = true
  }

  /**
   * The environment that points `@actions/core`'s `getIDToken()` at this emulator:
   * `ACTIONS_ID_TOKEN_REQUEST_URL` (`{url}/_github/oidc/token?api-version=2.0`; getIDToken appends
   * `&audience=…`) and `ACTIONS_ID_TOKEN_REQUEST_TOKEN`. Throws unless `githubOidc` is set.
   */
  githubOidcEnv(): { ACTIONS_ID_TOKEN_REQUEST_URL: string; ACTIONS_ID_TOKEN_REQUEST_TOKEN: string } {
    if (!this.githubOidc) throw new Error('githubOidc is not set in the emulator options')
    return {
      ACTIONS_ID_TOKEN_REQUEST_URL: `${this.url}${GITHUB_OIDC_PATH}?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: this.githubOidc.requestToken
    }
  }

  /** How many accepted submit requests included this server; a rejected request counts for none. */
  restartCount(serverId: string): number {
    return this.restarts.get(serverId) ?? 0
  }

  /** Job ids created, in order. */
  jobIds(): string[] {
    return [...this.jobOrder]
  }

  /** Counts of requests, outcomes, throttled answers and restarts so far (a copy). */
  counters(): EmulatorCounters {
    return {
      requests: { ...this.counts.requests },
      outcomes: { ...this.counts.outcomes },
      throttled: this.counts.throttled,
      restarts: this.counts.restarts,
      restartedServers: this.restarts.size
    }
  }

  /** Sets an inventory server's state now, e.g. a server that stops between listing and restart. */
  setServerStatus(serverId: string, status: string): void {
    const server = this.inventory.get(serverId)
    if (server === undefined) throw new Error(`${serverId} is not in the inventory`)
    server.status = status
    delete server.until
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

  // ---------------------------------------------------------------- request handling

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
    const route = url ? routeOf(method, url.pathname) : 'unknown'
    const record: RecordedRequest = {
      route,
      method,
      path: url?.pathname ?? rawUrl,
      query: url ? new URLSearchParams(url.searchParams) : new URLSearchParams(),
      headers: req.headers,
      body: '',
      status: 'hang',
      signatureValid: false,
      authenticatedBy: 'none'
    }
    if (this.recordRequests) this.requests.push(record)
    this.counts.requests[route] = (this.counts.requests[route] ?? 0) + 1
    // Faults are taken in arrival order, before the body has been read.
    const fault = route === 'unknown' ? undefined : this.faults[route].shift()

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
      const verification: Verification =
        url && !isIdentityRoute(route)
          ? this.verify(req, url, record.body, route)
          : { ok: false, message: '', by: 'none' }
      record.signatureValid = verification.ok && verification.by === 'signature'
      record.authenticatedBy = verification.ok ? verification.by : 'none'
      const answer = (): void => {
        if (tooLarge) {
          this.send(res, record, {
            status: 413,
            body: gatewayError('APIG.0201', 'Request entity too large')
          })
          return
        }
        if (!url) {
          this.send(res, record, { status: 404, body: gatewayError('APIG.0101', NOT_FOUND_MESSAGE) })
          return
        }
        this.applyFault(fault, { req, url, record, verification }, res)
      }
      if (this.latencyMs <= 0) {
        answer()
        return
      }
      const timer = setTimeout(() => {
        this.timers.delete(timer)
        answer()
      }, this.latencyMs)
      this.timers.add(timer)
    })
  }

  private countOutcome(record: RecordedRequest): void {
    const key = String(record.status)
    this.counts.outcomes[key] = (this.counts.outcomes[key] ?? 0) + 1
  }

  private applyFault(fault: Fault | undefined, context: RequestContext, res: ServerResponse): void {
    const { record } = context
    if (fault === undefined) {
      this.send(res, record, this.process(context))
      return
    }
    switch (fault.kind) {
      case 'pass':
        this.send(res, record, this.process(context))
        return
      case 'respond':
        this.send(res, record, { status: fault.status, body: fault.body, headers: fault.headers }, true)
        return
      case 'reset':
        this.reset(res, record)
        return
      case 'reset-after-processing':
        this.process(context)
        this.reset(res, record)
        return
      case 'hang':
        record.status = 'hang'
        this.countOutcome(record)
        this.onRequest?.(record)
        return
      case 'delay': {
        const timer = setTimeout(
          () => {
            this.timers.delete(timer)
            this.send(res, record, this.process(context))
          },
          Math.max(0, fault.ms)
        )
        this.timers.add(timer)
        return
      }
    }
  }

  private reset(res: ServerResponse, record: RecordedRequest): void {
    record.status = 'reset'
    // A TCP RST, as a dropped connection looks to the client.
    res.req.socket.resetAndDestroy()
    this.countOutcome(record)
    this.onRequest?.(record)
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
    this.countOutcome(record)
    this.onRequest?.(record)
  }

  /** Normal behaviour of a route, with the signature checked first. */
  private process({ req, url, record, verification }: RequestContext): Reply {
    if (record.route === 'unknown') {
      return { status: 404, body: gatewayError('APIG.0101', NOT_FOUND_MESSAGE) }
    }
    if (record.route === 'id-token') return this.idTokenAuth(req, record.body)
    if (record.route === 'password-token') return this.passwordAuth(record.body)
    if (record.route === 'github-oidc') return this.githubOidcToken(req, url)
    if (!verification.ok) {
      return { status: 401, body: gatewayError(verification.code ?? 'APIG.0301', verification.message) }
    }
    if (record.route === 'projects') return this.listProjects(url)

    const match = ROUTE_PATTERNS[record.route].exec(url.pathname)
    if (!match) return { status: 404, body: gatewayError('APIG.0101', NOT_FOUND_MESSAGE) }
    const projectId = decodeSafely(match[1])
    const headerProjectId = headerValue(req.headers, 'x-project-id')
    if (verification.token) {
      // A token carries its project: X-Project-Id is optional then, but must agree when sent.
      const scoped = verification.token.project
      if (scoped?.id !== projectId) {
        return {
          status: 400,
          body: ecsError(
            'Common.0018',
            `The project_id in the token does not match the project_id in the URL: the token is ${
              scoped ? `scoped to project ${scoped.id}` : 'not scoped to a project'
            }, the URL names project ${projectId}.`
          )
        }
      }
    }
    if (headerProjectId !== projectId && !(verification.token && headerProjectId === undefined)) {
      return {
        status: 400,
        body: ecsError('Common.0018', 'The project_id in the token does not match the project_id in the URL.')
      }
    }
    if (!this.projectIds.has(projectId)) {
      return { status: 404, body: ecsError('Ecs.0023', `The project ${projectId} does not exist.`) }
    }
    if (record.route === 'submit') return this.submit(projectId, record.body)
    if (record.route === 'list') return this.listServers(url)
    if (record.route === 'server') return this.showServer(decodeSafely(match[2]))
    if (record.route === 'nova-action') return this.novaAction(decodeSafely(match[2]), record.body)
    if (record.route === 'nova-server') return this.novaServer(decodeSafely(match[2]))
    return this.queryJob(projectId, decodeSafely(match[2]))
  }

  // ---------------------------------------------------------------- signature

  private verify(req: IncomingMessage, url: URL, body: string, route: RouteName | 'unknown'): Verification {
    const fail = (message = SIGNATURE_FAIL_MESSAGE): Verification => ({ ok: false, message, by: 'signature' })
    const authorization = headerValue(req.headers, 'authorization')
    if (authorization === undefined) {
      const token = headerValue(req.headers, 'x-auth-token')
      if (token !== undefined) return this.verifyToken(token)
      return { ok: false, message: 'Incorrect IAM authentication information: x-auth-token not found', by: 'none' }
    }
    const parsed = parseAuthorization(authorization)
    if (!parsed) return fail()
    const credential = Object.prototype.hasOwnProperty.call(this.credentials, parsed.accessKeyId)
      ? this.credentials[parsed.accessKeyId]
      : undefined
    if (!credential) {
      return fail(
        `Incorrect IAM authentication information: Get secretKey failed,ak:${parsed.accessKeyId},err:ak not exist`
      )
    }
    const signed = new Set(parsed.signedHeaderNames)
    const required = ['host', 'x-sdk-date']
    if (body.length > 0) required.push('content-type')
    if (route !== 'projects' && route !== 'unknown') required.push('x-project-id')
    const token = headerValue(req.headers, 'x-security-token')
    if (credential.securityToken !== undefined) {
      required.push('x-security-token')
      if (token === undefined || !constantTimeEqual(token, credential.securityToken)) return fail()
    } else if (token !== undefined) {
      return fail()
    }
    for (const name of required) if (!signed.has(name)) return fail()

    const signedHeaders: Record<string, string> = {}
    for (const name of signed) {
      const value = headerValue(req.headers, name)
      if (value === undefined) return fail()
      signedHeaders[name] = value
    }
    const date = parseSdkDate(signedHeaders['x-sdk-date'].trim())
    if (!date) return fail()
    if (Math.abs(date.getTime() - this.now()) > MAX_DATE_SKEW_MS) {
      return fail('Incorrect IAM authentication information: signature expired')
    }
    // The host the client signed is only the host it sent: `url` carries the received path and query.
    const expected = sign(
      { method: req.method ?? 'GET', url, signedHeaders, body },
      { accessKeyId: parsed.accessKeyId, secretAccessKey: credential.secretAccessKey }
    )
    return constantTimeEqual(expected.signature, parsed.signature) ? { ok: true, message: '', by: 'signature' } : fail()
  }

  /** `X-Auth-Token` without `Authorization`: a token this emulator issued and that has not expired. */
  private verifyToken(value: string): Verification {
    const token = this.tokens.get(value)
    if (token === undefined) {
      return { ok: false, by: 'token', message: 'Incorrect IAM authentication information: decrypt token fail' }
    }
    if (token.expired || this.now() >= token.expiresAt) {
      return { ok: false, by: 'token', code: 'APIG.0307', message: 'The token must be updated.' }
    }
    return { ok: true, by: 'token', message: '', token }
  }

  // ---------------------------------------------------------------- routes

  private listProjects(url: URL): Reply {
    const name = url.searchParams.get('name')
    const projects: object[] = []
    for (const [projectName, id] of this.projectsByName) {
      if (name !== null && projectName !== name) continue
      projects.push({
        id,
        name: projectName,
        domain_id: DEFAULT_DOMAIN_ID,
        enabled: true,
        is_domain: false,
        parent_id: DEFAULT_DOMAIN_ID,
        description: '',
        links: { self: `${this.url}/v3/projects/${id}` }
      })
    }
    return {
      status: 200,
      body: { projects, links: { self: `${this.url}${url.pathname}${url.search}`, previous: null, next: null } },
      headers: { 'X-IAM-Trace-Id': newHexId() }
    }
  }

  /** The project a token request asks for: undefined when unscoped, null when no such project. */
  private resolveProject(scope: {
    project?: { id?: string; name?: string }
  }): { id: string; name: string } | null | undefined {
    const wanted = scope.project
    if (wanted === undefined) return undefined
    for (const [name, id] of this.projectsByName) {
      if ((wanted.id === undefined || wanted.id === id) && (wanted.name === undefined || wanted.name === name)) {
        return { id, name }
      }
    }
    return null
  }

  /** Stores a new token and answers 201 with it in `X-Subject-Token`, the way IAM does. */
  private issueToken(
    methods: string[],
    user: Record<string, unknown>,
    project: { id: string; name: string } | undefined
  ): Reply {
    const value = `MII${randomBytes(96).toString('base64url')}`
    const issuedAt = this.now()
    const token: IssuedToken = {
      issuedAt,
      expiresAt: issuedAt + this.tokenLifetimeMs,
      expired: false,
      project,
      methods,
      user
    }
    this.tokens.set(value, token)
    const body: Record<string, unknown> = {
      expires_at: iamTime(token.expiresAt),
      issued_at: iamTime(issuedAt),
      methods,
      user,
      roles: [],
      catalog: []
    }
    if (project) {
      body.project = {
        id: project.id,
        name: project.name,
        domain: { id: DEFAULT_DOMAIN_ID, name: DEFAULT_DOMAIN_NAME }
      }
    }
    return {
      status: 201,
      body: { token: body },
      headers: { 'X-Subject-Token': value, 'X-IAM-Trace-Id': newHexId() }
    }
  }

  /**
   * `POST /v3.0/OS-AUTH/id-token/tokens` with `X-Idp-Id` and
   * `{"auth":{"id_token":{"id":JWT},"scope":{"project":{"id"|"name"}}}}`: 201 with a token
   * (`methods: ["mapped"]`, `user.name` the JWT's `sub`) once the JWT checks out against that provider.
   */
  private idTokenAuth(req: IncomingMessage, body: string): Reply {
    const idpId = headerValue(req.headers, 'x-idp-id')
    const idp = idpId === undefined ? undefined : this.identityProviders.get(idpId)
    if (idpId === undefined || idp === undefined) {
      return {
        status: 404,
        body: iamError(
          'IAM.0004',
          idpId === undefined
            ? 'The request header X-Idp-Id is missing.'
            : `The identity provider ${idpId} does not exist.`
        )
      }
    }
    const invalid = (message: string): Reply => ({
      status: 400,
      body: iamError('IAM.0011', `Invalid request body: ${message}`)
    })
    const parsed = parseBody(body)
    if (parsed === NOT_JSON) return invalid('not valid JSON.')
    const auth = isPlainObject(parsed) ? parsed.auth : undefined
    if (!isPlainObject(auth)) return invalid('auth is required.')
    const idToken = isPlainObject(auth.id_token) ? auth.id_token.id : undefined
    if (typeof idToken !== 'string' || idToken.length === 0) return invalid('auth.id_token.id is required.')
    const scope = parseScope(auth.scope)
    if ('error' in scope) return invalid(scope.error)

    const verified = this.verifyIdToken(idToken, idp)
    if ('error' in verified) return { status: 401, body: iamError('IAM.0001', verified.error) }
    const project = this.resolveProject(scope)
    if (project === null) {
      return { status: 404, body: iamError('IAM.0004', `The project ${describeScope(scope)} does not exist.`) }
    }
    const user = {
      id: newHexId(),
      name: verified.subject,
      domain: { id: DEFAULT_DOMAIN_ID, name: DEFAULT_DOMAIN_NAME },
      'OS-FEDERATION': { identity_provider: { id: idpId }, protocol: { id: 'oidc' }, groups: [] }
    }
    return this.issueToken(['mapped'], user, project)
  }

  /**
   * Checks an OIDC ID token against a provider: RS256 with a `kid` from its JWKS, a valid signature,
   * `iss`, `aud`, `exp`, `nbf`, `iat` (per `now()`, with ID_TOKEN_CLOCK_SKEW_MS) and a `sub`, checked
   * in that order. Returns the `sub`, or the first reason it fails.
   */
  private verifyIdToken(token: string, idp: EmulatorIdentityProvider): { subject: string } | { error: string } {
    const parts = token.split('.')
    if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]+$/.test(part))) {
      return { error: 'The ID token is malformed: it must be three base64url parts separated by dots.' }
    }
    const [headerPart, claimsPart, signaturePart] = parts
    const header = jwtPart(headerPart)
    const claims = jwtPart(claimsPart)
    if (!header || !claims) return { error: 'The ID token is malformed: its header and payload must be JSON objects.' }
    if (header.alg !== 'RS256') {
      return { error: `The ID token algorithm ${String(header.alg)} is not supported; only RS256 is.` }
    }
    const kid = header.kid
    const jwk = idp.jwks.keys.find((key) => isPlainObject(key) && typeof kid === 'string' && key.kid === kid)
    if (typeof kid !== 'string' || jwk === undefined) {
      return {
        error: `The ID token's key id (kid ${typeof kid === 'string' ? kid : 'missing'}) is not among the identity provider's signing keys.`
      }
    }
    let valid: boolean
    try {
      const publicKey = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' })
      valid =
        publicKey.asymmetricKeyType === 'rsa' &&
        verifySignature(
          'sha256',
          Buffer.from(`${headerPart}.${claimsPart}`, 'utf8'),
          publicKey,
          Buffer.from(signaturePart, 'base64url')
        )
    } catch {
      valid = false
    }
    if (!valid) return { error: 'Invalid ID token signature.' }
    if (claims.iss !== idp.issuer) {
      return { error: "The ID token issuer does not match the identity provider's issuer." }
    }
    const aud = claims.aud
    if (!(aud === idp.clientId || (Array.isArray(aud) && aud.includes(idp.clientId)))) {
      return { error: "The ID token audience does not match the identity provider's client_id." }
    }
    const now = this.now()
    if (typeof claims.exp !== 'number') return { error: 'The ID token has no valid exp claim.' }
    if (claims.exp * 1000 + ID_TOKEN_CLOCK_SKEW_MS <= now) return { error: 'The ID token has expired.' }
    for (const name of ['nbf', 'iat']) {
      const value = claims[name]
      if (value === undefined) continue
      if (typeof value !== 'number') return { error: `The ID token has an invalid ${name} claim.` }
      if (value * 1000 - ID_TOKEN_CLOCK_SKEW_MS > now) {
        return { error: `The ID token is not valid yet: its ${name} is in the future.` }
      }
    }
    if (typeof claims.sub !== 'string' || claims.sub.length === 0) return { error: 'The ID token has no sub claim.' }
    return { subject: claims.sub }
  }

  /**
   * `POST /v3/auth/tokens` with `{"auth":{"identity":{"methods":["password"],"password":{"user":
   * {"name","password","domain":{"name"}}}},"scope":…}}`: 201 with a token for a user in `iamUsers`;
   * errors in the Keystone shape.
   */
  private passwordAuth(body: string): Reply {
    const bad = (message: string): Reply => ({ status: 400, body: keystoneError(400, 'Bad Request', message) })
    const parsed = parseBody(body)
    if (parsed === NOT_JSON) return bad('The request body is not valid JSON.')
    const auth = isPlainObject(parsed) ? parsed.auth : undefined
    const identity = isPlainObject(auth) ? auth.identity : undefined
    if (!isPlainObject(auth) || !isPlainObject(identity)) return bad('auth.identity is required.')
    if (!Array.isArray(identity.methods) || !identity.methods.includes('password')) {
      return bad('auth.identity.methods must be ["password"]; the emulator supports no other method.')
    }
    const user = isPlainObject(identity.password) ? identity.password.user : undefined
    if (!isPlainObject(user) || !isPlainObject(user.domain))
      return bad('auth.identity.password.user with a domain is required.')
    const { name, password } = user
    const domain = user.domain.name
    if (typeof name !== 'string' || typeof password !== 'string' || typeof domain !== 'string') {
      return bad('user.name, user.password and user.domain.name must be strings.')
    }
    const scope = parseScope(auth.scope)
    if ('error' in scope) return bad(scope.error)
    // Compare every password, so the time does not tell which users exist.
    let found: EmulatorIamUser | undefined
    for (const candidate of this.iamUsers) {
      const matches = constantTimeEqual(candidate.password, password)
      if (matches && candidate.name === name && candidate.domain === domain) found ??= candidate
    }
    if (!found) {
      return { status: 401, body: keystoneError(401, 'Unauthorized', 'The username or password is wrong.') }
    }
    const project = this.resolveProject(scope)
    if (project === null) {
      return { status: 404, body: keystoneError(404, 'Not Found', `Could not find project: ${describeScope(scope)}.`) }
    }
    const tokenUser = {
      id: createHash('sha256').update(`${found.domain}\n${found.name}`).digest('hex').slice(0, 32),
      name: found.name,
      domain: { id: DEFAULT_DOMAIN_ID, name: found.domain },
      password_expires_at: ''
    }
    return this.issueToken(['password'], tokenUser, project)
  }

  /**
   * `GET /_github/oidc/token?audience=…` with `Authorization: Bearer {requestToken}`: `{"value":JWT}`,
   * an RS256 token like GitHub's (`aud` the requested audience, else `https://github.com/{owner}`).
   */
  private githubOidcToken(req: IncomingMessage, url: URL): Reply {
    const config = this.githubOidc
    if (!config) return { status: 404, body: { message: 'Not Found: githubOidc is not set in the emulator options.' } }
    const authorization = headerValue(req.headers, 'authorization') ?? ''
    const match = /^Bearer (.+)$/i.exec(authorization)
    if (!match || !constantTimeEqual(match[1], config.requestToken)) {
      return { status: 401, body: { message: 'Bad credentials: the bearer request token is missing or wrong.' } }
    }
    const repository = config.repository ?? 'octo/fleet'
    const ref = config.ref ?? 'refs/heads/main'
    const owner = repository.split('/')[0]
    const iat = Math.floor(this.now() / 1000)
    const claims = {
      jti: randomUUID(),
      sub: config.subject ?? `repo:${repository}:ref:${ref}`,
      aud: url.searchParams.get('audience') ?? `https://github.com/${owner}`,
      ref,
      ref_type: 'branch',
      repository,
      repository_owner: owner,
      actor: owner,
      event_name: 'workflow_dispatch',
      workflow: 'restart',
      run_id: '1',
      run_number: '1',
      run_attempt: '1',
      runner_environment: 'github-hosted',
      iss: config.issuer,
      nbf: iat,
      iat,
      exp: iat + (config.expiresInSeconds ?? 300)
    }
    return { status: 200, body: { count: 1, value: signJwt(claims, config.privateKey, config.kid) } }
  }

  private submit(projectId: string, body: string): Reply {
    const invalid = (message: string): Reply => ({ status: 400, body: ecsError('Ecs.0005', message) })
    const parsed = parseBody(body)
    if (parsed === NOT_JSON) return invalid('Invalid parameter values: the request body is not valid JSON.')
    if (!isPlainObject(parsed)) return invalid('Invalid parameter values: the request body must be an object.')
    const keys = Object.keys(parsed)
    if (keys.length !== 1 || !(keys[0] in JOB_TYPES)) {
      return invalid('Invalid parameter values: exactly one of reboot, os-start, os-stop is required.')
    }
    const action = keys[0] as Action
    const spec = parsed[action]
    if (!isPlainObject(spec)) return invalid(`Invalid parameter values: ${action} must be an object.`)
    if (action !== 'os-start' || spec.type !== undefined) {
      if (spec.type !== 'SOFT' && spec.type !== 'HARD') {
        return invalid(`Invalid parameter values: ${action}.type must be SOFT or HARD.`)
      }
    }
    const list = spec.servers
    if (!Array.isArray(list) || list.length === 0) {
      return invalid(`Invalid parameter values: ${action}.servers must be a non-empty array.`)
    }
    if (list.length > MAX_SERVERS_PER_REQUEST) {
      return {
        status: 400,
        body: ecsError('Ecs.0118', 'The number of ECSs exceeds the maximum allowed limit.')
      }
    }
    const servers: string[] = new Array<string>(list.length)
    for (let i = 0; i < list.length; i++) {
      const item: unknown = list[i]
      if (!isPlainObject(item) || typeof item.id !== 'string' || item.id.length === 0) {
        return invalid(`Invalid parameter values: ${action}.servers[${i}].id must be a non-empty string.`)
      }
      servers[i] = item.id
    }

    const failures = new Map<number, ServerFailure>()
    let firstFailure: ServerFailure | undefined
    for (let i = 0; i < servers.length; i++) {
      const rejection = this.rejectServers.get(servers[i])
      if (rejection) {
        // The whole batch is refused for this server: no job, no restart for any server in it.
        return { status: rejection.status, body: ecsError(rejection.code, rejection.reason) }
      }
      let failure: ServerFailure | undefined
      if (this.knownServers && !this.knownServers.has(servers[i])) {
        if (this.unknownServers === 'reject') {
          return {
            status: 404,
            body: ecsError('Ecs.0114', `The ECS does not exist. server_id: ${servers[i]}`)
          }
        }
        failure = UNKNOWN_SERVER
      } else {
        failure = this.serverFailures.get(servers[i])
        const listed = this.inventory.get(servers[i])
        if (listed && this.statusOf(listed) !== STATE_NEEDED[action]) failure = WRONG_STATE
      }
      if (failure) {
        failures.set(i, failure)
        firstFailure ??= failure
      }
    }

    const distinct = new Set(servers)
    if (action === 'reboot') {
      const throttled = this.throttle(distinct.size)
      if (throttled) return throttled
      const hard = spec.type === 'HARD'
      for (let i = 0; i < servers.length; i++) {
        this.lastRestarts.set(servers[i], { at: this.now(), hard, failure: failures.get(i) })
      }
    }
    for (const id of distinct) this.countRestart(id)
    for (let i = 0; i < servers.length; i++) {
      const listed = this.inventory.get(servers[i])
      if (listed && !failures.has(i)) {
        const during = action === 'reboot' ? (spec.type === 'HARD' ? 'HARD_REBOOT' : 'REBOOT') : listed.status
        listed.until = { at: this.now() + this.jobDurationMs, during, after: STATE_AFTER[action] }
      }
    }
    const job: Job = {
      id: newHexId(),
      projectId,
      action,
      servers,
      failures,
      firstFailure,
      submittedAt: this.now()
    }
    this.jobs.set(job.id, job)
    this.jobOrder.push(job.id)
    return { status: 200, body: { job_id: job.id } }
  }

  /** An inventory server's state now: during an action's job, then after it. */
  private statusOf(server: InventoryServer): string {
    if (server.until === undefined) return server.status
    if (this.now() < server.until.at) return server.until.during
    server.status = server.until.after
    delete server.until
    return server.status
  }

  private describeServer(server: InventoryServer): object {
    return {
      id: server.id,
      name: server.name,
      status: this.statusOf(server),
      tags: server.tags,
      enterprise_project_id: server.enterpriseProjectId ?? '0'
    }
  }

  /** `GET /v1/{project_id}/cloudservers/detail`: a page of the inventory; `offset` is the page number. */
  private listServers(url: URL): Reply {
    const limitText = url.searchParams.get('limit')
    const offsetText = url.searchParams.get('offset')
    const limit = limitText === null ? 25 : Number(limitText)
    const page = offsetText === null ? 1 : Math.max(1, Number(offsetText))
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000 || !Number.isInteger(page)) {
      return { status: 400, body: ecsError('Ecs.0005', 'Invalid parameter values: offset or limit.') }
    }
    const project = url.searchParams.get('enterprise_project_id')
    const all = [...this.inventory.values()].filter(
      (server) => project === null || project === 'all_granted_eps' || (server.enterpriseProjectId ?? '0') === project
    )
    const servers = all.slice((page - 1) * limit, page * limit).map((server) => this.describeServer(server))
    return { status: 200, body: { count: all.length, servers } }
  }

  /** `GET /v1/{project_id}/cloudservers/{server_id}`. */
  private showServer(serverId: string): Reply {
    const server = this.inventory.get(serverId)
    if (server === undefined) return { status: 404, body: ecsError('Ecs.0114', 'The ECS does not exist.') }
    return { status: 200, body: { server: this.describeServer(server) } }
  }

  private countRestart(serverId: string): void {
    this.restarts.set(serverId, (this.restarts.get(serverId) ?? 0) + 1)
    this.counts.restarts++
  }

  /** The 429 answer when `servers` more restarts would exceed the rate limit now; else counts them. */
  private throttle(servers: number): Reply | undefined {
    if (!this.window) return undefined
    const now = this.now()
    const waitMs = this.window.waitMs(now, servers)
    if (waitMs > 0) {
      this.counts.throttled++
      return {
        status: 429,
        body: gatewayError('APIG.0308', THROTTLED_MESSAGE),
        headers: { 'Retry-After': String(Math.ceil(waitMs / 1000)) }
      }
    }
    this.window.add(now, servers)
    return undefined
  }

  private isUnknownServer(serverId: string): boolean {
    return this.knownServers !== undefined && !this.knownServers.has(serverId)
  }

  /**
   * `POST /v2.1/{project_id}/servers/{server_id}/action` with `{"reboot":{"type":"SOFT"|"HARD"}}`:
   * 202 with no body, one restart counted. Unknown servers get Nova's 404 itemNotFound (in either
   * `unknownServers` mode), `rejectServers` their status and ECS error, bad bodies 400 badRequest.
   */
  private novaAction(serverId: string, body: string): Reply {
    const bad = (message: string): Reply => ({ status: 400, body: novaError('badRequest', 400, message) })
    const parsed = parseBody(body)
    if (parsed === NOT_JSON) return bad('Malformed request body')
    if (!isPlainObject(parsed) || Object.keys(parsed).length !== 1 || !isPlainObject(parsed.reboot)) {
      return bad('Invalid input for the action: the emulator supports only {"reboot":{"type":"SOFT"|"HARD"}}.')
    }
    const type = parsed.reboot.type
    if (typeof type !== 'string' || !NOVA_REBOOT_TYPES.has(type)) {
      return bad("Invalid input for field/attribute type. Value must be one of 'SOFT', 'HARD'.")
    }
    if (this.isUnknownServer(serverId)) {
      return { status: 404, body: novaError('itemNotFound', 404, `Instance ${serverId} could not be found.`) }
    }
    const rejection = this.rejectServers.get(serverId)
    if (rejection) return { status: rejection.status, body: ecsError(rejection.code, rejection.reason) }
    const throttled = this.throttle(1)
    if (throttled) return throttled
    this.lastRestarts.set(serverId, {
      at: this.now(),
      hard: type.toUpperCase() === 'HARD',
      failure: this.serverFailures.get(serverId)
    })
    this.countRestart(serverId)
    return { status: 202 }
  }

  /**
   * `GET /v2.1/{project_id}/servers/{server_id}`: `{"server":{"id","status"}}`, the status being
   * `REBOOT` (`HARD_REBOOT`) until `jobDurationMs` after its last restart (batch or Nova), then
   * `ACTIVE`, or `ERROR` (with a `fault`) for a server in `serverFailures`.
   */
  private novaServer(serverId: string): Reply {
    if (this.isUnknownServer(serverId)) {
      return { status: 404, body: novaError('itemNotFound', 404, `Instance ${serverId} could not be found.`) }
    }
    const restart = this.lastRestarts.get(serverId)
    const server: Record<string, unknown> = { id: serverId, status: 'ACTIVE' }
    if (restart && this.now() - restart.at < this.jobDurationMs) {
      server.status = restart.hard ? 'HARD_REBOOT' : 'REBOOT'
    } else if (restart?.failure) {
      server.status = 'ERROR'
      server.fault = { code: 500, message: restart.failure.reason }
    }
    return { status: 200, body: { server } }
  }

  private queryJob(projectId: string, jobId: string): Reply {
    const job = this.jobs.get(jobId)
    if (!job || job.projectId !== projectId) {
      return { status: 400, body: ecsError('Common.0011', 'Failed to query system tasks.') }
    }
    const elapsed = this.now() - job.submittedAt
    const types = JOB_TYPES[job.action]
    const beginTime = new Date(job.submittedAt).toISOString()
    const terminal = elapsed >= this.jobDurationMs
    const endTime = terminal ? new Date(job.submittedAt + this.jobDurationMs).toISOString() : null

    if (!terminal && elapsed < this.jobDurationMs * 0.2) {
      return {
        status: 200,
        body: {
          status: 'INIT',
          job_id: job.id,
          job_type: types.job,
          begin_time: beginTime,
          end_time: null,
          error_code: null,
          fail_reason: null,
          entities: { sub_jobs_total: 0, sub_jobs: [] }
        }
      }
    }

    // Sub-job ids derive from the job id and the index, so nothing per server is stored.
    const prefix = job.id.slice(0, 24)
    const subJobs = new Array<object>(job.servers.length)
    for (let i = 0; i < job.servers.length; i++) {
      const failure = terminal ? job.failures.get(i) : undefined
      subJobs[i] = {
        status: terminal ? (failure ? 'FAIL' : 'SUCCESS') : 'RUNNING',
        job_id: prefix + i.toString(16).padStart(8, '0'),
        job_type: types.subJob,
        begin_time: beginTime,
        end_time: endTime,
        error_code: failure?.code ?? null,
        fail_reason: failure?.reason ?? null,
        entities: failure
          ? { server_id: job.servers[i], errorcode_message: failure.reason }
          : { server_id: job.servers[i] }
      }
    }
    const failure = terminal ? job.firstFailure : undefined
    return {
      status: 200,
      body: {
        status: terminal ? (failure ? 'FAIL' : 'SUCCESS') : 'RUNNING',
        job_id: job.id,
        job_type: types.job,
        begin_time: beginTime,
        end_time: endTime,
        error_code: failure?.code ?? null,
        fail_reason: failure?.reason ?? null,
        entities: { sub_jobs_total: job.servers.length, sub_jobs: subJobs }
      }
    }
  }
}

const ROUTE_PATTERNS: Record<Exclude<RouteName, 'projects'>, RegExp> = {
  submit: V1_SUBMIT,
  job: V1_JOB,
  'nova-action': NOVA_ACTION,
  'nova-server': NOVA_SERVER,
  list: V1_LIST,
  server: V1_SERVER
}

function isIdentityRoute(route: RouteName | IdentityRouteName | 'unknown'): route is IdentityRouteName {
  return route === 'id-token' || route === 'password-token' || route === 'github-oidc'
}

function routeOf(method: string, pathname: string): RouteName | IdentityRouteName | 'unknown' {
  if (method === 'POST' && pathname === ID_TOKEN_PATH) return 'id-token'
  if (method === 'POST' && pathname === PASSWORD_TOKEN_PATH) return 'password-token'
  if (method === 'GET' && pathname === GITHUB_OIDC_PATH) return 'github-oidc'
  if (method === 'POST' && V1_SUBMIT.test(pathname)) return 'submit'
  if (method === 'GET' && V1_JOB.test(pathname)) return 'job'
  if (method === 'GET' && V1_LIST.test(pathname)) return 'list'
  // `cloudservers/action` is only for POST.
  if (method === 'GET' && V1_SERVER.test(pathname) && !pathname.endsWith('/cloudservers/action')) return 'server'
  if (method === 'GET' && pathname === '/v3/projects') return 'projects'
  if (method === 'POST' && NOVA_ACTION.test(pathname)) return 'nova-action'
  // `servers/detail` is Nova's list route, not a server.
  if (method === 'GET' && NOVA_SERVER.test(pathname) && !pathname.endsWith('/servers/detail')) return 'nova-server'
  return 'unknown'
}

/** IAM's time format, e.g. `2020-01-08T03:50:07.574000Z` (microseconds). */
function iamTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z')
}

/** A base64url JWT part as a JSON object, or undefined. */
function jwtPart(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
    return isPlainObject(value) ? value : undefined
  } catch {
    return undefined
  }
}

/** `{"scope":{"project":{"id"|"name"}}}` of a token request; absent -> unscoped. */
function parseScope(scope: unknown): Scope {
  if (scope === undefined) return {}
  if (!isPlainObject(scope) || !isPlainObject(scope.project)) {
    return {
      error: 'scope must be {"project":{"id":…}} or {"project":{"name":…}}; the emulator supports no other scope.'
    }
  }
  const { id, name } = scope.project
  if ((id !== undefined && typeof id !== 'string') || (name !== undefined && typeof name !== 'string')) {
    return { error: 'scope.project.id and scope.project.name must be strings.' }
  }
  if (id === undefined && name === undefined) return { error: 'scope.project needs an id or a name.' }
  return { project: { id, name } }
}

function describeScope(scope: { project?: { id?: string; name?: string } }): string {
  const { id, name } = scope.project ?? {}
  return [id === undefined ? '' : `id ${id}`, name === undefined ? '' : `name ${name}`].filter(Boolean).join(', ')
}

function decodeSafely(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8')
  const right = Buffer.from(b, 'utf8')
  if (left.length !== right.length) {
    // Compare anyway so the time does not depend on where the strings differ.
    timingSafeEqual(left, left)
    return false
  }
  return timingSafeEqual(left, right)
}
