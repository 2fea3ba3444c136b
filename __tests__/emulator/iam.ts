/**
 * IAM: the project lookup (`GET /v3/projects`), tokens by password (`POST /v3/auth/tokens`, users in
 * `iamUsers`) and by OIDC ID token (`POST /v3.0/OS-AUTH/id-token/tokens`, `identityProviders`),
 * and the tokens it issued, which the other routes take as `X-Auth-Token`.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { exactPath, type Route, type Verification } from './core'
import {
  constantTimeEqual,
  headerValue,
  iamError,
  isPlainObject,
  keystoneError,
  newHexId,
  NOT_JSON,
  parseBody,
  type Reply
} from './http'
import { verifyIdToken } from './jwt'
import {
  DEFAULT_DOMAIN_ID,
  DEFAULT_DOMAIN_NAME,
  DEFAULT_PROJECTS,
  DEFAULT_TOKEN_LIFETIME_MS,
  ID_TOKEN_PATH,
  PASSWORD_TOKEN_PATH,
  type EmulatorIamUser,
  type EmulatorIdentityProvider,
  type EmulatorOptions
} from './options'

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

/** IAM's time format, e.g. `2020-01-08T03:50:07.574000Z` (microseconds). */
export function iamTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z')
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

export class IamService {
  private readonly projectsByName: Map<string, string>
  private readonly projectIds: Set<string>
  private readonly identityProviders: Map<string, EmulatorIdentityProvider>
  private readonly iamUsers: EmulatorIamUser[]
  private readonly tokenLifetimeMs: number
  /** Issued tokens by value, in issue order. */
  private readonly tokens = new Map<string, IssuedToken>()

  constructor(
    options: EmulatorOptions,
    private readonly now: () => number,
    /** The emulator's origin, for the links IAM answers with. */
    private readonly origin: () => string
  ) {
    const projects = options.projects ?? DEFAULT_PROJECTS
    this.projectsByName = new Map(Object.entries(projects))
    this.projectIds = new Set(Object.values(projects))
    this.identityProviders = new Map(Object.entries(options.identityProviders ?? {}))
    this.iamUsers = [...(options.iamUsers ?? [])]
    this.tokenLifetimeMs = options.tokenLifetimeMs ?? DEFAULT_TOKEN_LIFETIME_MS
  }

  routes(): Route[] {
    return [
      {
        name: 'projects',
        method: 'GET',
        path: exactPath('/v3/projects'),
        auth: 'account',
        handle: ({ url }) => this.listProjects(url)
      },
      {
        name: 'id-token',
        method: 'POST',
        path: exactPath(ID_TOKEN_PATH),
        auth: 'none',
        handle: ({ req, body }) => this.idTokenAuth(req, body)
      },
      {
        name: 'password-token',
        method: 'POST',
        path: exactPath(PASSWORD_TOKEN_PATH),
        auth: 'none',
        handle: ({ body }) => this.passwordAuth(body)
      }
    ]
  }

  hasProject(projectId: string): boolean {
    return this.projectIds.has(projectId)
  }

  /** Every token issued so far, in issue order, expired ones included. */
  issuedTokens(): string[] {
    return [...this.tokens.keys()]
  }

  /** Makes every token issued so far expired at once. */
  expireTokens(): void {
    for (const token of this.tokens.values()) token.expired = true
  }

  /**
   * `X-Auth-Token` without `Authorization`: a token this emulator issued and that has not expired.
   * An unscoped token authenticates nothing but the IAM calls that allow it (`allowUnscoped`), as
   * IAM documents ("unscoped tokens cannot be used for authentication").
   */
  verifyToken(value: string, { allowUnscoped = false } = {}): Verification {
    const token = this.tokens.get(value)
    if (token === undefined) {
      return { ok: false, by: 'token', message: 'Incorrect IAM authentication information: decrypt token fail' }
    }
    if (token.expired || this.now() >= token.expiresAt) {
      return { ok: false, by: 'token', code: 'APIG.0307', message: 'The token must be updated.' }
    }
    if (token.project === undefined && !allowUnscoped) {
      return {
        ok: false,
        by: 'token',
        message: 'Incorrect IAM authentication information: an unscoped token cannot be used for authentication'
      }
    }
    return { ok: true, by: 'token', message: '', token }
  }

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
        links: { self: `${this.origin()}/v3/projects/${id}` }
      })
    }
    return {
      status: 200,
      body: { projects, links: { self: `${this.origin()}${url.pathname}${url.search}`, previous: null, next: null } },
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

    const verified = verifyIdToken(idToken, idp, this.now())
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
}
