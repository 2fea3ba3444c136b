/** The identity side of the emulator's tests: an OIDC provider, an IAM user, and token requests. */
import { expect } from 'vitest'
import {
  DEFAULT_PROJECT_ID,
  DEFAULT_REGION,
  ID_TOKEN_PATH,
  PASSWORD_TOKEN_PATH,
  type EcsEmulator,
  type EmulatorOptions
} from '../emulator'
import { createOidcFixture, signJwt } from './oidc'

/** Two RSA keys: the identity provider's, and one it does not know. */
export const OIDC = createOidcFixture({ kid: 'gh-key-1' })
export const OTHER_KEY = createOidcFixture({ kid: 'gh-key-1' })
export const IDP_ID = 'github-actions'
export const CLIENT_ID = 'ecs-batch-restart'
export const SUBJECT = 'repo:octo/fleet:ref:refs/heads/main'
export const OTHER_PROJECT = 'eu-west-101'
export const OTHER_PROJECT_ID = 'abcdefabcdefabcdefabcdefabcdefab'
export const IAM_USER = { domain: 'octo-account', name: 'restarter', password: 'correct horse battery staple' }
export const GITHUB_REQUEST_TOKEN = 'github-request-token-0000'

/** Options with the identity provider, an IAM user, two projects and GitHub's OIDC service. */
export function identityOptions(clock: { now: () => number }, extra: EmulatorOptions = {}): EmulatorOptions {
  return {
    now: clock.now,
    projects: { [DEFAULT_REGION]: DEFAULT_PROJECT_ID, [OTHER_PROJECT]: OTHER_PROJECT_ID },
    identityProviders: { [IDP_ID]: { issuer: OIDC.issuer, clientId: CLIENT_ID, jwks: OIDC.publicJwks } },
    iamUsers: [IAM_USER],
    githubOidc: { issuer: OIDC.issuer, requestToken: GITHUB_REQUEST_TOKEN, privateKey: OIDC.privateKey, kid: OIDC.kid },
    ...extra
  }
}

/** The claims of a valid GitHub-like ID token at `now` (ms), with overrides. */
export function idTokenClaims(now: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const seconds = Math.floor(now / 1000)
  return {
    iss: OIDC.issuer,
    sub: SUBJECT,
    aud: CLIENT_ID,
    iat: seconds,
    nbf: seconds,
    exp: seconds + 300,
    ...overrides
  }
}

export type ProjectScope = { project: { id?: string; name?: string } } | undefined

export function exchangeIdToken(
  emulator: Pick<EcsEmulator, 'url'>,
  jwt: string,
  options: { idpId?: string | null; scope?: ProjectScope } = {}
): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json;charset=UTF-8' }
  if (options.idpId !== null) headers['x-idp-id'] = options.idpId ?? IDP_ID
  const scope = 'scope' in options ? options.scope : { project: { name: DEFAULT_REGION } }
  return fetch(new URL(ID_TOKEN_PATH, emulator.url), {
    method: 'POST',
    headers,
    body: JSON.stringify({ auth: { id_token: { id: jwt }, ...(scope ? { scope } : {}) } })
  })
}

export function exchangePassword(
  emulator: Pick<EcsEmulator, 'url'>,
  user: { domain: string; name: string; password: string } = IAM_USER,
  scope: ProjectScope = { project: { name: DEFAULT_REGION } }
): Promise<Response> {
  const body = {
    auth: {
      identity: {
        methods: ['password'],
        password: { user: { name: user.name, password: user.password, domain: { name: user.domain } } }
      },
      scope
    }
  }
  return fetch(new URL(PASSWORD_TOKEN_PATH, emulator.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json;charset=utf8' },
    body: JSON.stringify(body)
  })
}

/** A federated project-scoped token for the default project (the id-token route must answer 201). */
export async function federatedToken(emulator: EcsEmulator, now: number, scope?: ProjectScope): Promise<string> {
  const response = await exchangeIdToken(emulator, signJwt(idTokenClaims(now), OIDC.privateKey, OIDC.kid), {
    scope: scope ?? { project: { name: DEFAULT_REGION } }
  })
  expect(response.status).toBe(201)
  const token = response.headers.get('x-subject-token')
  expect(token).toBeTruthy()
  return token ?? ''
}

/** An unsigned request that authenticates with `X-Auth-Token` only. */
export function tokenCall(
  emulator: Pick<EcsEmulator, 'url'>,
  path: string,
  token: string,
  options: { body?: string; headers?: Record<string, string> } = {}
): Promise<Response> {
  const headers: Record<string, string> = { 'x-auth-token': token, ...options.headers }
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  return fetch(new URL(path, emulator.url), {
    method: options.body === undefined ? 'GET' : 'POST',
    headers,
    body: options.body
  })
}

export interface TokenBody {
  token: {
    expires_at: string
    issued_at: string
    methods: string[]
    project?: { id: string; name: string; domain: { id: string } }
    user: { id: string; name: string; domain: { id: string; name: string }; 'OS-FEDERATION'?: object }
  }
}
