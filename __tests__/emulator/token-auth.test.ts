/** Token authentication (X-Auth-Token) on the ECS, Nova and IAM routes. */
import { describe, expect, it } from 'vitest'
import { DEFAULT_PROJECT_ID, DEFAULT_REGION, EcsEmulator, ecsError, iamError } from '.'
import {
  call,
  jobPath,
  manualClock,
  rebootBody,
  submit,
  SUBMIT_PATH,
  useEmulators,
  type JobBody
} from '../support/emulator-calls'
import {
  exchangeIdToken,
  exchangePassword,
  federatedToken,
  identityOptions,
  idTokenClaims,
  OIDC,
  OTHER_PROJECT,
  OTHER_PROJECT_ID,
  tokenCall,
  type TokenBody
} from '../support/identity'
import { signJwt } from '../support/oidc'

const startEmulator = useEmulators()

describe('token authentication (X-Auth-Token) on ECS and IAM routes', () => {
  it('submits a restart and queries its job with a federated token, without signing', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(identityOptions(clock, { jobDurationMs: 0 }))
    const token = await federatedToken(emulator, clock.now())

    const submitted = await tokenCall(emulator, SUBMIT_PATH, token, { body: rebootBody(['srv-a', 'srv-b']) })
    expect(submitted.status).toBe(200)
    const { job_id: jobId } = (await submitted.json()) as { job_id: string }
    expect(emulator.restartCount('srv-a')).toBe(1)
    expect(emulator.restartCount('srv-b')).toBe(1)
    const job = await tokenCall(emulator, jobPath(jobId), token)
    expect(job.status).toBe(200)
    expect(((await job.json()) as JobBody).status).toBe('SUCCESS')
    const projects = await tokenCall(emulator, `/v3/projects?name=${DEFAULT_REGION}`, token)
    expect(projects.status).toBe(200)
    // X-Project-Id is optional with a token, but must agree with the path when sent.
    const withHeader = await tokenCall(emulator, jobPath(jobId), token, {
      headers: { 'x-project-id': DEFAULT_PROJECT_ID }
    })
    expect(withHeader.status).toBe(200)
    const wrongHeader = await tokenCall(emulator, jobPath(jobId), token, {
      headers: { 'x-project-id': OTHER_PROJECT_ID }
    })
    expect(wrongHeader.status).toBe(400)
    expect(await wrongHeader.json()).toMatchObject({ error: { code: 'Common.0018' } })

    expect(emulator.requests.map((r) => [r.route, r.status, r.signatureValid, r.authenticatedBy])).toEqual([
      ['id-token', 201, false, 'none'],
      ['submit', 200, false, 'token'],
      ['job', 200, false, 'token'],
      ['projects', 200, false, 'token'],
      ['job', 200, false, 'token'],
      ['job', 400, false, 'token']
    ])
  })

  it('takes a password token too, on the Nova routes as well', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(identityOptions(clock))
    const response = await exchangePassword(emulator)
    const token = response.headers.get('x-subject-token') ?? ''
    const reboot = await tokenCall(emulator, `/v2.1/${DEFAULT_PROJECT_ID}/servers/srv-n/action`, token, {
      body: JSON.stringify({ reboot: { type: 'SOFT' } })
    })
    expect(reboot.status).toBe(202)
    expect(emulator.restartCount('srv-n')).toBe(1)
  })

  it('answers 401 APIG.0307 once expireTokens() ran, and accepts tokens issued after it', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(identityOptions(clock))
    const first = await federatedToken(emulator, clock.now())
    await submit(emulator, ['srv-a'], { date: clock.date() }) // signed requests are not affected
    expect((await tokenCall(emulator, SUBMIT_PATH, first, { body: rebootBody(['srv-a']) })).status).toBe(200)

    emulator.expireTokens()
    const expired = await tokenCall(emulator, SUBMIT_PATH, first, { body: rebootBody(['srv-a']) })
    expect(expired.status).toBe(401)
    expect(await expired.json()).toMatchObject({ error_code: 'APIG.0307', error_msg: 'The token must be updated.' })
    expect(emulator.restartCount('srv-a')).toBe(2)
    expect(emulator.requests.at(-1)).toMatchObject({ status: 401, signatureValid: false, authenticatedBy: 'none' })

    const second = await federatedToken(emulator, clock.now())
    expect((await tokenCall(emulator, SUBMIT_PATH, second, { body: rebootBody(['srv-a']) })).status).toBe(200)
    expect(emulator.issuedTokens()).toEqual([first, second])
    expect(emulator.restartCount('srv-a')).toBe(3)
  })

  it('expires tokens after tokenLifetimeMs by the emulator clock', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(identityOptions(clock, { tokenLifetimeMs: 60_000 }))
    const response = await exchangePassword(emulator)
    expect(((await response.json()) as TokenBody).token.expires_at).toBe('2024-01-02T03:05:05.000000Z')
    const token = response.headers.get('x-subject-token') ?? ''
    clock.advance(59_999)
    expect((await tokenCall(emulator, `/v3/projects`, token)).status).toBe(200)
    clock.advance(1)
    const expired = await tokenCall(emulator, `/v3/projects`, token)
    expect(expired.status).toBe(401)
    expect(await expired.json()).toMatchObject({ error_code: 'APIG.0307' })
  })

  it('answers 401 APIG.0301 for a token it did not issue', async () => {
    const emulator = await startEmulator(identityOptions(manualClock()))
    const response = await tokenCall(emulator, SUBMIT_PATH, 'MIIgarbage', { body: rebootBody(['srv-a']) })
    expect(response.status).toBe(401)
    expect(await response.json()).toMatchObject({
      error_code: 'APIG.0301',
      error_msg: 'Incorrect IAM authentication information: decrypt token fail'
    })
    expect(emulator.restartCount('srv-a')).toBe(0)
    expect(emulator.requests[0]).toMatchObject({ route: 'submit', signatureValid: false, authenticatedBy: 'none' })
  })

  it('rejects a token scoped to another project with 400 Common.0018', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(identityOptions(clock))
    const token = await federatedToken(emulator, clock.now(), { project: { name: OTHER_PROJECT } })
    const response = await tokenCall(emulator, SUBMIT_PATH, token, { body: rebootBody(['srv-a']) })
    expect(response.status).toBe(400)
    expect(await response.json()).toEqual(
      ecsError(
        'Common.0018',
        `The project_id in the token does not match the project_id in the URL: the token is scoped to project ${OTHER_PROJECT_ID}, the URL names project ${DEFAULT_PROJECT_ID}.`
      )
    )
    expect(emulator.restartCount('srv-a')).toBe(0)
    const own = await tokenCall(emulator, `/v1/${OTHER_PROJECT_ID}/cloudservers/action`, token, {
      body: rebootBody(['srv-a'])
    })
    expect(own.status).toBe(200)
  })

  it('checks the signature when an Authorization header is sent, whatever X-Auth-Token says', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(identityOptions(clock))
    const signed = await call(emulator, `/v3/projects?name=${DEFAULT_REGION}`, { date: clock.date() })
    expect(signed.status).toBe(200)
    const response = await fetch(new URL(SUBMIT_PATH, emulator.url), {
      method: 'POST',
      headers: { authorization: 'SDK-HMAC-SHA256 nonsense', 'x-auth-token': 'MIIgarbage' },
      body: rebootBody(['srv-a'])
    })
    expect(response.status).toBe(401)
    expect(await response.json()).toMatchObject({ error_code: 'APIG.0301', error_msg: expect.stringMatching(/aksk/) })
    expect(emulator.requests.map((r) => r.authenticatedBy)).toEqual(['signature', 'none'])
  })

  it('counts the identity routes once used, takes faults on them and validates tokenLifetimeMs', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(identityOptions(clock))
    expect(emulator.counters().requests['id-token']).toBeUndefined()
    emulator.inject('id-token', { kind: 'respond', status: 503, body: iamError('IAM.0006', 'busy') })
    const jwt = signJwt(idTokenClaims(clock.now()), OIDC.privateKey, OIDC.kid)
    expect((await exchangeIdToken(emulator, jwt)).status).toBe(503)
    expect((await exchangeIdToken(emulator, jwt)).status).toBe(201)
    expect(emulator.pendingFaults('id-token')).toBe(0)
    expect(emulator.counters().requests).toMatchObject({ 'id-token': 2, submit: 0 })
    expect(emulator.counters().outcomes).toEqual({ '201': 1, '503': 1 })

    for (const tokenLifetimeMs of [0, -1, Number.NaN, Infinity]) {
      await expect(EcsEmulator.start({ tokenLifetimeMs })).rejects.toThrow(RangeError)
    }
  })
})
