/** IAM: the project lookup, and tokens by OIDC ID token and by password. */
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_DOMAIN_ID,
  DEFAULT_PROJECT_ID,
  DEFAULT_REGION,
  iamError,
  ID_TOKEN_PATH,
  keystoneError,
  PASSWORD_TOKEN_PATH
} from '.'
import { call, manualClock, rebootBody, SUBMIT_PATH, useEmulators } from '../support/emulator-calls'
import {
  CLIENT_ID,
  exchangeIdToken,
  exchangePassword,
  IAM_USER,
  identityOptions,
  IDP_ID,
  idTokenClaims,
  OIDC,
  OTHER_KEY,
  OTHER_PROJECT,
  OTHER_PROJECT_ID,
  SUBJECT,
  tokenCall,
  type TokenBody
} from '../support/identity'
import { signJwt } from '../support/oidc'

const startEmulator = useEmulators()

describe('IAM project lookup', () => {
  it('lists the project of a region and nothing for an unknown name', async () => {
    const emulator = await startEmulator()
    const found = await call(emulator, `/v3/projects?name=${DEFAULT_REGION}`)
    expect(found.status).toBe(200)
    expect(found.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/)
    const body = (await found.json()) as { projects: object[]; links: object }
    expect(body.projects).toEqual([
      expect.objectContaining({
        id: DEFAULT_PROJECT_ID,
        name: DEFAULT_REGION,
        enabled: true,
        domain_id: expect.any(String)
      })
    ])
    expect(body.links).toBeTypeOf('object')
    expect(emulator.requests[0]).toMatchObject({ route: 'projects', signatureValid: true })
    expect(emulator.requests[0].query.get('name')).toBe(DEFAULT_REGION)
    expect(emulator.requests[0].headers['x-project-id']).toBeUndefined()

    const none = await call(emulator, '/v3/projects?name=cn-north-4')
    expect(none.status).toBe(200)
    expect(((await none.json()) as { projects: object[] }).projects).toEqual([])
  })

  it('uses the configured projects', async () => {
    const emulator = await startEmulator({ projects: { 'cn-north-4': 'aaaa', 'cn-north-4_sub': 'bbbb' } })
    const response = await call(emulator, '/v3/projects?name=cn-north-4_sub')
    expect(((await response.json()) as { projects: { id: string }[] }).projects.map((p) => p.id)).toEqual(['bbbb'])
    const defaultRegion = await call(emulator, `/v3/projects?name=${DEFAULT_REGION}`)
    expect(((await defaultRegion.json()) as { projects: object[] }).projects).toEqual([])
  })
})

