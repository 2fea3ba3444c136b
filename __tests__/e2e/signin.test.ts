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

/** The next request on `route` is answered `status` with an IAM/gateway-shaped error; then an OIDC run. */
function oidcRunAnswering(
  emulator: EcsEmulator,
  route: 'job' | 'securitytokens' | 'github-oidc',
  status: number,
  body: object
): Promise<ActionRun> {
  emulator.inject(route, { kind: 'respond', status, body })
  return oidcRun(emulator)
}

const succeeded = (run: ActionRun): string[] => outcomes(run).succeeded
const failed = (run: ActionRun): string[] => outcomes(run).failed

/** The tokens and temporary keys the emulator issued never show up anywhere but the masking command. */
function expectTokensHidden(run: ActionRun, emulator: EcsEmulator): void {
  const printed = printedOutsideMasks(run)
  const keys = emulator.issuedTemporaryKeys()
  const secrets = [
    ...emulator.issuedTokens(),
    ...keys.flatMap((k) => [k.accessKeyId, k.secretAccessKey, k.securityToken])
  ]
  for (const secret of secrets) {
    expect(run.stdout).toContain(`::add-mask::${secret}`)
    expect(printed).not.toContain(secret)
  }
}

/** The GitHub ID tokens the action got: masked, and never printed otherwise. */
function expectIdTokensHidden(run: ActionRun, emulator: EcsEmulator): void {
  const printed = printedOutsideMasks(run)
  const idTokens = emulator.requests
    .filter((r) => r.route === 'id-token')
    .map((r) => (JSON.parse(r.body) as { auth: { id_token: { id: string } } }).auth.id_token.id)
  expect(idTokens.length).toBeGreaterThan(0)
  for (const idToken of idTokens) {
    expect(run.stdout).toContain(`::add-mask::${idToken}`)
    expect(printed).not.toContain(idToken)
  }
}

