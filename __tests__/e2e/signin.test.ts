import { describe, expect, it } from 'vitest'
import { DEFAULT_PROJECT_ID, DEFAULT_REGION, type EcsEmulator, type EmulatorOptions } from '../emulator'
import { serverIds, useEmulator } from '../support/fixtures'
import { createOidcFixture } from '../support/oidc'
import { type ActionRun, outcomes, printedOutsideMasks, runAction } from '../support/run-action'

// Signing in with GitHub OIDC or an IAM password: the bundled action against an emulator whose IAM
// verifies the ID token for real (RS256 against the provider's JWKS, issuer, audience, expiry) and
// whose GitHub token route is what @actions/core's getIDToken calls, unmodified.

const emulators = useEmulator()
const SERVERS = serverIds(3)
const IDP = 'idp-github'
const AUDIENCE = 'huaweicloud'
const github = createOidcFixture()
const PASSWORD = 'correct horse battery staple'

function start(
  options: EmulatorOptions = {},
  provider = { issuer: github.issuer, clientId: AUDIENCE }
): Promise<EcsEmulator> {
  return emulators.start({
    jobDurationMs: 30,
    identityProviders: { [IDP]: { ...provider, jwks: github.publicJwks } },
    iamUsers: [{ domain: 'acme', name: 'deployer', password: PASSWORD }],
    githubOidc: {
      issuer: github.issuer,
      requestToken: 'runtime-request-token',
      privateKey: github.privateKey,
      kid: github.kid
    },
    ...options
  })
}

function baseInputs(emulator: EcsEmulator, extra: Record<string, string>): Record<string, string> {
  return {
    'server-ids': SERVERS.join(','),
    region: DEFAULT_REGION,
    endpoint: emulator.url,
    'iam-endpoint': emulator.url,
    'poll-interval-seconds': '0.02',
    ...extra
  }
}

function oidcRun(
  emulator: EcsEmulator,
  extra: Record<string, string> = {},
  env: Record<string, string> = emulator.githubOidcEnv()
): Promise<ActionRun> {
  return runAction(baseInputs(emulator, { 'idp-id': IDP, ...extra }), { env })
}

const succeeded = (run: ActionRun): string[] => outcomes(run).succeeded
const failed = (run: ActionRun): string[] => outcomes(run).failed

/** The token the emulator issued never shows up anywhere but the masking command. */
function expectTokensHidden(run: ActionRun, emulator: EcsEmulator): void {
  const printed = printedOutsideMasks(run)
  for (const token of emulator.issuedTokens()) {
    expect(run.stdout).toContain(`::add-mask::${token}`)
    expect(printed).not.toContain(token)
  }
}

