/** The claims of a JWT that help compare it with an identity provider's settings. */
interface IdTokenClaims {
  iss: string | undefined
  sub: string | undefined
}

function claim(payload: Record<string, unknown>, name: string): string | undefined {
  const value = payload[name]
  return typeof value === 'string' ? value.slice(0, 200) : undefined
}

/**
 * The issuer and subject of a JWT, read from its payload without verifying it (IAM did that);
 * nothing when it is not a JWT. Never returns or prints the token itself.
 */
export function readIdTokenClaims(idToken: string): IdTokenClaims | undefined {
  const parts = idToken.split('.')
  const payload = parts.length === 3 ? parts[1] : ''
  if (!/^[A-Za-z0-9_-]+$/.test(payload)) return undefined
  try {
    const parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined
    const record = parsed as Record<string, unknown>
    return { iss: claim(record, 'iss'), sub: claim(record, 'sub') }
  } catch {
    return undefined
  }
}

/**
 * What the action knows about a refused ID-token exchange, for comparing with the identity
 * provider's settings and conversion rules: IAM's own answer is often only "The id_token is invalid."
 */
export function idTokenFacts(idToken: string | undefined, idpId: string, audience: string): string {
  const claims = idToken === undefined ? undefined : readIdTokenClaims(idToken)
  const token =
    claims === undefined
      ? ''
      : ` The token's issuer (iss) is ${JSON.stringify(claims.iss ?? 'missing')} (the provider's idp_url must equal it) and its subject (sub) is ${JSON.stringify(claims.sub ?? 'missing')} (the identity conversion rules must match it).`
  return `The action asked GitHub for an ID token with audience ${JSON.stringify(audience)} (oidc-audience), which must equal the identity provider's client_id.${token} Identity provider ID (idp-id): ${JSON.stringify(idpId)}.`
}