describe('GitHub OIDC sign-in', () => {
  it('exchanges the ID token for an unscoped token, that for temporary keys, and signs every cloud call with them', async () => {
    const emulator = await start()
    const run = await oidcRun(emulator)
    expect(run.exitCode).toBe(0)
    expect(succeeded(run)).toEqual(SERVERS)
    const routes = emulator.requests.map((r) => r.route)
    expect(routes.slice(0, 4)).toEqual(['github-oidc', 'id-token', 'securitytokens', 'projects'])
    const exchange = emulator.requests.find((r) => r.route === 'id-token')
    expect(exchange?.headers['x-idp-id']).toBe(IDP)
    expect(JSON.parse(exchange?.body ?? '')).toEqual({ auth: { id_token: { id: expect.any(String) } } })
    const keysRequest = emulator.requests.find((r) => r.route === 'securitytokens')
    expect(keysRequest?.headers['x-auth-token']).toBe(emulator.issuedTokens()[0])
    expect(JSON.parse(keysRequest?.body ?? '')).toEqual({
      auth: { identity: { methods: ['token'], token: { duration_seconds: 21600 } } }
    })
    const [keys] = emulator.issuedTemporaryKeys()
    const cloudCalls = emulator.requests.filter((r) => ['projects', 'submit', 'job'].includes(r.route))
    expect(cloudCalls.length).toBeGreaterThanOrEqual(3)
    for (const call of cloudCalls) {
      expect(call.authenticatedBy).toBe('signature')
      expect(call.headers.authorization).toMatch(new RegExp(`^SDK-HMAC-SHA256 Access=${keys.accessKeyId}, `))
      expect(call.headers['x-security-token']).toBe(keys.securityToken)
    }
    expect(run.stdout).toContain(`Signed in through identity provider ${IDP}`)
    expectTokensHidden(run, emulator)
    expectIdTokensHidden(run, emulator)
  })

  it('renews the temporary keys in a run that outlives them, with a fresh ID token each time', async () => {
    const emulator = await start({ jobDurationMs: 2_500, temporaryKeyLifetimeMs: 1_000 })
    const run = await oidcRun(emulator, { 'poll-interval-seconds': '0.1' })
    expect(run.exitCode).toBe(0)
    expect(succeeded(run)).toEqual(SERVERS)
    const renewals = emulator.requests.filter((r) => r.route === 'securitytokens')
    expect(renewals.length).toBeGreaterThanOrEqual(3)
    // A fresh GitHub ID token and unscoped token for every set of keys.
    expect(emulator.requests.filter((r) => r.route === 'github-oidc')).toHaveLength(renewals.length)
    expect(new Set(emulator.requests.filter((r) => r.route === 'id-token').map((r) => r.body)).size).toBe(
      renewals.length
    )
    // Every cloud call was signed with keys the emulator still accepted (expired ones are refused).
    const cloudCalls = emulator.requests.filter((r) => ['projects', 'submit', 'job'].includes(r.route))
    expect(cloudCalls.every((r) => r.authenticatedBy === 'signature' && r.status === 200)).toBe(true)
    expect(run.stdout).toMatch(/Renewed the temporary access keys; valid until /)
    expectTokensHidden(run, emulator)
    expectIdTokensHidden(run, emulator)
  })

  it('renews the keys once when the cloud answers that they expired, and carries on', async () => {
    const emulator = await start()
    const run = await oidcRunAnswering(emulator, 'job', 401, {
      error_code: 'APIG.0307',
      error_msg: 'The token must be updated.'
    })
    expect(run.exitCode).toBe(0)
    expect(succeeded(run)).toEqual(SERVERS)
    expect(emulator.requests.filter((r) => r.route === 'securitytokens')).toHaveLength(2)
    const jobs = emulator.requests.filter((r) => r.route === 'job')
    const [first, second] = emulator.issuedTemporaryKeys()
    expect(jobs[0].headers['x-security-token']).toBe(first.securityToken)
    expect(jobs[1].headers['x-security-token']).toBe(second.securityToken)
    expectTokensHidden(run, emulator)
  })

  it('names the temporary-keys step when IAM refuses it, and sends no ECS request', async () => {
    const emulator = await start()
    const run = await oidcRunAnswering(emulator, 'securitytokens', 403, {
      error_code: 'IAM.0003',
      error_msg: "Policy doesn't allow this operation."
    })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(
      /Getting temporary access keys from IAM failed with HTTP 403, IAM\.0003.*programmatic access.*identity conversion rules/
    )
    expect(emulator.requests.some((r) => ['projects', 'submit'].includes(r.route))).toBe(false)
    expect(failed(run)).toEqual(SERVERS)
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

  it('names the GitHub step when the ID token cannot be had', async () => {
    const emulator = await start()
    const run = await oidcRunAnswering(emulator, 'github-oidc', 500, { message: 'unavailable' })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(/Getting the workflow's ID token from GitHub failed/)
    expect(emulator.requests.some((r) => r.route === 'id-token')).toBe(false)
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

  it('renews a token that expires mid-run once, and carries on', async () => {
    const emulator = await start({ jobDurationMs: 400 })
    emulator.inject('job', { kind: 'delay', ms: 50 })
    const watcher = setInterval(() => {
      if (emulator.requests.some((r) => r.route === 'job')) {
        emulator.expireTokens()
        clearInterval(watcher)
      }
    }, 5)
    const run = await runAction(
      baseInputs(emulator, { 'iam-username': 'deployer', 'iam-password': PASSWORD, 'iam-domain': 'acme' })
    )
    clearInterval(watcher)
    expect(run.exitCode).toBe(0)
    expect(succeeded(run)).toEqual(SERVERS)
    expect(emulator.requests.filter((r) => r.route === 'password-token')).toHaveLength(2)
    expect(emulator.requests.filter((r) => r.route === 'submit').every((r) => r.authenticatedBy === 'token')).toBe(true)
    expect(run.stdout).toMatch(/the token had expired; signed in again and retrying once/)
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