describe('GitHub OIDC sign-in', () => {
  it('exchanges the workflow ID token for a project token and restarts with it, no keys involved', async () => {
    const emulator = await start()
    const run = await oidcRun(emulator)
    expect(run.exitCode).toBe(0)
    expect(succeeded(run)).toEqual(SERVERS)
    const exchange = emulator.requests.find((r) => r.route === 'id-token')
    expect(exchange?.headers['x-idp-id']).toBe(IDP)
    expect(emulator.requests.filter((r) => r.route === 'submit').every((r) => r.authenticatedBy === 'token')).toBe(true)
    expect(emulator.requests.some((r) => r.headers.authorization?.startsWith('SDK-HMAC'))).toBe(false)
    expect(run.stdout).toContain(`Signed in through identity provider ${IDP}`)
    expectTokensHidden(run, emulator)
  })

  it('says the job needs id-token: write when GitHub gave it no token, and sends nothing', async () => {
    const emulator = await start()
    const run = await oidcRun(emulator, {}, {})
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(/::error::GitHub gave this job no OIDC token: add `permissions: id-token: write`/)
    expect(emulator.requests).toHaveLength(0)
    expect(failed(run)).toEqual(SERVERS)
  })

  it.each([
    [
      'a wrong audience',
      {},
      { issuer: github.issuer, clientId: 'something-else' },
      /audience.*Set oidc-audience to the identity provider's client_id/
    ],
    ['an unknown identity provider', { 'idp-id': 'idp-nope' }, undefined, /HTTP 404.*Check idp-id/],
    [
      'a wrong issuer',
      {},
      { issuer: 'https://issuer.example', clientId: AUDIENCE },
      /issuer.*idp_url must be https:\/\/token\.actions\.githubusercontent\.com/
    ]
  ])('fails clearly with %s', async (_, extra: Record<string, string>, provider, message) => {
    const emulator = await start({}, provider)
    const run = await oidcRun(emulator, extra)
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(message)
    expect(emulator.requests.some((r) => r.route === 'submit')).toBe(false)
    expect(failed(run)).toEqual(SERVERS)
    // What the action knows, to compare with the provider's settings: never the token itself.
    expect(run.stdout).toContain(
      `The action asked GitHub for an ID token with audience "${AUDIENCE}" (oidc-audience), which must equal the identity provider's client_id. The token's issuer (iss) is "${github.issuer}"`
    )
    expect(run.stdout).toContain('its subject (sub) is "repo:octo/fleet:ref:refs/heads/main"')
    expect(run.stdout).toMatch(/Identity provider ID \(idp-id\): "idp-(github|nope)"/)
    expectTokensHidden(run, emulator)
  })

  it('fails clearly with an expired ID token', async () => {
    const emulator = await start({
      githubOidc: {
        issuer: github.issuer,
        requestToken: 'runtime-request-token',
        privateKey: github.privateKey,
        kid: github.kid,
        expiresInSeconds: -120
      }
    })
    const run = await oidcRun(emulator)
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(/expired.*re-run the job/)
  })

  it('asks GitHub for the configured audience', async () => {
    const emulator = await start({}, { issuer: github.issuer, clientId: 'my-client-id' })
    const run = await oidcRun(emulator, { 'oidc-audience': 'my-client-id' })
    expect(run.exitCode).toBe(0)
    expect(emulator.requests.find((r) => r.route === 'github-oidc')?.query.get('audience')).toBe('my-client-id')
  })

  it('renews a token that expires mid-run once, and carries on', async () => {
    const emulator = await start({ jobDurationMs: 400 })
    emulator.inject('job', { kind: 'delay', ms: 50 })
    const watcher = setInterval(() => {
      if (emulator.requests.some((r) => r.route === 'job')) {
        emulator.expireTokens()
        clearInterval(watcher)
      }
    }, 5)
    const run = await oidcRun(emulator)
    clearInterval(watcher)
    expect(run.exitCode).toBe(0)
    expect(succeeded(run)).toEqual(SERVERS)
    expect(emulator.requests.filter((r) => r.route === 'id-token')).toHaveLength(2)
    expect(run.stdout).toMatch(/the token had expired; signed in again and retrying once/)
    expectTokensHidden(run, emulator)
  })
})

describe('IAM password sign-in', () => {
  it('signs in with the password, masks it and the token, and restarts', async () => {
    const emulator = await start()
    const run = await runAction(
      baseInputs(emulator, {
        'iam-username': 'deployer',
        'iam-password': PASSWORD,
        'iam-domain': 'acme',
        'project-id': DEFAULT_PROJECT_ID
      }),
      { env: { RUNNER_DEBUG: '1' } }
    )
    expect(run.exitCode).toBe(0)
    expect(succeeded(run)).toEqual(SERVERS)
    expect(run.stdout.split('\n')[0]).toBe(`::add-mask::${PASSWORD}`)
    expect(run.stdout.split('\n').slice(1).join('\n')).not.toContain(PASSWORD)
    expectTokensHidden(run, emulator)
  })

  it('fails clearly with a wrong password, without retrying it', async () => {
    const emulator = await start()
    const run = await runAction(
      baseInputs(emulator, { 'iam-username': 'deployer', 'iam-password': 'wrong', 'iam-domain': 'acme' })
    )
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(
      /Signing in as IAM user deployer of acme failed with HTTP 401.*Check iam-username, iam-password and iam-domain/
    )
    expect(emulator.requests.filter((r) => r.route === 'password-token')).toHaveLength(1)
  })
})

describe('choosing a way to sign in', () => {
  it('refuses two at once, sending nothing', async () => {
    const emulator = await start()
    const run = await oidcRun(emulator, { 'access-key-id': 'AK', 'secret-access-key': 'SK' })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(
      /only one way to sign in may be configured, but these are: access-key-id\/secret-access-key, idp-id \(OIDC\)/
    )
    expect(emulator.requests).toHaveLength(0)
  })
})
