/** IAM's temporary access keys (POST /v3.0/OS-CREDENTIAL/securitytokens) and their use on ECS. */
import { describe, expect, it } from 'vitest'
import { DEFAULT_REGION, SECURITY_TOKENS_PATH, type EcsEmulator, type EmulatorOptions } from '.'
import { call, manualClock, rebootBody, SUBMIT_PATH, useEmulators } from '../support/emulator-calls'
import { exchangeIdToken, identityOptions, idTokenClaims, OIDC, tokenCall } from '../support/identity'
import { signJwt } from '../support/oidc'

const startEmulator = useEmulators()

interface CredentialBody {
  credential: { access: string; secret: string; securitytoken: string; expires_at: string }
}

async function unscopedToken(emulator: EcsEmulator, now: number): Promise<string> {
  const jwt = signJwt(idTokenClaims(now), OIDC.privateKey, OIDC.kid)
  const response = await exchangeIdToken(emulator, jwt, { scope: undefined })
  expect(response.status).toBe(201)
  return response.headers.get('x-subject-token') ?? ''
}

/** An emulator with the identity provider on a manual clock, and an unscoped token from it. */
async function withUnscopedToken(extra: EmulatorOptions = {}) {
  const clock = manualClock()
  const emulator = await startEmulator(identityOptions(clock, extra))
  return { clock, emulator, token: await unscopedToken(emulator, clock.now()) }
}

function requestKeys(emulator: EcsEmulator, token: string | undefined, body: unknown): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json;charset=utf8' }
  if (token !== undefined) headers['x-auth-token'] = token
  return fetch(new URL(SECURITY_TOKENS_PATH, emulator.url), {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body)
  })
}

const keysBody = (token: Record<string, unknown> = { duration_seconds: 900 }): unknown => ({
  auth: { identity: { methods: ['token'], token } }
})

describe('temporary access keys (POST /v3.0/OS-CREDENTIAL/securitytokens)', () => {
  it('issues keys for an unscoped token that sign ECS requests with X-Security-Token until expires_at, and not after', async () => {
    const { clock, emulator, token } = await withUnscopedToken()
    const response = await requestKeys(emulator, token, keysBody({ duration_seconds: 900 }))
    expect(response.status).toBe(201)
    const { credential } = (await response.json()) as CredentialBody
    expect(credential.access).toMatch(/^[A-Z0-9]{20}$/)
    expect(credential.expires_at).toBe(new Date(clock.now() + 900_000).toISOString().replace('Z', '000Z'))
    const key = { accessKeyId: credential.access, secretAccessKey: credential.secret }
    const submit = (): Promise<Response> =>
      call(emulator, SUBMIT_PATH, {
        body: rebootBody(['srv-a']),
        key,
        securityToken: credential.securitytoken,
        date: clock.date()
      })
    expect((await submit()).status).toBe(200)
    // The security token is required, and signed.
    const without = await call(emulator, SUBMIT_PATH, { body: rebootBody(['srv-a']), key, date: clock.date() })
    expect(without.status).toBe(401)
    const unsigned = await call(emulator, SUBMIT_PATH, {
      body: rebootBody(['srv-a']),
      key,
      securityToken: credential.securitytoken,
      unsigned: ['x-security-token'],
      date: clock.date()
    })
    expect(unsigned.status).toBe(401)
    clock.advance(900_000 - 1)
    expect((await submit()).status).toBe(200)
    clock.advance(1)
    const expired = await submit()
    expect(expired.status).toBe(401)
    expect(await expired.json()).toMatchObject({ error_msg: expect.stringContaining('security token has expired') })
    expect(emulator.restartCount('srv-a')).toBe(2)
    expect(emulator.issuedTemporaryKeys().map((k) => k.accessKeyId)).toEqual([credential.access])
  })

  it('honours duration_seconds from 900 to 86400 and refuses other values, other methods and bad JSON', async () => {
    const { clock, emulator, token } = await withUnscopedToken()
    const long = await requestKeys(emulator, token, keysBody({ duration_seconds: 86400 }))
    expect(long.status).toBe(201)
    const { credential } = (await long.json()) as CredentialBody
    expect(Date.parse(credential.expires_at.replace('000Z', 'Z'))).toBe(clock.now() + 86_400_000)
    const defaulted = await requestKeys(emulator, token, keysBody({}))
    expect(defaulted.status).toBe(201)
    for (const body of [
      keysBody({ duration_seconds: 899 }),
      keysBody({ duration_seconds: 86401 }),
      keysBody({ duration_seconds: 21600.5 }),
      keysBody({ duration_seconds: '21600' }),
      keysBody({ id: 'another-token', duration_seconds: 900 }),
      { auth: { identity: { methods: ['password'], token: { duration_seconds: 900 } } } },
      { auth: {} },
      'not json'
    ]) {
      const response = await requestKeys(emulator, token, body)
      expect(response.status).toBe(400)
      expect(await response.json()).toMatchObject({ error_code: 'IAM.0011' })
    }
  })

  it('requires a valid, unexpired token', async () => {
    const { clock, emulator, token } = await withUnscopedToken({ tokenLifetimeMs: 60_000 })
    for (const bad of [undefined, 'MIInot-issued']) {
      const response = await requestKeys(emulator, bad, keysBody())
      expect(response.status).toBe(401)
      expect(await response.json()).toMatchObject({ error: { code: 401, title: 'Unauthorized' } })
    }
    clock.advance(60_000)
    expect((await requestKeys(emulator, token, keysBody())).status).toBe(401)
    expect(emulator.issuedTemporaryKeys()).toHaveLength(0)
  })

  it('gives keys the temporaryKeyLifetimeMs when set, and plays injected faults', async () => {
    const { clock, emulator, token } = await withUnscopedToken({ temporaryKeyLifetimeMs: 5_000 })
    emulator.inject('securitytokens', { kind: 'respond', status: 503, body: { error_code: 'IAM.0001' } })
    expect((await requestKeys(emulator, token, keysBody({ duration_seconds: 21600 }))).status).toBe(503)
    const response = await requestKeys(emulator, token, keysBody({ duration_seconds: 21600 }))
    expect(response.status).toBe(201)
    expect(emulator.issuedTemporaryKeys()[0].expiresAt).toBe(clock.now() + 5_000)
    expect(emulator.requests.filter((r) => r.route === 'securitytokens').map((r) => r.status)).toEqual([503, 201])
  })

  it('refuses an unscoped token on every other route, ECS and the project lookup alike', async () => {
    const { emulator, token } = await withUnscopedToken()
    for (const path of [`/v3/projects?name=${DEFAULT_REGION}`, SUBMIT_PATH]) {
      const body = path === SUBMIT_PATH ? rebootBody(['srv-a']) : undefined
      const response = await tokenCall(emulator, path, token, { body })
      expect(response.status).toBe(401)
      expect(await response.json()).toMatchObject({ error_msg: expect.stringContaining('unscoped token') })
    }
    expect(emulator.restartCount('srv-a')).toBe(0)
  })
})
