/**
 * GitHub's OIDC token service (`GET /_github/oidc/token?audience=…`, `EmulatorOptions.githubOidc`),
 * which `@actions/core`'s `getIDToken()` calls: it needs no AK/SK signature or IAM token.
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { signJwt } from '../support/oidc'
import { exactPath, type Route } from './core'
import { constantTimeEqual, headerValue, type Reply } from './http'
import { GITHUB_OIDC_PATH, type EmulatorGithubOidc } from './options'

/**
 * `GET /_github/oidc/token?audience=…` with `Authorization: Bearer {requestToken}`: `{"value":JWT}`,
 * an RS256 token like GitHub's (`aud` the requested audience, else `https://github.com/{owner}`).
 */
function githubOidcToken(config: EmulatorGithubOidc | undefined, req: IncomingMessage, url: URL, now: number): Reply {
  if (!config) return { status: 404, body: { message: 'Not Found: githubOidc is not set in the emulator options.' } }
  const authorization = headerValue(req.headers, 'authorization') ?? ''
  const match = /^Bearer (.+)$/i.exec(authorization)
  if (!match || !constantTimeEqual(match[1], config.requestToken)) {
    return { status: 401, body: { message: 'Bad credentials: the bearer request token is missing or wrong.' } }
  }
  const repository = config.repository ?? 'octo/fleet'
  const ref = config.ref ?? 'refs/heads/main'
  const owner = repository.split('/')[0]
  const iat = Math.floor(now / 1000)
  const claims = {
    jti: randomUUID(),
    sub: config.subject ?? `repo:${repository}:ref:${ref}`,
    aud: url.searchParams.get('audience') ?? `https://github.com/${owner}`,
    ref,
    ref_type: 'branch',
    repository,
    repository_owner: owner,
    actor: owner,
    event_name: 'workflow_dispatch',
    workflow: 'restart',
    run_id: '1',
    run_number: '1',
    run_attempt: '1',
    runner_environment: 'github-hosted',
    iss: config.issuer,
    nbf: iat,
    iat,
    exp: iat + (config.expiresInSeconds ?? 300)
  }
  return { status: 200, body: { count: 1, value: signJwt(claims, config.privateKey, config.kid) } }
}

export function githubOidcRoute(config: EmulatorGithubOidc | undefined, now: () => number): Route {
  return {
    name: 'github-oidc',
    method: 'GET',
    path: exactPath(GITHUB_OIDC_PATH),
    auth: 'none',
    handle: ({ req, url }) => githubOidcToken(config, req, url, now())
  }
}
