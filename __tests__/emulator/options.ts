/**
 * The emulator's public vocabulary: its options, what it records and counts, the faults it can be
 * told to play, and the constants tests share. Every other module of the emulator depends on this
 * one; it depends on none of them.
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { KeyObject } from 'node:crypto'
import type { LoadBalancingOptions, LoadBalancingRouteName } from './lb-options'

export type * from './lb-options'

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
  /** `key=value` or a bare `key`; an empty value (`key=`) is listed bare, as the API does. */
  tags?: string[]
  enterpriseProjectId?: string
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

/** `LoadBalancingOptions` (lb-options.ts): ELB load balancers, Auto Scaling groups, traffic. */
export interface EmulatorOptions extends LoadBalancingOptions {
  /**
   * The project's servers for `GET /v1/{project_id}/cloudservers/detail` (newest first; pages by
   * `marker`, the ID of the last server of the previous page, or by the deprecated `offset`, a page
   * number; `limit` at most 1000, default 25; optional `enterprise_project_id`) and
   * `GET /v1/{project_id}/cloudservers/{server_id}`. When set (and `servers` is not), only these
   * servers exist. Their state follows the actions: a server not in the state an action needs
   * (ACTIVE for reboot and os-stop, SHUTOFF for os-start) fails its sub-job with Ecs.0100; an
   * accepted one runs a task (`OS-EXT-STS:task_state` reboot_started, reboot_started_hard,
   * powering-off or powering-on) for the job and `taskSettleMs` more: meanwhile it shows
   * REBOOT/HARD_REBOOT (reboot), or keeps ACTIVE (os-stop) or SHUTOFF (os-start), and is in the
   * wrong state for another action; then ACTIVE (reboot, os-start) or SHUTOFF (os-stop), task null.
   * List and detail answers carry `OS-EXT-STS:vm_state`, `task_state`, `power_state` and `locked`.
   * `setServerStatus()` changes one at any time.
   */
  inventory?: EmulatorServer[]
  /**
   * The inventory changes while it is listed: after each page of the list is served, the `delete`
   * servers listed first are deleted (they stay valid markers), then `create` new servers are
   * created, listed first as the newest. Page numbers then skip a server per deletion; `marker`
   * paging skips none.
   */
  churnWhileListing?: { create?: number; delete?: number }
  /**
   * How long a server's task (see `inventory`) outlasts its job, per `now()`: right after a stop job
   * reported SUCCESS, the server still shows ACTIVE with task powering-off. Default 100 (harsher
   * than a cloud that settles at once); 0 settles with the job. `start()` throws a RangeError unless
   * it is a finite number >= 0.
   */
  taskSettleMs?: number
  /**
   * For this long after a submission (per `now()`), a query of the new job is answered 400
   * `Common.0011` as for an unknown job, as a cloud whose jobs become visible late would. Default 0.
   * `start()` throws a RangeError unless it is a finite number >= 0.
   */
  jobHiddenMs?: number
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
   * `APIG.0308` "The throttling threshold has been reached." and nothing is restarted; no source
   * shows the cloud sending `Retry-After`, so the answer has none unless `retryAfter` is true (then
   * the whole seconds, rounded up, until it would fit). A request of more servers than the limit
   * fits only into an empty window. `os-start` and `os-stop` count like `reboot`.
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
   * Extension (temporary keys): how long the keys of `POST /v3.0/OS-CREDENTIAL/securitytokens` stay
   * valid, whatever `duration_seconds` (still checked against 900-86400) asked for; for runs that
   * outlive their keys. Default: `duration_seconds`.
   */
  temporaryKeyLifetimeMs?: number
  /**
   * Extension (OIDC): answer `GET /_github/oidc/token?audience=…` (see GITHUB_OIDC_PATH) as GitHub's
   * OIDC token service does for `@actions/core`'s `getIDToken()`: with `Authorization: Bearer
   * {requestToken}`, `{"value":"<RS256 JWT>"}`. `githubOidcEnv()` gives the two environment
   * variables that point `getIDToken()` here. Default unset: that route answers 404.
   */
  githubOidc?: EmulatorGithubOidc
  /**
   * Extension (proxy and custom-CA tests): serve HTTPS with this PEM private key and certificate
   * (a leaf, optionally followed by its chain) instead of HTTP; `url` is then `https://127.0.0.1:{port}`.
   * Default unset: plain HTTP.
   */
  tls?: { key: string; cert: string }
}

/** Servers restarted per sliding window; see `EmulatorOptions.rateLimit`. */
export interface RateLimit {
  servers: number
  windowMs: number
  /** Send `Retry-After` on throttled answers; default false (as far as any source shows, the cloud does not). */
  retryAfter?: boolean
}

/** What `counters()` returns: a summary that costs no memory per request. */
export interface EmulatorCounters {
  /**
   * Requests received per route, counted on arrival. The identity routes ('id-token',
   * 'password-token', 'github-oidc') show up only once such a request has arrived.
   */
  requests: Record<RouteName | 'unknown', number> & Partial<Record<IdentityRouteName | LoadBalancingRouteName, number>>
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
/** `POST`: temporary access keys and a security token for a token, route 'securitytokens'. */
export const SECURITY_TOKENS_PATH = '/v3.0/OS-CREDENTIAL/securitytokens'
/** The `duration_seconds` IAM accepts for temporary keys: 15 minutes to 24 hours. */
export const TEMPORARY_KEY_DURATION_SECONDS = { min: 900, max: 86400 } as const
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
 * (PASSWORD_TOKEN_PATH), 'github-oidc' (GITHUB_OIDC_PATH), and 'securitytokens'
 * (SECURITY_TOKENS_PATH), which checks its `X-Auth-Token` itself. Faults can be injected on them too.
 */
export type IdentityRouteName = 'id-token' | 'password-token' | 'github-oidc' | 'securitytokens'

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
  route: RouteName | IdentityRouteName | LoadBalancingRouteName | 'unknown'
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

/** Throws the RangeError (or TypeError) `EcsEmulator.start()` documents for an option out of range. */
export function validateOptions(options: EmulatorOptions): void {
  for (const [id, { status }] of Object.entries(options.rejectServers ?? {})) {
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new RangeError(`rejectServers[${JSON.stringify(id)}].status must be an integer in 400-599, not ${status}`)
    }
  }
  const { rateLimit } = options
  for (const name of ['latencyMs', 'taskSettleMs', 'jobHiddenMs'] as const) {
    const value = options[name]
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
      throw new RangeError(`${name} must be a finite number >= 0, not ${value}`)
    }
  }
  if (rateLimit !== undefined) {
    if (!Number.isInteger(rateLimit.servers) || rateLimit.servers < 1) {
      throw new RangeError(`rateLimit.servers must be a positive integer, not ${rateLimit.servers}`)
    }
    if (!(Number.isFinite(rateLimit.windowMs) && rateLimit.windowMs > 0)) {
      throw new RangeError(`rateLimit.windowMs must be a positive finite number, not ${rateLimit.windowMs}`)
    }
  }
  const { tokenLifetimeMs, temporaryKeyLifetimeMs, githubOidc } = options
  for (const [name, value] of Object.entries({ tokenLifetimeMs, temporaryKeyLifetimeMs })) {
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
      throw new RangeError(`${name} must be a positive finite number, not ${value}`)
    }
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
}
