import { describe, expect, it } from 'vitest'
import { idTokenFacts, readIdTokenClaims } from '../../src/action/oidc-hint'

const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
const SIGNATURE = 'c2lnbmF0dXJlLXRoYXQtbXVzdC1ub3Qtc2hvdw'
const jwt = (claims: unknown): string => `${part({ alg: 'RS256', kid: 'k' })}.${part(claims)}.${SIGNATURE}`

describe('the facts added when IAM refuses the ID token', () => {
  const token = jwt({
    iss: 'https://token.actions.githubusercontent.com',
    sub: 'repo:octo/fleet:ref:refs/heads/main',
    aud: 'huaweicloud'
  })

  it('names the audience asked for, the issuer and subject of the token, and the provider, never the token', () => {
    const facts = idTokenFacts(token, 'idp-github', 'huaweicloud')
    expect(facts).toBe(
      'The action asked GitHub for an ID token with audience "huaweicloud" (oidc-audience), which must equal the identity provider\'s client_id. The token\'s issuer (iss) is "https://token.actions.githubusercontent.com" (the provider\'s idp_url must equal it) and its subject (sub) is "repo:octo/fleet:ref:refs/heads/main" (the identity conversion rules must match it). Identity provider ID (idp-id): "idp-github".'
    )
    expect(facts).not.toContain(SIGNATURE)
    expect(facts).not.toContain(token.split('.')[1])
  })

  it('still names the audience and provider when there is no token or it is not a JWT', () => {
    for (const bad of [undefined, 'opaque', 'a.b', `x.${part([1])}.y`, `x.${part('text')}.y`, 'x.!!!.y', 'x.e30.y.z']) {
      const facts = idTokenFacts(bad, 'idp', 'aud')
      expect(facts).toBe(
        'The action asked GitHub for an ID token with audience "aud" (oidc-audience), which must equal the identity provider\'s client_id. Identity provider ID (idp-id): "idp".'
      )
    }
  })

  it('reads claims without verifying, marking missing ones and shortening long ones', () => {
    expect(readIdTokenClaims(jwt({ sub: 7 }))).toEqual({ iss: undefined, sub: undefined })
    expect(readIdTokenClaims(jwt({ iss: 'x'.repeat(500) }))?.iss).toHaveLength(200)
    expect(idTokenFacts(jwt({}), 'idp', 'aud')).toContain('issuer (iss) is "missing"')
  })
})
