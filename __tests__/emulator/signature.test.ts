/** AK/SK signature verification of requests. */
import { describe, expect, it } from 'vitest'
import { DEFAULT_PROJECT_ID, DEFAULT_REGION } from '.'
import { parseAuthorization, parseSdkDate } from './signature'
import {
  call,
  DEFAULT_AK,
  jobPath,
  manualClock,
  rebootBody,
  submit,
  SUBMIT_PATH,
  useEmulators,
  type CallOptions
} from '../support/emulator-calls'

const startEmulator = useEmulators()

describe('signature verification', () => {
  const body = rebootBody(['srv-a'])
  const cases: [string, CallOptions, RegExp?][] = [
    ['a tampered body', { body, sendBody: rebootBody(['srv-b']) }],
    ['a wrong secret key', { body, key: { accessKeyId: DEFAULT_AK, secretAccessKey: 'not-the-secret' } }],
    [
      'an unknown access key',
      { body, key: { accessKeyId: 'AKNOBODY', secretAccessKey: 'x' } },
      /ak:AKNOBODY,err:ak not exist/
    ],
    ['x-sdk-date left out of SignedHeaders', { body, rewriteAuthorization: (a) => a.replace(';x-sdk-date,', ',') }],
    ['a signed host other than the one received', { body, signAs: { host: 'ecs.ap-southeast-1.myhuaweicloud.com' } }],
    ['an x-sdk-date 16 minutes old', { body, date: new Date(Date.now() - 16 * 60_000) }, /signature expired/],
    ['an x-sdk-date 16 minutes ahead', { body, date: new Date(Date.now() + 16 * 60_000) }, /signature expired/],
    [
      'a signed path other than the one received',
      { body, sendPath: `/v1/${DEFAULT_PROJECT_ID}/cloudservers/action?x=1` }
    ],
    ['no Authorization header', { body, rewriteAuthorization: () => undefined }],
    ['a malformed Authorization header', { body, rewriteAuthorization: (a) => a.replace(/, Signature=.*$/, '') }],
    ['an Authorization header in upper case', { body, rewriteAuthorization: (a) => a.toUpperCase() }]
  ]

  it.each(cases)('rejects %s with 401 APIG.0301 and restarts nothing', async (_, options, message) => {
    const emulator = await startEmulator()
    const response = await call(emulator, SUBMIT_PATH, options)
    expect(response.status).toBe(401)
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f]+$/)
    const error = (await response.json()) as { error_code: string; error_msg: string; request_id: string }
    expect(error.error_code).toBe('APIG.0301')
    expect(error.error_msg).toMatch(message ?? /^Incorrect IAM authentication information/)
    expect(error.request_id).toBe(response.headers.get('x-request-id'))
    expect(emulator.restartCount('srv-a')).toBe(0)
    expect(emulator.restartCount('srv-b')).toBe(0)
    expect(emulator.jobIds()).toEqual([])
    expect(emulator.requests[0]).toMatchObject({ route: 'submit', status: 401, signatureValid: false })
  })

  it('compares the header names in SignedHeaders case-insensitively', async () => {
    const emulator = await startEmulator()
    const mixedCase = (a: string): string =>
      a.replace(
        'SignedHeaders=content-type;host;x-project-id;x-sdk-date',
        'SignedHeaders=Content-Type;HOST;X-Project-Id;X-Sdk-Date'
      )
    await submit(emulator, ['srv-a'], { rewriteAuthorization: mixedCase })
    expect(emulator.requests[0].headers.authorization).toContain(
      'SignedHeaders=Content-Type;HOST;X-Project-Id;X-Sdk-Date,'
    )
    expect(emulator.requests[0].signatureValid).toBe(true)
    expect(emulator.restartCount('srv-a')).toBe(1)
  })

  it('accepts host, content-type and x-project-id left out of SignedHeaders: only x-sdk-date must be signed', async () => {
    const emulator = await startEmulator()
    await submit(emulator, ['srv-a'], { unsigned: ['content-type'] })
    await submit(emulator, ['srv-a'], { unsigned: ['x-project-id'] })
    await submit(emulator, ['srv-a'], { unsigned: ['content-type', 'x-project-id'] })
    // As the Go SDK signs: never the host.
    await submit(emulator, ['srv-a'], { unsigned: ['host', 'content-type', 'x-project-id'] })
    expect(emulator.restartCount('srv-a')).toBe(4)
    expect(emulator.requests.map((r) => [r.status, r.signatureValid])).toEqual([
      [200, true],
      [200, true],
      [200, true],
      [200, true]
    ])
    expect(emulator.requests[2].headers.authorization).toContain(' SignedHeaders=host;x-sdk-date, ')
    expect(emulator.requests[3].headers.authorization).toContain(' SignedHeaders=x-sdk-date, ')
    // Unsigned, X-Project-Id must still name the path's project.
    const other = await call(emulator, SUBMIT_PATH, { body, unsigned: ['x-project-id'], projectId: 'f'.repeat(32) })
    expect(other.status).toBe(400)
    expect(await other.json()).toMatchObject({ error: { code: 'Common.0018' } })
    expect(emulator.restartCount('srv-a')).toBe(4)
  })

  it('accepts an x-sdk-date 14 minutes away from the emulator clock', async () => {
    const clock = manualClock()
    const emulator = await startEmulator({ now: clock.now })
    await submit(emulator, ['srv-a'], { date: new Date(clock.now() - 14 * 60_000) })
    await submit(emulator, ['srv-a'], { date: new Date(clock.now() + 14 * 60_000) })
    expect(emulator.restartCount('srv-a')).toBe(2)
    const stale = await call(emulator, SUBMIT_PATH, {
      body: rebootBody(['srv-a']),
      date: new Date(clock.now() - 16 * 60_000)
    })
    expect(stale.status).toBe(401)
  })

  it('verifies the job and project routes too', async () => {
    const emulator = await startEmulator()
    const jobId = await submit(emulator, ['srv-a'])
    const wrongKey = { accessKeyId: DEFAULT_AK, secretAccessKey: 'wrong' }
    const job = await call(emulator, jobPath(jobId), { key: wrongKey })
    expect(job.status).toBe(401)
    const otherHost = await call(emulator, jobPath(jobId), { signAs: { host: 'ecs.ap-southeast-1.myhuaweicloud.com' } })
    expect(otherHost.status).toBe(401)
    const projects = await call(emulator, `/v3/projects?name=${DEFAULT_REGION}`, { key: wrongKey })
    expect(projects.status).toBe(401)
    const tamperedQuery = await call(emulator, `/v3/projects?name=${DEFAULT_REGION}`, {
      sendPath: '/v3/projects?name=eu-west-0'
    })
    expect(tamperedQuery.status).toBe(401)
    expect(emulator.requests.map((r) => [r.route, r.status, r.signatureValid])).toEqual([
      ['submit', 200, true],
      ['job', 401, false],
      ['job', 401, false],
      ['projects', 401, false],
      ['projects', 401, false]
    ])
  })

  describe('temporary credentials', () => {
    const credentials = {
      AKTEMPORARY: { secretAccessKey: 'SKTEMPORARY', securityToken: 'token-123' },
      AKPERMANENT: { secretAccessKey: 'SKPERMANENT' }
    }
    const temporaryKey = { accessKeyId: 'AKTEMPORARY', secretAccessKey: 'SKTEMPORARY' }
    const permanentKey = { accessKeyId: 'AKPERMANENT', secretAccessKey: 'SKPERMANENT' }
    const body = rebootBody(['srv-a'])

    it('requires the signed security token of the credential', async () => {
      const emulator = await startEmulator({ credentials })
      const statuses = []
      for (const options of [
        { key: temporaryKey }, // no token
        { key: temporaryKey, securityToken: 'token-999' }, // wrong token
        { key: temporaryKey, securityToken: 'token-123', unsigned: ['x-security-token'] }, // not signed
        { key: temporaryKey, securityToken: 'token-123' } // right
      ] satisfies CallOptions[]) {
        statuses.push((await call(emulator, SUBMIT_PATH, { body, ...options })).status)
      }
      expect(statuses).toEqual([401, 401, 401, 200])
      expect(emulator.restartCount('srv-a')).toBe(1)
      expect(emulator.requests.map((r) => r.signatureValid)).toEqual([false, false, false, true])
    })

    it('rejects a security token sent with a credential that has none', async () => {
      const emulator = await startEmulator({ credentials })
      const withToken = await call(emulator, SUBMIT_PATH, { body, key: permanentKey, securityToken: 'token-123' })
      expect(withToken.status).toBe(401)
      const without = await call(emulator, SUBMIT_PATH, { body, key: permanentKey })
      expect(without.status).toBe(200)
      expect(emulator.restartCount('srv-a')).toBe(1)
    })
  })
})

