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

/**
 * `POST /v3.0/OS-AUTH/id-token/tokens`: a project-scoped token for the workflow's OIDC ID token,
 * through the identity provider `idpId` (its identity conversion rules decide the permissions).
 */
export async function tokenFromIdToken(
  api: ApiClient,
  iamEndpoint: URL,
  idpId: string,
  idToken: string,
  scope: ProjectScope
): Promise<IssuedToken> {
  const what = `Signing in through identity provider ${idpId}`
  const response = await api.request({
    what,
    method: 'POST',
    endpoint: iamEndpoint,
    path: '/v3.0/OS-AUTH/id-token/tokens',
    headers: { 'X-Idp-Id': idpId },
    body: { auth: { id_token: { id: idToken }, scope: { project: scope } } },
    idempotent: true
  })
  return issued(response, what)
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
  const response = await api.request({
    what,
    method: 'POST',
    endpoint: iamEndpoint,
    path: '/v3/auth/tokens',
    body: { auth: { identity, scope: { project: scope } } },
    idempotent: true
  })
  return issued(response, what)
}

/** One sentence on what to fix when signing in with a token fails. */
export function signInHint(error: ApiError, mode: 'oidc' | 'password'): string {
  const text = `${error.code ?? ''} ${error.apiMessage ?? ''}`.toLowerCase()
  if (mode === 'password') {
    return error.status === 401
      ? 'Check iam-username, iam-password and iam-domain (the account name); users with login protection (MFA) cannot sign in by password.'
      : 'Check that the IAM user may access the project named by project-id or region.'
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
    return 'Check idp-id: it must be the ID of an identity provider in IAM with the OpenID Connect protocol.'
  if (error.status === 403)
    return "The identity conversion rules give this workflow's identity no access to the project; check them."
  return 'See the README section on GitHub OIDC sign-in.'
}
