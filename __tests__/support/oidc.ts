/**
 * OIDC test fixtures: an RSA signing key with its public JWKS, and RS256 JWT signing, all with
 * node:crypto. The emulator's GitHub OIDC token route signs with `signJwt` too.
 */
import { generateKeyPairSync, randomBytes, sign, type JsonWebKey, type KeyObject } from 'node:crypto'

/** GitHub Actions' OIDC issuer, the default issuer of a fixture. */
export const GITHUB_OIDC_ISSUER = 'https://token.actions.githubusercontent.com'

/** A public key as an identity provider's `signing_key` lists it. */
export interface PublicJwk extends JsonWebKey {
  kid: string
  kty: string
  alg: 'RS256'
  use: 'sig'
}

export interface OidcFixture {
  /** RSA private key (2048 bits) that signs the fixture's tokens. */
  privateKey: KeyObject
  /** The public half as a JWKS, `{"keys":[{kty,n,e,kid,alg:"RS256",use:"sig"}]}`. */
  publicJwks: { keys: PublicJwk[] }
  /** Key id, in the JWKS entry and in every token header signed with this key. */
  kid: string
  /** Issuer (`iss`) the fixture stands for; default GITHUB_OIDC_ISSUER. */
  issuer: string
}

/** A fresh 2048-bit RSA key per call, with its JWKS; `kid` defaults to a random hex id. */
export function createOidcFixture(options: { issuer?: string; kid?: string } = {}): OidcFixture {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const kid = options.kid ?? randomBytes(8).toString('hex')
  const jwk = publicKey.export({ format: 'jwk' })
  return {
    privateKey,
    publicJwks: { keys: [{ ...jwk, kty: jwk.kty ?? 'RSA', kid, alg: 'RS256', use: 'sig' }] },
    kid,
    issuer: options.issuer ?? GITHUB_OIDC_ISSUER
  }
}

function base64UrlJson(value: object): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url')
}

/**
 * A compact JWS: base64url(header).base64url(claims).base64url(RS256 signature), the header being
 * `{"alg":"RS256","typ":"JWT","kid":kid}` (plus `header`, which may override any of them).
 */
export function signJwt(
  claims: Record<string, unknown>,
  privateKey: KeyObject,
  kid: string,
  header: Record<string, unknown> = {}
): string {
  const signingInput = `${base64UrlJson({ alg: 'RS256', typ: 'JWT', kid, ...header })}.${base64UrlJson(claims)}`
  const signature = sign('sha256', Buffer.from(signingInput, 'utf8'), privateKey)
  return `${signingInput}.${signature.toString('base64url')}`
}

/** The decoded header and claims of a compact JWT, without any verification (for assertions). */
export function decodeJwt(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [header, claims] = token.split('.')
  const parse = (part: string | undefined): Record<string, unknown> =>
    JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as Record<string, unknown>
  return { header: parse(header), claims: parse(claims) }
}

/**
 * Emulator options (no import of the emulator here: it imports this file) for an IAM that trusts
 * `github` as identity provider `idp` (client ID `huaweicloud`), and for GitHub's ID-token route.
 */
export function oidcEmulatorOptions(github: OidcFixture) {
  return {
    identityProviders: { idp: { issuer: github.issuer, clientId: 'huaweicloud', jwks: github.publicJwks } },
    githubOidc: { issuer: github.issuer, requestToken: 'rt', privateKey: github.privateKey, kid: github.kid }
  }
}

/** An ID token from the runner's ID-token route, asked for as `@actions/core`'s `getIDToken` does. */
export async function requestIdToken(
  env: { ACTIONS_ID_TOKEN_REQUEST_URL: string; ACTIONS_ID_TOKEN_REQUEST_TOKEN: string },
  audience: string
): Promise<string> {
  const response = await fetch(`${env.ACTIONS_ID_TOKEN_REQUEST_URL}&audience=${audience}`, {
    headers: { Authorization: `Bearer ${env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}` }
  })
  return ((await response.json()) as { value: string }).value
}