describe('IAM token by OIDC ID token (POST /v3.0/OS-AUTH/id-token/tokens)', () => {
  it('verifies the JWT and answers 201 with a project-scoped token in X-Subject-Token', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(identityOptions(clock))
    const jwt = signJwt(idTokenClaims(clock.now()), OIDC.privateKey, OIDC.kid)
    const response = await exchangeIdToken(emulator, jwt)

    expect(response.status).toBe(201)
    const token = response.headers.get('x-subject-token') ?? ''
    expect(token).toMatch(/^MII[A-Za-z0-9_-]{100,}$/)
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/)
    const body = (await response.json()) as TokenBody
    expect(body.token).toMatchObject({
      issued_at: '2024-01-02T03:04:05.000000Z',
      expires_at: '2024-01-03T03:04:05.000000Z',
      methods: ['mapped'],
      project: { id: DEFAULT_PROJECT_ID, name: DEFAULT_REGION, domain: { id: DEFAULT_DOMAIN_ID } },
      user: {
        name: SUBJECT,
        domain: { id: DEFAULT_DOMAIN_ID },
        'OS-FEDERATION': { identity_provider: { id: IDP_ID }, protocol: { id: 'oidc' } }
      }
    })
    expect(emulator.issuedTokens()).toEqual([token])
    expect(emulator.requests[0]).toMatchObject({
      route: 'id-token',
      status: 201,
      signatureValid: false,
      authenticatedBy: 'none'
    })
  })

  it('takes the project by id, an aud array that contains the client_id, and 60 s of clock skew', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(identityOptions(clock))
    const seconds = Math.floor(clock.now() / 1000)
    const claims = idTokenClaims(clock.now(), {
      aud: ['someone-else', CLIENT_ID],
      exp: seconds - 30,
      nbf: seconds + 30,
      iat: seconds + 30
    })
    const response = await exchangeIdToken(emulator, signJwt(claims, OIDC.privateKey, OIDC.kid), {
      scope: { project: { id: OTHER_PROJECT_ID } }
    })
    expect(response.status).toBe(201)
    expect(((await response.json()) as TokenBody).token.project).toMatchObject({
      id: OTHER_PROJECT_ID,
      name: OTHER_PROJECT
    })
  })

  const now = manualClock().now()
  const seconds = Math.floor(now / 1000)
  const valid = (): Record<string, unknown> => idTokenClaims(now)
  const [validHeader, validPayload] = signJwt(valid(), OIDC.privateKey, OIDC.kid).split('.')
  const failures: [string, () => string, string][] = [
    [
      'a signature by another key with the same kid',
      () => signJwt(valid(), OTHER_KEY.privateKey, OIDC.kid),
      'Invalid ID token signature.'
    ],
    [
      'claims changed after signing',
      () => {
        const forged = Buffer.from(JSON.stringify({ ...valid(), sub: 'repo:evil/fork:ref:refs/heads/main' }))
        const [header, , signature] = signJwt(valid(), OIDC.privateKey, OIDC.kid).split('.')
        return `${header}.${forged.toString('base64url')}.${signature}`
      },
      'Invalid ID token signature.'
    ],
    [
      'a wrong audience',
      () => signJwt(idTokenClaims(now, { aud: 'sts.amazonaws.com' }), OIDC.privateKey, OIDC.kid),
      "The ID token audience does not match the identity provider's client_id."
    ],
    [
      'no audience',
      () => signJwt(idTokenClaims(now, { aud: undefined }), OIDC.privateKey, OIDC.kid),
      "The ID token audience does not match the identity provider's client_id."
    ],
    [
      'a wrong issuer',
      () => signJwt(idTokenClaims(now, { iss: 'https://evil.example.com' }), OIDC.privateKey, OIDC.kid),
      "The ID token issuer does not match the identity provider's issuer."
    ],
    [
      'an expired token',
      () =>
        signJwt(
          idTokenClaims(now, { iat: seconds - 3600, nbf: seconds - 3600, exp: seconds - 61 }),
          OIDC.privateKey,
          OIDC.kid
        ),
      'The ID token has expired.'
    ],
    [
      'no exp',
      () => signJwt(idTokenClaims(now, { exp: undefined }), OIDC.privateKey, OIDC.kid),
      'The ID token has no valid exp claim.'
    ],
    [
      'an nbf in the future',
      () => signJwt(idTokenClaims(now, { nbf: seconds + 120 }), OIDC.privateKey, OIDC.kid),
      'The ID token is not valid yet: its nbf is in the future.'
    ],
    [
      'an iat in the future',
      () => signJwt(idTokenClaims(now, { iat: seconds + 120, nbf: undefined }), OIDC.privateKey, OIDC.kid),
      'The ID token is not valid yet: its iat is in the future.'
    ],
    [
      'no sub',
      () => signJwt(idTokenClaims(now, { sub: undefined }), OIDC.privateKey, OIDC.kid),
      'The ID token has no sub claim.'
    ],
    [
      'an unknown kid',
      () => signJwt(valid(), OIDC.privateKey, 'gh-key-2'),
      "The ID token's key id (kid gh-key-2) is not among the identity provider's signing keys."
    ],
    [
      'no kid',
      () => signJwt(valid(), OIDC.privateKey, OIDC.kid, { kid: undefined }),
      "The ID token's key id (kid missing) is not among the identity provider's signing keys."
    ],
    [
      'alg none',
      () =>
        `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT', kid: OIDC.kid })).toString('base64url')}.${validPayload}.AAAA`,
      'The ID token algorithm none is not supported; only RS256 is.'
    ],
    [
      'two parts',
      () => `${validHeader}.${validPayload}`,
      'The ID token is malformed: it must be three base64url parts separated by dots.'
    ],
    [
      'a part that is not base64url',
      () => `${validHeader}.${validPayload}.not+base64/url=`,
      'The ID token is malformed: it must be three base64url parts separated by dots.'
    ],
    [
      'a payload that is not JSON',
      () => `${validHeader}.${Buffer.from('not json').toString('base64url')}.AAAA`,
      'The ID token is malformed: its header and payload must be JSON objects.'
    ]
  ]

  it.each(failures)('rejects %s with 401 IAM.0001 and issues no token', async (_, jwt, message) => {
    const clock = manualClock()
    const emulator = await startEmulator(identityOptions(clock))
    const response = await exchangeIdToken(emulator, jwt())
    expect(response.status).toBe(401)
    expect(response.headers.get('x-subject-token')).toBeNull()
    expect(await response.json()).toEqual(iamError('IAM.0001', message))
    expect(emulator.issuedTokens()).toEqual([])
  })

  it('answers 404 IAM.0004 for an unknown or missing X-Idp-Id, and for an unknown project', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(identityOptions(clock))
    const jwt = signJwt(idTokenClaims(clock.now()), OIDC.privateKey, OIDC.kid)

    const unknown = await exchangeIdToken(emulator, jwt, { idpId: 'gitlab' })
    expect(unknown.status).toBe(404)
    expect(await unknown.json()).toEqual(iamError('IAM.0004', 'The identity provider gitlab does not exist.'))
    const missing = await exchangeIdToken(emulator, jwt, { idpId: null })
    expect(missing.status).toBe(404)
    expect(await missing.json()).toEqual(iamError('IAM.0004', 'The request header X-Idp-Id is missing.'))
    const noProject = await exchangeIdToken(emulator, jwt, { scope: { project: { name: 'cn-north-4' } } })
    expect(noProject.status).toBe(404)
    expect(await noProject.json()).toEqual(iamError('IAM.0004', 'The project name cn-north-4 does not exist.'))
    const mismatched = await exchangeIdToken(emulator, jwt, {
      scope: { project: { id: OTHER_PROJECT_ID, name: DEFAULT_REGION } }
    })
    expect(mismatched.status).toBe(404)
    expect(emulator.issuedTokens()).toEqual([])
  })

  it('answers 400 IAM.0011 for a body without auth.id_token.id or with an unsupported scope', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(identityOptions(clock))
    const post = (body: string): Promise<Response> =>
      fetch(new URL(ID_TOKEN_PATH, emulator.url), { method: 'POST', headers: { 'x-idp-id': IDP_ID }, body })
    for (const body of [
      'not json',
      '{}',
      '{"auth":{"id_token":{}}}',
      '{"auth":{"id_token":{"id":"x.y.z"},"scope":{"domain":{"name":"octo"}}}}'
    ]) {
      const response = await post(body)
      expect(response.status).toBe(400)
      expect(await response.json()).toMatchObject({
        error_code: 'IAM.0011',
        error_msg: expect.stringMatching(/^Invalid request body: /)
      })
    }
  })

  it('issues an unscoped token without a scope, which authenticates neither the project lookup nor /v1 routes', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(identityOptions(clock))
    const response = await exchangeIdToken(emulator, signJwt(idTokenClaims(clock.now()), OIDC.privateKey, OIDC.kid), {
      scope: undefined
    })
    expect(response.status).toBe(201)
    expect(((await response.json()) as TokenBody).token.project).toBeUndefined()
    const token = response.headers.get('x-subject-token') ?? ''
    expect((await tokenCall(emulator, `/v3/projects?name=${DEFAULT_REGION}`, token)).status).toBe(401)
    const submitted = await tokenCall(emulator, SUBMIT_PATH, token, { body: rebootBody(['srv-a']) })
    expect(submitted.status).toBe(401)
    expect(await submitted.json()).toMatchObject({
      error_msg: expect.stringContaining('an unscoped token cannot be used for authentication')
    })
    expect(emulator.restartCount('srv-a')).toBe(0)
  })

  it('answers 404 IAM.0004 when no identity provider is configured', async () => {
    const emulator = await startEmulator()
    const response = await exchangeIdToken(emulator, signJwt(idTokenClaims(Date.now()), OIDC.privateKey, OIDC.kid))
    expect(response.status).toBe(404)
    expect(await response.json()).toMatchObject({ error_code: 'IAM.0004' })
  })
})

