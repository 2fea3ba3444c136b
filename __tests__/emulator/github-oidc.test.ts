/** The stand-in for GitHub's OIDC token service. */
import * as core from '@actions/core'
import { createPublicKey, verify as verifySignature } from 'node:crypto'
import { describe, expect, it, vi } from 'vitest'
import { GITHUB_OIDC_PATH, iamError, type EcsEmulator } from '.'
import { manualClock, rebootBody, SUBMIT_PATH, useEmulators } from '../support/emulator-calls'
import {
  CLIENT_ID,
  exchangeIdToken,
  GITHUB_REQUEST_TOKEN,
  identityOptions,
  IDP_ID,
  OIDC,
  SUBJECT,
  tokenCall,
  type TokenBody
} from '../support/identity'
import { decodeJwt, GITHUB_OIDC_ISSUER } from '../support/oidc'

const startEmulator = useEmulators()

describe(`GitHub OIDC token service (GET ${GITHUB_OIDC_PATH})`, () => {
  async function getOidcToken(emulator: EcsEmulator, query: string, bearer?: string): Promise<Response> {
    return fetch(new URL(`${GITHUB_OIDC_PATH}${query}`, emulator.url), {
      headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }
    })
  }

  it('answers {"value": JWT}, an RS256 token with the requested audience that the id-token route accepts', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(identityOptions(clock))
    const response = await getOidcToken(emulator, `?api-version=2.0&audience=${CLIENT_ID}`, GITHUB_REQUEST_TOKEN)
    expect(response.status).toBe(200)
    const { value } = (await response.json()) as { value: string }
    const { header, claims } = decodeJwt(value)
    const iat = Math.floor(clock.now() / 1000)
    expect(header).toEqual({ alg: 'RS256', typ: 'JWT', kid: OIDC.kid })
    expect(claims).toMatchObject({
      iss: GITHUB_OIDC_ISSUER,
      sub: SUBJECT,
      aud: CLIENT_ID,
      repository: 'octo/fleet',
      repository_owner: 'octo',
      ref: 'refs/heads/main',
      iat,
      nbf: iat,
      exp: iat + 300
    })
    const [h, p, signature] = value.split('.')
    const publicKey = createPublicKey({ key: OIDC.publicJwks.keys[0], format: 'jwk' })
    expect(verifySignature('sha256', Buffer.from(`${h}.${p}`), publicKey, Buffer.from(signature, 'base64url'))).toBe(
      true
    )
    expect(emulator.requests[0]).toMatchObject({ route: 'github-oidc', status: 200, authenticatedBy: 'none' })

    const exchanged = await exchangeIdToken(emulator, value)
    expect(exchanged.status).toBe(201)
    expect(((await exchanged.json()) as TokenBody).token.user.name).toBe(SUBJECT)
  })

  it('defaults the audience to the owner URL, and takes a subject, repository and lifetime', async () => {
    const clock = manualClock()
    const base = identityOptions(clock)
    const emulator = await startEmulator({
      ...base,
      githubOidc: {
        issuer: OIDC.issuer,
        requestToken: GITHUB_REQUEST_TOKEN,
        privateKey: OIDC.privateKey,
        kid: OIDC.kid,
        repository: 'acme/web',
        subject: 'repo:acme/web:environment:prod',
        expiresInSeconds: -120
      }
    })
    const response = await getOidcToken(emulator, '?api-version=2.0', GITHUB_REQUEST_TOKEN)
    const { value } = (await response.json()) as { value: string }
    const { claims } = decodeJwt(value)
    const iat = Math.floor(clock.now() / 1000)
    expect(claims).toMatchObject({
      aud: 'https://github.com/acme',
      sub: 'repo:acme/web:environment:prod',
      repository: 'acme/web',
      exp: iat - 120
    })
    // Already expired (beyond the skew) and for the wrong audience: expiry is checked after aud.
    const wrongAud = await exchangeIdToken(emulator, value)
    expect(await wrongAud.json()).toMatchObject({ error_msg: expect.stringMatching(/audience/) })
    const expiredToken = (
      (await (await getOidcToken(emulator, `?audience=${CLIENT_ID}`, GITHUB_REQUEST_TOKEN)).json()) as { value: string }
    ).value
    const expired = await exchangeIdToken(emulator, expiredToken)
    expect(expired.status).toBe(401)
    expect(await expired.json()).toEqual(iamError('IAM.0001', 'The ID token has expired.'))
  })

  it('answers 401 for a wrong or missing bearer request token, and 404 when not configured', async () => {
    const emulator = await startEmulator(identityOptions(manualClock()))
    expect((await getOidcToken(emulator, '?audience=x', 'wrong-token')).status).toBe(401)
    expect((await getOidcToken(emulator, '?audience=x')).status).toBe(401)
    const plain = await startEmulator()
    expect((await getOidcToken(plain, '?audience=x', GITHUB_REQUEST_TOKEN)).status).toBe(404)
    expect(() => plain.githubOidcEnv()).toThrow(/githubOidc/)
  })

  it("serves @actions/core's real getIDToken(), whose token the id-token route exchanges", async () => {
    const clock = manualClock()
    const emulator = await startEmulator(identityOptions(clock, { jobDurationMs: 0 }))
    const before = process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN
    const written: string[] = []
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk))
      return true
    })
    let jwt: string
    try {
      for (const [name, value] of Object.entries(emulator.githubOidcEnv())) vi.stubEnv(name, value)
      jwt = await core.getIDToken('my-audience')
    } finally {
      write.mockRestore()
      vi.unstubAllEnvs() // restores both variables as they were
    }
    expect(process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN).toBe(before)
    expect(written.join('')).toContain(`::add-mask::${jwt}`)
    expect(decodeJwt(jwt).claims.aud).toBe('my-audience')
    expect(emulator.requests[0]).toMatchObject({ route: 'github-oidc', status: 200 })
    expect(emulator.requests[0].query.get('audience')).toBe('my-audience')
    expect(emulator.requests[0].query.get('api-version')).toBe('2.0')
    expect(emulator.requests[0].headers.authorization).toBe(`Bearer ${GITHUB_REQUEST_TOKEN}`)

    // The identity provider trusts the audience the action asks for.
    const options = identityOptions(clock, { jobDurationMs: 0 })
    const trusting = await startEmulator({
      ...options,
      identityProviders: { [IDP_ID]: { issuer: OIDC.issuer, clientId: 'my-audience', jwks: OIDC.publicJwks } }
    })
    const exchanged = await exchangeIdToken(trusting, jwt)
    expect(exchanged.status).toBe(201)
    const token = exchanged.headers.get('x-subject-token') ?? ''
    const submitted = await tokenCall(trusting, SUBMIT_PATH, token, { body: rebootBody(['srv-a']) })
    expect(submitted.status).toBe(200)
    expect(trusting.restartCount('srv-a')).toBe(1)
  })
})
