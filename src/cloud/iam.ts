import type { ApiClient, ApiResponse } from './api'
import { ApiError } from './errors'

/** The project a token is scoped to: by ID when known, else the region's default project by name. */
export type ProjectScope = { id: string } | { name: string }

export interface IssuedToken {
  token: string
  /** The project the token is scoped to, from the token's own description. */
  projectId: string | undefined
}

function issued(response: ApiResponse, what: string): IssuedToken {
  const header = response.headers['x-subject-token']
  const token = Array.isArray(header) ? header[0] : header
  if (token === undefined || token === '') {
    throw new ApiError(
      response.status,
      undefined,
      'IAM answered without an X-Subject-Token header',
      response.requestId,
      what
    )
  }
  const project = (response.body as { token?: { project?: { id?: unknown } } } | undefined)?.token?.project
  return { token, projectId: typeof project?.id === 'string' ? project.id : undefined }
}

/** A JSON `POST` to IAM; IAM's sign-in calls may be repeated safely. */
function postToIam(
  api: ApiClient,
  iamEndpoint: URL,
  what: string,
  path: string,
  body: unknown,
  headers?: Record<string, string>
): Promise<ApiResponse> {
  return api.request({ what, method: 'POST', endpoint: iamEndpoint, path, headers, body, idempotent: true })
}

/**
 * `POST /v3.0/OS-AUTH/id-token/tokens` without a scope: an unscoped federated token for the
 * workflow's OIDC ID token, through the identity provider `idpId` (its identity conversion rules
 * decide the permissions). It only buys temporary access keys ({@link temporaryAccessKeys}).
 */
export async function unscopedTokenFromIdToken(
  api: ApiClient,
  iamEndpoint: URL,
  idpId: string,
  idToken: string
): Promise<string> {
  const what = `Exchanging the workflow's ID token at IAM (identity provider ${idpId})`
  const body = { auth: { id_token: { id: idToken } } }
  const response = await postToIam(api, iamEndpoint, what, '/v3.0/OS-AUTH/id-token/tokens', body, {
    'X-Idp-Id': idpId
  })
  return issued(response, what).token
}

/** Temporary access keys: sign with the key pair and send the security token (`X-Security-Token`). */
export interface TemporaryAccessKeys {
  accessKeyId: string
  secretAccessKey: string
  securityToken: string
  /** When IAM stops accepting them, in milliseconds since the epoch. */
  expiresAt: number
}

/** What both SDKs ask for: 6 hours (IAM allows 900 to 86,400 seconds). */
const TEMPORARY_KEYS_DURATION_SECONDS = 6 * 60 * 60

/** IAM's `expires_at`, e.g. `2020-01-08T03:50:07.574000Z` (microseconds); NaN when unreadable. */
export function parseIamTime(text: unknown): number {
  if (typeof text !== 'string') return Number.NaN
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+|)Z$/.exec(text)
  if (!match) return Number.NaN
  return Date.parse(`${match[1]}${match[2].slice(0, 4)}Z`)
}

/**
 * `POST /v3.0/OS-CREDENTIAL/securitytokens` with the token in `X-Auth-Token`: temporary access
 * keys, valid for `durationSeconds`, with the permissions of the token's user.
 */
export async function temporaryAccessKeys(
  api: ApiClient,
  iamEndpoint: URL,
  token: string,
  durationSeconds = TEMPORARY_KEYS_DURATION_SECONDS
): Promise<TemporaryAccessKeys> {
  const what = 'Getting temporary access keys from IAM'
  const body = { auth: { identity: { methods: ['token'], token: { duration_seconds: durationSeconds } } } }
  const response = await postToIam(api, iamEndpoint, what, '/v3.0/OS-CREDENTIAL/securitytokens', body, {
    'X-Auth-Token': token
  })
  const credential = (response.body as { credential?: Record<string, unknown> } | undefined)?.credential
  const { access, secret, securitytoken } = credential ?? {}
  const expiresAt = parseIamTime(credential?.expires_at)
  if (typeof access !== 'string' || typeof secret !== 'string' || typeof securitytoken !== 'string') {
    const problem = 'IAM answered without credential.access, secret and securitytoken'
    throw new ApiError(response.status, undefined, problem, response.requestId, what)
  }
  if (access === '' || secret === '' || securitytoken === '' || Number.isNaN(expiresAt)) {
    const problem = 'IAM answered with an empty key or an unreadable credential.expires_at'
    throw new ApiError(response.status, undefined, problem, response.requestId, what)
  }
  return { accessKeyId: access, secretAccessKey: secret, securityToken: securitytoken, expiresAt }
}

/** `POST /v3/auth/tokens`: a project-scoped token for an IAM user's password. */
export async function tokenFromPassword(
  api: ApiClient,
  iamEndpoint: URL,
  user: { username: string; password: string; domain: string },
  scope: ProjectScope
): Promise<IssuedToken> {
  const what = `Signing in as IAM user ${user.username} of ${user.domain}`
  const identity = {
    methods: ['password'],
    password: { user: { name: user.username, password: user.password, domain: { name: user.domain } } }
  }
  const body = { auth: { identity, scope: { project: scope } } }
  const response = await postToIam(api, iamEndpoint, what, '/v3/auth/tokens', body)
  return issued(response, what)
}

/** Which sign-in step failed: a password token, the ID token exchange, or the temporary keys. */
export type SignInStep = 'password' | 'oidc' | 'temporary-keys'

/** One sentence on what to fix when a sign-in step fails at IAM. */
export function signInHint(error: ApiError, step: SignInStep): string {
  const text = `${error.code ?? ''} ${error.apiMessage ?? ''}`.toLowerCase()
  if (step === 'password') {
    return error.status === 401
      ? 'Check iam-username, iam-password and iam-domain (the account name); users with login protection (MFA) cannot sign in by password.'
      : 'Check that the IAM user may access the project named by project-id or region.'
  }
  if (step === 'temporary-keys') {
    return error.status === 401 || error.status === 403
      ? "IAM refused temporary access keys for the federated identity: the identity provider's access type must allow programmatic access, and the identity conversion rules must map the workflow to a user group."
      : 'IAM could not issue temporary access keys; re-run the job, and see the README section on GitHub OIDC sign-in if it persists.'
  }
  if (text.includes('audience'))
    return "Set oidc-audience to the identity provider's client_id (or the client_id to the default, huaweicloud)."
  if (text.includes('expired'))
    return "The workflow's ID token had expired: re-run the job, and check the clock of a self-hosted runner."
  if (text.includes('issuer'))
    return "The identity provider's idp_url must be https://token.actions.githubusercontent.com."
  if (text.includes('signature') || text.includes('kid')) {
    return "The identity provider's signing_key must hold GitHub's current signing keys (GitHub rotates them): update it from https://token.actions.githubusercontent.com/.well-known/jwks."
  }
  if (error.status === 404)
    return 'Check idp-id: it must be the ID of an identity provider in IAM with the OpenID Connect protocol, on the IAM endpoint used (see iam-endpoint).'
  if (error.status === 403) return "The identity conversion rules give this workflow's identity no access; check them."
  return 'See the README section on GitHub OIDC sign-in.'
}