describe('reading X-Sdk-Date and Authorization', () => {
  it('reads X-Sdk-Date in UTC, and only real dates of that exact shape', () => {
    expect(parseSdkDate('20240102T030405Z')).toBe(Date.UTC(2024, 0, 2, 3, 4, 5))
    for (const bad of ['2024-01-02T03:04:05Z', '20240102T030405', '20240230T030405Z', '20241302T030405Z']) {
      expect(parseSdkDate(bad), bad).toBeUndefined()
    }
  })

  it('reads the Authorization header of SDK-HMAC-SHA256, and refuses others', () => {
    const signature = 'ab'.repeat(32)
    const header = `SDK-HMAC-SHA256 Access=AKEXAMPLE, SignedHeaders=Host;x-sdk-date, Signature=${signature}`
    expect(parseAuthorization(header)).toEqual({
      accessKeyId: 'AKEXAMPLE',
      signedHeaders: ['host', 'x-sdk-date'],
      signature
    })
    expect(parseAuthorization('Bearer abc')).toBeUndefined()
    expect(parseAuthorization(header.replace('SDK-HMAC-SHA256', 'SDK-HMAC-SHA1'))).toBeUndefined()
    expect(parseAuthorization(header.replace('Host;x-sdk-date', 'host;;x-sdk-date'))).toBeUndefined()
  })
})