describe('IAM token by password (POST /v3/auth/tokens)', () => {
  it('answers 201 with a project-scoped token for the right user, password and domain', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(identityOptions(clock))
    const response = await exchangePassword(emulator)
    expect(response.status).toBe(201)
    const token = response.headers.get('x-subject-token') ?? ''
    expect(token).toMatch(/^MII/)
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/)
    expect(((await response.json()) as TokenBody).token).toMatchObject({
      issued_at: '2024-01-02T03:04:05.000000Z',
      expires_at: '2024-01-03T03:04:05.000000Z',
      methods: ['password'],
      project: { id: DEFAULT_PROJECT_ID, name: DEFAULT_REGION },
      user: { name: IAM_USER.name, domain: { id: DEFAULT_DOMAIN_ID, name: IAM_USER.domain } }
    })
    const byId = await exchangePassword(emulator, IAM_USER, { project: { id: OTHER_PROJECT_ID } })
    expect(byId.status).toBe(201)
    expect(((await byId.json()) as TokenBody).token.project?.name).toBe(OTHER_PROJECT)
    expect(emulator.issuedTokens()).toEqual([token, byId.headers.get('x-subject-token')])
    expect(emulator.requests.map((r) => [r.route, r.status, r.authenticatedBy])).toEqual([
      ['password-token', 201, 'none'],
      ['password-token', 201, 'none']
    ])
  })

  it.each([
    ['a wrong password', { ...IAM_USER, password: 'Tr0ub4dor&3' }],
    ['an unknown user', { ...IAM_USER, name: 'someone' }],
    ['a wrong domain', { ...IAM_USER, domain: 'other-account' }]
  ])('answers 401 in the Keystone shape for %s', async (_, user) => {
    const emulator = await startEmulator(identityOptions(manualClock()))
    const response = await exchangePassword(emulator, user)
    expect(response.status).toBe(401)
    expect(await response.json()).toEqual({
      error: { code: 401, message: 'The username or password is wrong.', title: 'Unauthorized' }
    })
    expect(emulator.issuedTokens()).toEqual([])
  })

  it('answers 400 for a malformed body and 404 for an unknown project, in the Keystone shape', async () => {
    const emulator = await startEmulator(identityOptions(manualClock()))
    const malformed = await fetch(new URL(PASSWORD_TOKEN_PATH, emulator.url), {
      method: 'POST',
      body: '{"auth":{"identity":{"methods":["token"]}}}'
    })
    expect(malformed.status).toBe(400)
    expect(await malformed.json()).toMatchObject({ error: { code: 400, title: 'Bad Request' } })
    const unknown = await exchangePassword(emulator, IAM_USER, { project: { name: 'cn-north-4' } })
    expect(unknown.status).toBe(404)
    expect(await unknown.json()).toEqual(keystoneError(404, 'Not Found', 'Could not find project: name cn-north-4.'))
    expect(emulator.issuedTokens()).toEqual([])
  })
})
