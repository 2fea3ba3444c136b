/** How IAM checks an OIDC ID token against an identity provider (`EmulatorOptions.identityProviders`). */
import { createPublicKey, verify as verifySignature, type JsonWebKey } from 'node:crypto'
import { isPlainObject } from './http'
import { ID_TOKEN_CLOCK_SKEW_MS, type EmulatorIdentityProvider } from './options'

/** A base64url JWT part as a JSON object, or undefined. */
function jwtPart(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
    return isPlainObject(value) ? value : undefined
  } catch {
    return undefined
  }
}

function rs256Valid(jwk: object, signedPart: string, signature: string): boolean {
  try {
    const publicKey = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' })
    return (
      publicKey.asymmetricKeyType === 'rsa' &&
      verifySignature('sha256', Buffer.from(signedPart, 'utf8'), publicKey, Buffer.from(signature, 'base64url'))
    )
  } catch {
    return false
  }
}

/**
 * Checks an OIDC ID token against a provider: RS256 with a `kid` from its JWKS, a valid signature,
 * `iss`, `aud`, `exp`, `nbf`, `iat` (per `now`, with ID_TOKEN_CLOCK_SKEW_MS) and a `sub`, checked
 * in that order. Returns the `sub`, or the first reason it fails.
 */
export function verifyIdToken(
  token: string,
  idp: EmulatorIdentityProvider,
  now: number
): { subject: string } | { error: string } {
  const parts = token.split('.')
  if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]+$/.test(part))) {
    return { error: 'The ID token is malformed: it must be three base64url parts separated by dots.' }
  }
  const [headerPart, claimsPart, signaturePart] = parts
  const header = jwtPart(headerPart)
  const claims = jwtPart(claimsPart)
  if (!header || !claims) return { error: 'The ID token is malformed: its header and payload must be JSON objects.' }
  if (header.alg !== 'RS256') {
    return { error: `The ID token algorithm ${String(header.alg)} is not supported; only RS256 is.` }
  }
  const kid = header.kid
  const jwk = idp.jwks.keys.find((key) => isPlainObject(key) && typeof kid === 'string' && key.kid === kid)
  if (typeof kid !== 'string' || jwk === undefined) {
    return {
      error: `The ID token's key id (kid ${typeof kid === 'string' ? kid : 'missing'}) is not among the identity provider's signing keys.`
    }
  }
  if (!rs256Valid(jwk, `${headerPart}.${claimsPart}`, signaturePart)) return { error: 'Invalid ID token signature.' }
  if (claims.iss !== idp.issuer) {
    return { error: "The ID token issuer does not match the identity provider's issuer." }
  }
  const aud = claims.aud
  if (!(aud === idp.clientId || (Array.isArray(aud) && aud.includes(idp.clientId)))) {
    return { error: "The ID token audience does not match the identity provider's client_id." }
  }
  if (typeof claims.exp !== 'number') return { error: 'The ID token has no valid exp claim.' }
  if (claims.exp * 1000 + ID_TOKEN_CLOCK_SKEW_MS <= now) return { error: 'The ID token has expired.' }
  for (const name of ['nbf', 'iat']) {
    const value = claims[name]
    if (value === undefined) continue
    if (typeof value !== 'number') return { error: `The ID token has an invalid ${name} claim.` }
    if (value * 1000 - ID_TOKEN_CLOCK_SKEW_MS > now) {
      return { error: `The ID token is not valid yet: its ${name} is in the future.` }
    }
  }
  if (typeof claims.sub !== 'string' || claims.sub.length === 0) return { error: 'The ID token has no sub claim.' }
  return { subject: claims.sub }
}
