import { describe, expect, it, onTestFinished } from 'vitest'
import type { ActionIO } from '../../src/action/action-io'
import { readInputs } from '../../src/action/inputs'
import { signIn } from '../../src/action/sign-in'
import { ApiClient } from '../../src/cloud/api'
import { anonymous } from '../../src/cloud/auth'
import { TransportError } from '../../src/cloud/errors'
import { createHttpTransport, type HttpRequest } from '../../src/cloud/http'
import { DEFAULT_RETRY_POLICY } from '../../src/cloud/retry'
import { DEFAULT_REGION, type EcsEmulator } from '../emulator'
import { serverIds, useEmulator } from '../support/fixtures'
import { createOidcFixture, oidcEmulatorOptions, requestIdToken } from '../support/oidc'
import { recordingIO } from '../support/recording-io'

// signIn() against the emulator's IAM: renewal of temporary keys and tokens, and what stops a sign-in.

const emulators = useEmulator()
const MINUTE = 60_000

function signInWith(io: ActionIO) {
  const transport = createHttpTransport({ timeoutMs: 5000, maxBodyBytes: 1024 * 1024, userAgent: 'test' })
  onTestFinished(() => transport.close())
  const iam = new ApiClient({
    transport,
    authenticator: anonymous,
    retry: DEFAULT_RETRY_POLICY,
    clock: io.clock,
    sleep: () => Promise.resolve(),
    random: io.random,
    log: io.log,
    signal: io.cancellation
  })
  return signIn(readInputs(io), iam, io)
}

const inputs = (emulator: EcsEmulator, extra: Record<string, string>) => ({
  'server-ids': serverIds(1)[0],
  region: DEFAULT_REGION,
  endpoint: emulator.url,
  'iam-endpoint': emulator.url,
  ...extra
})

async function oidcEmulator() {
  const emulator = await emulators.start(oidcEmulatorOptions(createOidcFixture()))
  return { emulator, env: emulator.githubOidcEnv() }
}

const request = (emulator: EcsEmulator): HttpRequest => ({
  method: 'GET',
  url: new URL(`${emulator.url}/v1/project/cloudservers/detail`),
  headers: {},
  body: ''
})

describe('signIn', () => {
  it('keeps signing with the current temporary keys when a renewal fails, warns, and renews a minute later', async () => {
    const { emulator, env } = await oidcEmulator()
    let asked = 0
    const { io, record } = recordingIO(inputs(emulator, { 'idp-id': 'idp' }), {
      env,
      getIDToken: (audience) =>
        ++asked === 2 ? Promise.reject(new Error('HTTP 503 from the token service')) : requestIdToken(env, audience)
    })
    const { authenticator } = await signInWith(io)
    // Keys of 6 hours are renewed 40 minutes before they expire.
    const [first] = emulator.issuedTemporaryKeys()
    const tokenAt = async (minutesBeforeExpiry: number) =>
      (await authenticator.authorize(request(emulator), new Date(first.expiresAt - minutesBeforeExpiry * MINUTE)))
        .headers['X-Security-Token']
    expect(await tokenAt(41)).toBe(first.securityToken)
    expect(asked).toBe(1)
    expect(await tokenAt(39)).toBe(first.securityToken)
    expect(record.lines).toContain(
      "warning: Renewing the temporary access keys failed (Getting the workflow's ID token from GitHub failed: HTTP 503 from the token service); using the current ones, still valid, and trying again in a minute"
    )
    expect(await tokenAt(38.5)).toBe(first.securityToken)
    expect(asked).toBe(2)
    const renewed = await tokenAt(37.5)
    const second = emulator.issuedTemporaryKeys()[1]
    expect(renewed).toBe(second.securityToken)
    expect(record.lines.at(-1)).toBe(
      `Renewed the temporary access keys; valid until ${new Date(second.expiresAt).toISOString()}`
    )
    expect(record.masked).toEqual(expect.arrayContaining([second.secretAccessKey, second.securityToken]))
  })

  it('refuses OIDC at once, calling nothing, when GitHub gave the job no ID-token route', async () => {
    const { emulator } = await oidcEmulator()
    const { io } = recordingIO(inputs(emulator, { 'idp-id': 'idp' }))
    await expect(signInWith(io)).rejects.toThrow(
      'GitHub gave this job no OIDC token: add `permissions: id-token: write` to the workflow or job (pull requests from forks never get one).'
    )
    expect(emulator.requests).toEqual([])
  })

  it.each([
    ['before', true],
    ['while', false]
  ])('stops waiting for the ID token when the run is cancelled %s it is asked for', async (_, early) => {
    const { emulator, env } = await oidcEmulator()
    const controller = new AbortController()
    const { io } = recordingIO(inputs(emulator, { 'idp-id': 'idp' }), {
      env,
      cancellation: controller.signal,
      getIDToken: () => {
        if (early) controller.abort('SIGINT')
        else setImmediate(() => controller.abort('SIGINT'))
        return new Promise<string>(() => {})
      }
    })
    await expect(signInWith(io)).rejects.toThrow(
      "Getting the workflow's ID token from GitHub failed: The run was cancelled while signing in."
    )
    expect(emulator.requests).toEqual([])
  })

  it('passes on a failure that is not an IAM refusal as it is, with no sign-in hint', async () => {
    const emulator = await emulators.start({ iamUsers: [{ domain: 'acme', name: 'ops', password: 'pw' }] })
    const { io } = recordingIO(inputs(emulator, { 'iam-username': 'ops', 'iam-password': 'pw', 'iam-domain': 'acme' }))
    await emulator.close()
    const error = await signInWith(io).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TransportError)
    expect((error as Error).message).toMatch(
      /^Signing in as IAM user ops of acme got no complete answer: connect ECONNREFUSED /
    )
  })

  it('explains an IAM refusal with what to check, naming the step', async () => {
    const emulator = await emulators.start({ iamUsers: [{ domain: 'acme', name: 'ops', password: 'pw' }] })
    const { io } = recordingIO(
      inputs(emulator, { 'iam-username': 'ops', 'iam-password': 'wrong', 'iam-domain': 'acme' })
    )
    const error = await signInWith(io).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).cause).toMatchObject({ status: 401 })
    expect((error as Error).message).toMatch(/^Signing in as IAM user ops of acme failed with HTTP 401, .*\)\. \S/)
    expect(emulator.requests.filter((r) => r.route === 'password-token')).toHaveLength(1)
  })

  it('signs in again with the password when the token is refused as expired, masking the new token', async () => {
    const emulator = await emulators.start({ iamUsers: [{ domain: 'acme', name: 'ops', password: 'pw' }] })
    const { io, record } = recordingIO(
      inputs(emulator, { 'iam-username': 'ops', 'iam-password': 'pw', 'iam-domain': 'acme' })
    )
    const { authenticator } = await signInWith(io)
    const signed = await authenticator.authorize(request(emulator), new Date())
    const [first] = emulator.issuedTokens()
    expect(signed.headers['X-Auth-Token']).toBe(first)
    expect(await authenticator.renew(signed)).toBe(true)
    const [, second] = emulator.issuedTokens()
    expect(second).not.toBe(first)
    expect((await authenticator.authorize(request(emulator), new Date())).headers['X-Auth-Token']).toBe(second)
    expect(record.masked).toEqual(['pw', first, second])
    expect(emulator.requests.filter((r) => r.route === 'password-token')).toHaveLength(2)
  })
})
