import * as core from '@actions/core'
import { spawn } from 'node:child_process'
import { createPublicKey, verify as verifySignature } from 'node:crypto'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { formatSdkDate, sign } from '../src/signer'
import {
  DEFAULT_CREDENTIALS,
  DEFAULT_DOMAIN_ID,
  DEFAULT_PROJECT_ID,
  DEFAULT_REGION,
  EcsEmulator,
  ecsError,
  gatewayError,
  GITHUB_OIDC_PATH,
  iamError,
  ID_TOKEN_PATH,
  keystoneError,
  PASSWORD_TOKEN_PATH,
  type EmulatorOptions
} from './emulator'
import { createOidcFixture, decodeJwt, GITHUB_OIDC_ISSUER, signJwt } from './support/oidc'

const [DEFAULT_AK, DEFAULT_CREDENTIAL] = Object.entries(DEFAULT_CREDENTIALS)[0]
const DEFAULT_KEY = { accessKeyId: DEFAULT_AK, secretAccessKey: DEFAULT_CREDENTIAL.secretAccessKey }
const SUBMIT_PATH = `/v1/${DEFAULT_PROJECT_ID}/cloudservers/action`
const jobPath = (jobId: string, projectId = DEFAULT_PROJECT_ID): string => `/v1/${projectId}/jobs/${jobId}`

const started: EcsEmulator[] = []
async function startEmulator(options?: EmulatorOptions): Promise<EcsEmulator> {
  const emulator = await EcsEmulator.start(options)
  started.push(emulator)
  return emulator
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((emulator) => emulator.close()))
})

interface CallOptions {
  method?: string
  body?: string
  key?: { accessKeyId: string; secretAccessKey: string }
  /** X-Project-Id header; default: the path's project on /v1 paths, none elsewhere. null: omit. */
  projectId?: string | null
  date?: Date
  securityToken?: string
  /** Header names (lower case) sent but left out of SignedHeaders. */
  unsigned?: string[]
  /** Values signed instead of the ones sent. */
  signAs?: Record<string, string>
  /** Body sent instead of the signed one. */
  sendBody?: string
  /** Path (and query) sent instead of the signed one. */
  sendPath?: string
  /** Rewrites the Authorization header after signing; returning undefined drops the header. */
  rewriteAuthorization?: (authorization: string) => string | undefined
  signal?: AbortSignal
}

/** A request signed with the project's signer, the way the action sends it. */
function call(emulator: Pick<EcsEmulator, 'url'>, path: string, options: CallOptions = {}): Promise<Response> {
  const method = options.method ?? (options.body === undefined ? 'GET' : 'POST')
  const url = new URL(path, emulator.url)
  const headers: Record<string, string> = {
    host: url.host,
    'x-sdk-date': formatSdkDate(options.date ?? new Date())
  }
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  const projectId =
    options.projectId === undefined ? /^\/v1\/([^/]+)\//.exec(path)?.[1] : (options.projectId ?? undefined)
  if (projectId !== undefined) headers['x-project-id'] = projectId
  if (options.securityToken !== undefined) headers['x-security-token'] = options.securityToken

  const signedHeaders: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (!options.unsigned?.includes(name)) signedHeaders[name] = options.signAs?.[name] ?? value
  }
  for (const [name, value] of Object.entries(options.signAs ?? {})) signedHeaders[name] ??= value
  const signature = sign({ method, url, signedHeaders, body: options.body ?? '' }, options.key ?? DEFAULT_KEY)
  const { host: _host, ...sent }: Record<string, string> = headers // fetch sets Host itself
  const authorization = options.rewriteAuthorization
    ? options.rewriteAuthorization(signature.authorization)
    : signature.authorization
  if (authorization !== undefined) sent.authorization = authorization
  return fetch(new URL(options.sendPath ?? path, emulator.url), {
    method,
    headers: sent,
    body: options.sendBody ?? options.body,
    signal: options.signal
  })
}

function rebootBody(ids: string[], type: 'SOFT' | 'HARD' = 'SOFT'): string {
  return JSON.stringify({ reboot: { type, servers: ids.map((id) => ({ id })) } })
}

type SubmitAction = 'reboot' | 'os-start' | 'os-stop'

/** A valid body for any of the three batch actions (os-start without a type, the others SOFT). */
function actionBody(action: SubmitAction, ids: string[]): string {
  const servers = ids.map((id) => ({ id }))
  return JSON.stringify({ [action]: action === 'os-start' ? { servers } : { type: 'SOFT', servers } })
}

async function submit(emulator: EcsEmulator, ids: string[], options: CallOptions = {}): Promise<string> {
  const response = await call(emulator, SUBMIT_PATH, { body: rebootBody(ids), ...options })
  expect(response.status).toBe(200)
  const body = (await response.json()) as { job_id: string }
  return body.job_id
}

/** The fields a job and each of its sub-jobs share. */
interface JobFields {
  status: string
  job_id: string
  job_type: string
  begin_time: string
  end_time: string | null
  error_code: string | null
  fail_reason: string | null
}
interface SubJob extends JobFields {
  entities: { server_id: string; errorcode_message?: string }
}
interface JobBody extends JobFields {
  entities: { sub_jobs_total: number; sub_jobs: SubJob[] }
}

async function queryJob(emulator: EcsEmulator, jobId: string, options: CallOptions = {}): Promise<JobBody> {
  const response = await call(emulator, jobPath(jobId), options)
  expect(response.status).toBe(200)
  return (await response.json()) as JobBody
}

/** A clock the test moves by hand; X-Sdk-Date values follow it. */
function manualClock(start = Date.UTC(2024, 0, 2, 3, 4, 5)): {
  now: () => number
  advance: (ms: number) => void
  date: () => Date
} {
  let t = start
  return { now: () => t, advance: (ms) => void (t += ms), date: () => new Date(t) }
}

describe('accepted batch restart', () => {
  it('returns a job id, counts one restart per server and records the signed request', async () => {
    const emulator = await startEmulator()
    const body = rebootBody(['srv-a', 'srv-b'])
    const response = await call(emulator, SUBMIT_PATH, { body })

    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('application/json')
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/)
    const { job_id } = (await response.json()) as { job_id: string }
    expect(job_id).toMatch(/^[0-9a-f]{32}$/)
    expect(emulator.jobIds()).toEqual([job_id])
    expect(emulator.restartCount('srv-a')).toBe(1)
    expect(emulator.restartCount('srv-b')).toBe(1)
    expect(emulator.restartCount('srv-c')).toBe(0)

    expect(emulator.requests).toHaveLength(1)
    const [recorded] = emulator.requests
    expect(recorded).toMatchObject({
      route: 'submit',
      method: 'POST',
      path: SUBMIT_PATH,
      body,
      status: 200,
      signatureValid: true
    })
    expect(recorded.headers['x-project-id']).toBe(DEFAULT_PROJECT_ID)
    expect(recorded.headers.authorization).toMatch(
      /^SDK-HMAC-SHA256 Access=AKEMULATOR0000000000, SignedHeaders=content-type;host;x-project-id;x-sdk-date, /
    )
  })

  it('counts a server once per accepted request, however often it is listed', async () => {
    const emulator = await startEmulator()
    await submit(emulator, ['srv-a', 'srv-a', 'srv-b'])
    await submit(emulator, ['srv-a'])
    expect(emulator.restartCount('srv-a')).toBe(2)
    expect(emulator.restartCount('srv-b')).toBe(1)
    expect(emulator.jobIds()).toHaveLength(2)
    expect(new Set(emulator.jobIds()).size).toBe(2)
  })

  it('accepts exactly 1000 servers and rejects 1001 with Ecs.0118', async () => {
    const emulator = await startEmulator()
    const ids = Array.from({ length: 1001 }, (_, i) => `srv-${i}`)
    const tooMany = await call(emulator, SUBMIT_PATH, { body: rebootBody(ids) })
    expect(tooMany.status).toBe(400)
    expect(await tooMany.json()).toMatchObject({ error: { code: 'Ecs.0118' } })
    expect(emulator.restartCount('srv-0')).toBe(0)
    expect(emulator.jobIds()).toEqual([])

    await submit(emulator, ids.slice(0, 1000))
    expect(emulator.restartCount('srv-0')).toBe(1)
    expect(emulator.restartCount('srv-999')).toBe(1)
    expect(emulator.restartCount('srv-1000')).toBe(0)
  })

  it.each([
    ['not JSON', '{"reboot":'],
    ['a JSON array', '[]'],
    ['no action key', '{"restart":{"type":"SOFT","servers":[{"id":"a"}]}}'],
    [
      'two action keys',
      '{"reboot":{"type":"SOFT","servers":[{"id":"a"}]},"os-stop":{"type":"SOFT","servers":[{"id":"a"}]}}'
    ],
    ['reboot without type', '{"reboot":{"servers":[{"id":"a"}]}}'],
    ['reboot with a bad type', '{"reboot":{"type":"GENTLE","servers":[{"id":"a"}]}}'],
    ['os-stop without type', '{"os-stop":{"servers":[{"id":"a"}]}}'],
    ['an empty server list', '{"reboot":{"type":"SOFT","servers":[]}}'],
    ['servers not an array', '{"reboot":{"type":"SOFT","servers":{"id":"a"}}}'],
    ['a server without id', '{"reboot":{"type":"SOFT","servers":[{"id":"a"},{"name":"b"}]}}'],
    ['a non-string id', '{"reboot":{"type":"SOFT","servers":[{"id":7}]}}']
  ])('rejects %s with 400 Ecs.0005 and restarts nothing', async (_, body) => {
    const emulator = await startEmulator()
    const response = await call(emulator, SUBMIT_PATH, { body })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ error: { code: 'Ecs.0005' } })
    expect(emulator.restartCount('a')).toBe(0)
    expect(emulator.jobIds()).toEqual([])
    expect(emulator.requests[0].signatureValid).toBe(true)
  })

  it('names the job after the action: os-start (no type needed) and os-stop', async () => {
    const clock = manualClock()
    const emulator = await startEmulator({ now: clock.now, jobDurationMs: 1000 })
    const start = await call(emulator, SUBMIT_PATH, {
      body: JSON.stringify({ 'os-start': { servers: [{ id: 'srv-a' }] } }),
      date: clock.date()
    })
    expect(start.status).toBe(200)
    const stop = await call(emulator, SUBMIT_PATH, {
      body: JSON.stringify({ 'os-stop': { type: 'HARD', servers: [{ id: 'srv-b' }] } }),
      date: clock.date()
    })
    expect(stop.status).toBe(200)
    clock.advance(1000)
    const [startJob, stopJob] = emulator.jobIds()
    const started = await queryJob(emulator, startJob, { date: clock.date() })
    const stopped = await queryJob(emulator, stopJob, { date: clock.date() })
    expect(started.job_type).toBe('batchStartServers')
    expect(started.entities.sub_jobs[0].entities.server_id).toBe('srv-a')
    expect(stopped.job_type).toBe('batchStopServers')
    expect(stopped.entities.sub_jobs[0].entities.server_id).toBe('srv-b')
  })
})

describe('job progress', () => {
  it('goes INIT -> RUNNING -> SUCCESS with the injected clock', async () => {
    const clock = manualClock()
    const emulator = await startEmulator({ now: clock.now, jobDurationMs: 1000 })
    const submittedAt = clock.now()
    const jobId = await submit(emulator, ['srv-a', 'srv-b', 'srv-c'], { date: clock.date() })

    clock.advance(100)
    const init = await queryJob(emulator, jobId, { date: clock.date() })
    expect(init).toMatchObject({
      status: 'INIT',
      job_id: jobId,
      job_type: 'batchRebootServers',
      begin_time: new Date(submittedAt).toISOString(),
      end_time: null,
      error_code: null,
      fail_reason: null,
      entities: { sub_jobs_total: 0, sub_jobs: [] }
    })

    clock.advance(200) // 30 %
    const running = await queryJob(emulator, jobId, { date: clock.date() })
    expect(running.status).toBe('RUNNING')
    expect(running.end_time).toBeNull()
    expect(running.entities.sub_jobs_total).toBe(3)
    expect(running.entities.sub_jobs.map((s) => [s.status, s.entities.server_id])).toEqual([
      ['RUNNING', 'srv-a'],
      ['RUNNING', 'srv-b'],
      ['RUNNING', 'srv-c']
    ])

    clock.advance(699) // 1 ms before the end
    expect((await queryJob(emulator, jobId, { date: clock.date() })).status).toBe('RUNNING')

    clock.advance(1)
    const done = await queryJob(emulator, jobId, { date: clock.date() })
    expect(done.status).toBe('SUCCESS')
    expect(done.error_code).toBeNull()
    expect(done.fail_reason).toBeNull()
    expect(done.end_time).toBe(new Date(submittedAt + 1000).toISOString())
    expect(done.entities.sub_jobs_total).toBe(3)
    for (const sub of done.entities.sub_jobs) {
      expect(sub).toMatchObject({
        status: 'SUCCESS',
        job_type: 'rebootServer',
        begin_time: new Date(submittedAt).toISOString(),
        end_time: new Date(submittedAt + 1000).toISOString(),
        error_code: null,
        fail_reason: null
      })
      expect(sub.job_id).toMatch(/^[0-9a-f]{32}$/)
    }
    expect(new Set(done.entities.sub_jobs.map((s) => s.job_id)).size).toBe(3)
  })

  it('fails the sub-jobs of failing servers and the job with the first failure', async () => {
    const clock = manualClock()
    const emulator = await startEmulator({
      now: clock.now,
      jobDurationMs: 500,
      serverFailures: {
        'srv-locked': { code: 'Ecs.0605', reason: 'ECS locked.' },
        'srv-broken': { code: 'Ecs.0227', reason: 'Failed to reboot.' }
      }
    })
    const jobId = await submit(emulator, ['srv-ok', 'srv-broken', 'srv-locked'], { date: clock.date() })

    clock.advance(200)
    const running = await queryJob(emulator, jobId, { date: clock.date() })
    expect(running.status).toBe('RUNNING')
    expect(running.entities.sub_jobs.every((s) => s.status === 'RUNNING' && s.error_code === null)).toBe(true)

    clock.advance(300)
    const done = await queryJob(emulator, jobId, { date: clock.date() })
    expect(done.status).toBe('FAIL')
    expect(done.error_code).toBe('Ecs.0227')
    expect(done.fail_reason).toBe('Failed to reboot.')
    const byServer = Object.fromEntries(done.entities.sub_jobs.map((s) => [s.entities.server_id, s]))
    expect(byServer['srv-ok']).toMatchObject({ status: 'SUCCESS', error_code: null, fail_reason: null })
    expect(byServer['srv-broken']).toMatchObject({
      status: 'FAIL',
      error_code: 'Ecs.0227',
      fail_reason: 'Failed to reboot.'
    })
    expect(byServer['srv-locked']).toMatchObject({
      status: 'FAIL',
      error_code: 'Ecs.0605',
      fail_reason: 'ECS locked.',
      entities: { server_id: 'srv-locked', errorcode_message: 'ECS locked.' }
    })
    expect(emulator.restartCount('srv-broken')).toBe(1)
  })

  it("fails unknown servers' sub-jobs with Ecs.0114 in 'sub-job' mode (the default)", async () => {
    const emulator = await startEmulator({ servers: ['srv-a'], jobDurationMs: 0 })
    const jobId = await submit(emulator, ['srv-a', 'srv-ghost'])
    const done = await queryJob(emulator, jobId)
    expect(done.status).toBe('FAIL')
    expect(done.error_code).toBe('Ecs.0114')
    expect(done.entities.sub_jobs.map((s) => [s.entities.server_id, s.status, s.error_code])).toEqual([
      ['srv-a', 'SUCCESS', null],
      ['srv-ghost', 'FAIL', 'Ecs.0114']
    ])
  })

  it("rejects the whole request with 404 Ecs.0114 in 'reject' mode", async () => {
    const emulator = await startEmulator({ servers: ['srv-a'], unknownServers: 'reject' })
    const response = await call(emulator, SUBMIT_PATH, { body: rebootBody(['srv-a', 'srv-ghost']) })
    expect(response.status).toBe(404)
    expect(await response.json()).toMatchObject({ error: { code: 'Ecs.0114' } })
    expect(emulator.restartCount('srv-a')).toBe(0)
    expect(emulator.jobIds()).toEqual([])
    await submit(emulator, ['srv-a'])
    expect(emulator.restartCount('srv-a')).toBe(1)
  })

  it('answers 400 Common.0011 for an unknown job id and for a job of another project', async () => {
    const other = 'ffffffffffffffffffffffffffffffff'
    const emulator = await startEmulator({ projects: { [DEFAULT_REGION]: DEFAULT_PROJECT_ID, 'eu-west-0': other } })
    const unknown = await call(emulator, jobPath('0'.repeat(32)))
    expect(unknown.status).toBe(400)
    expect(await unknown.json()).toEqual(ecsError('Common.0011', 'Failed to query system tasks.'))

    const jobId = await submit(emulator, ['srv-a'])
    const elsewhere = await call(emulator, jobPath(jobId, other))
    expect(elsewhere.status).toBe(400)
    expect(await elsewhere.json()).toMatchObject({ error: { code: 'Common.0011' } })
    expect((await queryJob(emulator, jobId)).job_id).toBe(jobId)
  })
})

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
    ['host left out of SignedHeaders', { body, unsigned: ['host'] }],
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

  it('accepts content-type and x-project-id left out of SignedHeaders, as the cloud does', async () => {
    const emulator = await startEmulator()
    await submit(emulator, ['srv-a'], { unsigned: ['content-type'] })
    await submit(emulator, ['srv-a'], { unsigned: ['x-project-id'] })
    await submit(emulator, ['srv-a'], { unsigned: ['content-type', 'x-project-id'] })
    expect(emulator.restartCount('srv-a')).toBe(3)
    expect(emulator.requests.map((r) => [r.status, r.signatureValid])).toEqual([
      [200, true],
      [200, true],
      [200, true]
    ])
    expect(emulator.requests[2].headers.authorization).toContain(' SignedHeaders=host;x-sdk-date, ')
    // Unsigned, X-Project-Id must still name the path's project.
    const other = await call(emulator, SUBMIT_PATH, { body, unsigned: ['x-project-id'], projectId: 'f'.repeat(32) })
    expect(other.status).toBe(400)
    expect(await other.json()).toMatchObject({ error: { code: 'Common.0018' } })
    expect(emulator.restartCount('srv-a')).toBe(3)
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
    const unsignedHost = await call(emulator, jobPath(jobId), { unsigned: ['host'] })
    expect(unsignedHost.status).toBe(401)
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

describe('project checks on /v1 routes', () => {
  it('answers 400 Common.0018 when X-Project-Id differs from the path', async () => {
    const emulator = await startEmulator()
    const response = await call(emulator, SUBMIT_PATH, {
      body: rebootBody(['srv-a']),
      projectId: 'ffffffffffffffffffffffffffffffff'
    })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ error: { code: 'Common.0018' } })
    expect(emulator.restartCount('srv-a')).toBe(0)
    expect(emulator.requests[0].signatureValid).toBe(true)
  })

  it('answers 404 Ecs.0023 for an unknown project id', async () => {
    const emulator = await startEmulator()
    const other = 'ffffffffffffffffffffffffffffffff'
    const response = await call(emulator, `/v1/${other}/cloudservers/action`, { body: rebootBody(['srv-a']) })
    expect(response.status).toBe(404)
    expect(await response.json()).toMatchObject({ error: { code: 'Ecs.0023' } })
    expect(emulator.restartCount('srv-a')).toBe(0)
  })
})

describe('faults', () => {
  it('answers injected responses in order with the three error shapes, then behaves normally', async () => {
    const emulator = await startEmulator()
    emulator.inject(
      'submit',
      { kind: 'respond', status: 429, body: gatewayError('APIG.0308', 'The throttling threshold has been reached.') },
      { kind: 'respond', status: 501, body: ecsError('Ecs.0603', 'Other commands are being executed.') },
      { kind: 'respond', status: 403, body: iamError('IAM.0003', 'Forbidden.') },
      {
        kind: 'respond',
        status: 502,
        body: '<html>bad gateway</html>',
        headers: { 'Retry-After': '3', 'content-type': 'text/html' }
      }
    )
    const body = rebootBody(['srv-a'])
    const throttled = await call(emulator, SUBMIT_PATH, { body })
    expect(throttled.status).toBe(429)
    expect(throttled.headers.get('content-type')).toBe('application/json')
    expect(await throttled.json()).toMatchObject({
      error_code: 'APIG.0308',
      error_msg: 'The throttling threshold has been reached.',
      request_id: expect.stringMatching(/^[0-9a-f]{32}$/)
    })

    const busy = await call(emulator, SUBMIT_PATH, { body })
    expect(busy.status).toBe(501)
    expect(await busy.json()).toEqual({ error: { code: 'Ecs.0603', message: 'Other commands are being executed.' } })

    const forbidden = await call(emulator, SUBMIT_PATH, { body })
    expect(forbidden.status).toBe(403)
    expect(await forbidden.json()).toEqual({ error_msg: 'Forbidden.', error_code: 'IAM.0003' })

    const raw = await call(emulator, SUBMIT_PATH, { body })
    expect(raw.status).toBe(502)
    expect(raw.headers.get('retry-after')).toBe('3')
    expect(raw.headers.get('content-type')).toBe('text/html')
    expect(raw.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/)
    expect(await raw.text()).toBe('<html>bad gateway</html>')

    expect(emulator.restartCount('srv-a')).toBe(0)
    expect(emulator.jobIds()).toEqual([])
    expect(emulator.pendingFaults('submit')).toBe(0)

    await submit(emulator, ['srv-a'])
    expect(emulator.restartCount('srv-a')).toBe(1)
    expect(emulator.requests.map((r) => r.status)).toEqual([429, 501, 403, 502, 200])
  })

  it('answers an injected response without verifying the signature, and only on its route', async () => {
    const emulator = await startEmulator()
    emulator.inject('job', { kind: 'respond', status: 503, body: ecsError('Common.1503', 'Api flow control Error.') })
    const jobId = await submit(emulator, ['srv-a']) // the submit route is unaffected
    const unsigned = await fetch(new URL(jobPath(jobId), emulator.url))
    expect(unsigned.status).toBe(503)
    expect(await unsigned.json()).toMatchObject({ error: { code: 'Common.1503' } })
    expect(emulator.requests[1]).toMatchObject({ route: 'job', status: 503, signatureValid: false })
    expect((await queryJob(emulator, jobId)).job_id).toBe(jobId)
  })

  it('reset: destroys the socket before processing; nothing is restarted', async () => {
    const emulator = await startEmulator()
    emulator.inject('submit', { kind: 'reset' })
    await expect(call(emulator, SUBMIT_PATH, { body: rebootBody(['srv-a']) })).rejects.toThrow(TypeError)
    expect(emulator.restartCount('srv-a')).toBe(0)
    expect(emulator.jobIds()).toEqual([])
    expect(emulator.requests[0]).toMatchObject({ route: 'submit', status: 'reset', signatureValid: true })

    await submit(emulator, ['srv-a'])
    expect(emulator.restartCount('srv-a')).toBe(1)
  })

  it('reset-after-processing: the restart is counted but the client gets a socket error', async () => {
    const emulator = await startEmulator({ jobDurationMs: 0 })
    emulator.inject('submit', { kind: 'reset-after-processing' })
    await expect(call(emulator, SUBMIT_PATH, { body: rebootBody(['srv-a', 'srv-b']) })).rejects.toThrow(TypeError)
    expect(emulator.restartCount('srv-a')).toBe(1)
    expect(emulator.restartCount('srv-b')).toBe(1)
    expect(emulator.jobIds()).toHaveLength(1)
    expect(emulator.requests[0]).toMatchObject({ status: 'reset', signatureValid: true })

    // The job exists and can be polled even though its id never reached the client.
    const job = await queryJob(emulator, emulator.jobIds()[0])
    expect(job.status).toBe('SUCCESS')
    expect(job.entities.sub_jobs.map((s) => s.entities.server_id)).toEqual(['srv-a', 'srv-b'])
  })

  it('reset-after-processing still verifies the signature', async () => {
    const emulator = await startEmulator()
    emulator.inject('submit', { kind: 'reset-after-processing' })
    await expect(
      call(emulator, SUBMIT_PATH, {
        body: rebootBody(['srv-a']),
        key: { accessKeyId: DEFAULT_AK, secretAccessKey: 'x' }
      })
    ).rejects.toThrow(TypeError)
    expect(emulator.restartCount('srv-a')).toBe(0)
    expect(emulator.jobIds()).toEqual([])
    expect(emulator.requests[0]).toMatchObject({ status: 'reset', signatureValid: false })
  })

  it('hang: never answers until the client aborts; later requests are answered', async () => {
    const emulator = await startEmulator()
    emulator.inject('projects', { kind: 'hang' })
    const controller = new AbortController()
    const pending = call(emulator, `/v3/projects?name=${DEFAULT_REGION}`, { signal: controller.signal })
    let settled = false
    void pending.then(
      () => (settled = true),
      () => (settled = true)
    )
    await vi.waitFor(() => expect(emulator.requests).toHaveLength(1))
    // A normal request completes while the first one is still hanging.
    const second = await call(emulator, `/v3/projects?name=${DEFAULT_REGION}`)
    expect(second.status).toBe(200)
    expect(settled).toBe(false)
    expect(emulator.requests[0].status).toBe('hang')

    controller.abort()
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' })
  })

  it('close() does not wait for hanging requests', async () => {
    const emulator = await EcsEmulator.start()
    emulator.inject('job', { kind: 'hang' }, { kind: 'hang' })
    const pending = [call(emulator, jobPath('a'.repeat(32))), call(emulator, jobPath('b'.repeat(32)))]
    const outcomes = Promise.allSettled(pending)
    await vi.waitFor(() => expect(emulator.requests.filter((r) => r.status === 'hang')).toHaveLength(2))
    const t0 = performance.now()
    await emulator.close()
    expect(performance.now() - t0).toBeLessThan(1000)
    expect((await outcomes).map((o) => o.status)).toEqual(['rejected', 'rejected'])
    await emulator.close() // idempotent
  })

  it('delay: waits, then processes normally (signature included)', async () => {
    const emulator = await startEmulator()
    emulator.inject('submit', { kind: 'delay', ms: 150 }, { kind: 'delay', ms: 150 })
    const t0 = performance.now()
    const jobId = await submit(emulator, ['srv-a'])
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140)
    expect(emulator.jobIds()).toEqual([jobId])
    expect(emulator.restartCount('srv-a')).toBe(1)

    const rejected = await call(emulator, SUBMIT_PATH, {
      body: rebootBody(['srv-a']),
      key: { accessKeyId: DEFAULT_AK, secretAccessKey: 'x' }
    })
    expect(rejected.status).toBe(401)
    expect(emulator.restartCount('srv-a')).toBe(1)

    const t1 = performance.now()
    await submit(emulator, ['srv-a'])
    expect(performance.now() - t1).toBeLessThan(140)
  })
  it('pass: processes normally and only uses up a fault, so the next ones hit later requests', async () => {
    const emulator = await startEmulator()
    emulator.inject('submit', { kind: 'pass' }, { kind: 'pass' }, { kind: 'reset' })
    const first = await submit(emulator, ['srv-a'])
    expect(emulator.pendingFaults('submit')).toBe(2)
    const second = await submit(emulator, ['srv-a', 'srv-b'])
    expect(emulator.pendingFaults('submit')).toBe(1)
    expect(emulator.restartCount('srv-a')).toBe(2)
    expect(emulator.restartCount('srv-b')).toBe(1)

    // Only the third submit is reset.
    await expect(call(emulator, SUBMIT_PATH, { body: rebootBody(['srv-a']) })).rejects.toThrow(TypeError)
    expect(emulator.pendingFaults('submit')).toBe(0)
    expect(emulator.restartCount('srv-a')).toBe(2)

    const fourth = await submit(emulator, ['srv-a'])
    expect(emulator.jobIds()).toEqual([first, second, fourth])
    expect(emulator.restartCount('srv-a')).toBe(3)
    expect(emulator.requests.map((r) => [r.route, r.status, r.signatureValid])).toEqual([
      ['submit', 200, true],
      ['submit', 200, true],
      ['submit', 'reset', true],
      ['submit', 200, true]
    ])
  })

  it('pass: still verifies the signature and only uses up faults of its own route', async () => {
    const emulator = await startEmulator({ jobDurationMs: 0 })
    emulator.inject('submit', { kind: 'pass' }, { kind: 'respond', status: 500 })
    emulator.inject('job', { kind: 'pass' }, { kind: 'respond', status: 503 })

    const badSignature = await call(emulator, SUBMIT_PATH, {
      body: rebootBody(['srv-a']),
      key: { accessKeyId: DEFAULT_AK, secretAccessKey: 'x' }
    })
    expect(badSignature.status).toBe(401)
    expect(await badSignature.json()).toMatchObject({ error_code: 'APIG.0301' })
    expect(emulator.pendingFaults('submit')).toBe(1)
    expect(emulator.pendingFaults('job')).toBe(2)

    const failed = await call(emulator, SUBMIT_PATH, { body: rebootBody(['srv-a']) })
    expect(failed.status).toBe(500)
    expect(emulator.restartCount('srv-a')).toBe(0)

    const jobId = await submit(emulator, ['srv-a'])
    expect((await queryJob(emulator, jobId)).status).toBe('SUCCESS') // the job route's 'pass'
    const throttled = await call(emulator, jobPath(jobId))
    expect(throttled.status).toBe(503)
    expect(emulator.pendingFaults('job')).toBe(0)
    expect(emulator.requests.map((r) => [r.route, r.status])).toEqual([
      ['submit', 401],
      ['submit', 500],
      ['submit', 200],
      ['job', 200],
      ['job', 503]
    ])
  })
})

describe('rejectServers', () => {
  const rejectServers = {
    'srv-gone': { status: 404, code: 'Ecs.0114', reason: 'The ECS does not exist.' },
    'srv-stopped': { status: 400, code: 'Ecs.0100', reason: 'The ECS status does not allow this operation.' },
    'srv-locked': { status: 400, code: 'Ecs.0605', reason: 'ECS locked.' }
  }

  it.each(['reboot', 'os-start', 'os-stop'] as const)(
    'rejects a whole %s batch that names a rejected server: no job, no restart for any server',
    async (action) => {
      const emulator = await startEmulator({ rejectServers, jobDurationMs: 0 })
      const response = await call(emulator, SUBMIT_PATH, { body: actionBody(action, ['srv-a', 'srv-locked', 'srv-b']) })
      expect(response.status).toBe(400)
      expect(response.headers.get('content-type')).toBe('application/json')
      expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/)
      expect(await response.json()).toEqual(ecsError('Ecs.0605', 'ECS locked.'))
      expect(emulator.jobIds()).toEqual([])
      for (const id of ['srv-a', 'srv-locked', 'srv-b']) expect(emulator.restartCount(id)).toBe(0)
      expect(emulator.requests[0]).toMatchObject({ route: 'submit', status: 400, signatureValid: true })

      // A batch without rejected servers is accepted as before.
      const accepted = await call(emulator, SUBMIT_PATH, { body: actionBody(action, ['srv-a', 'srv-b']) })
      expect(accepted.status).toBe(200)
      const { job_id } = (await accepted.json()) as { job_id: string }
      expect(emulator.jobIds()).toEqual([job_id])
      expect(emulator.restartCount('srv-a')).toBe(1)
      expect(emulator.restartCount('srv-b')).toBe(1)
      expect(emulator.restartCount('srv-locked')).toBe(0)
      expect((await queryJob(emulator, job_id)).status).toBe('SUCCESS')
    }
  )

  it('answers with the first rejected server in request order; requests show how many were rejected', async () => {
    const emulator = await startEmulator({ rejectServers })
    const stopped = await call(emulator, SUBMIT_PATH, { body: rebootBody(['srv-a', 'srv-stopped', 'srv-gone']) })
    expect(stopped.status).toBe(400)
    expect(await stopped.json()).toEqual(ecsError('Ecs.0100', 'The ECS status does not allow this operation.'))
    const gone = await call(emulator, SUBMIT_PATH, { body: rebootBody(['srv-gone', 'srv-stopped', 'srv-a']) })
    expect(gone.status).toBe(404)
    expect(await gone.json()).toEqual(ecsError('Ecs.0114', 'The ECS does not exist.'))
    const twice = await call(emulator, SUBMIT_PATH, { body: rebootBody(['srv-locked', 'srv-a', 'srv-locked']) })
    expect(twice.status).toBe(400)
    expect(await twice.json()).toEqual(ecsError('Ecs.0605', 'ECS locked.'))
    await submit(emulator, ['srv-a'])

    expect(emulator.jobIds()).toHaveLength(1)
    expect(emulator.restartCount('srv-a')).toBe(1)
    for (const id of Object.keys(rejectServers)) expect(emulator.restartCount(id)).toBe(0)
    expect(emulator.requests.map((r) => r.status)).toEqual([400, 404, 400, 200])
    expect(emulator.requests.filter((r) => r.route === 'submit' && r.status !== 200)).toHaveLength(3)
  })

  it('leaves signature, project and body checks first', async () => {
    const emulator = await startEmulator({ rejectServers })
    const badSignature = await call(emulator, SUBMIT_PATH, {
      body: rebootBody(['srv-gone']),
      key: { accessKeyId: DEFAULT_AK, secretAccessKey: 'x' }
    })
    expect(badSignature.status).toBe(401)
    expect(await badSignature.json()).toMatchObject({ error_code: 'APIG.0301' })

    const otherProject = await call(emulator, SUBMIT_PATH, {
      body: rebootBody(['srv-gone']),
      projectId: 'ffffffffffffffffffffffffffffffff'
    })
    expect(otherProject.status).toBe(400)
    expect(await otherProject.json()).toMatchObject({ error: { code: 'Common.0018' } })

    const badType = await call(emulator, SUBMIT_PATH, {
      body: JSON.stringify({ reboot: { type: 'GENTLE', servers: [{ id: 'srv-gone' }] } })
    })
    expect(badType.status).toBe(400)
    expect(await badType.json()).toMatchObject({ error: { code: 'Ecs.0005' } })

    const badLaterId = await call(emulator, SUBMIT_PATH, {
      body: JSON.stringify({ reboot: { type: 'SOFT', servers: [{ id: 'srv-gone' }, { id: 7 }] } })
    })
    expect(badLaterId.status).toBe(400)
    expect(await badLaterId.json()).toMatchObject({ error: { code: 'Ecs.0005' } })

    const tooMany = await call(emulator, SUBMIT_PATH, {
      body: rebootBody(['srv-gone', ...Array.from({ length: 1000 }, (_, i) => `srv-${i}`)])
    })
    expect(tooMany.status).toBe(400)
    expect(await tooMany.json()).toMatchObject({ error: { code: 'Ecs.0118' } })

    expect(emulator.jobIds()).toEqual([])
    expect(emulator.restartCount('srv-gone')).toBe(0)
    expect(emulator.restartCount('srv-0')).toBe(0)
  })

  it('competes in request order with unknown servers in reject mode, and wins over sub-job mode', async () => {
    const strict = await startEmulator({ servers: ['srv-a'], unknownServers: 'reject', rejectServers })
    const ghostFirst = await call(strict, SUBMIT_PATH, { body: rebootBody(['srv-a', 'srv-ghost', 'srv-locked']) })
    expect(ghostFirst.status).toBe(404)
    expect(await ghostFirst.json()).toEqual(ecsError('Ecs.0114', 'The ECS does not exist. server_id: srv-ghost'))
    // srv-locked is not in `servers` either: its own rejection applies.
    const lockedFirst = await call(strict, SUBMIT_PATH, { body: rebootBody(['srv-a', 'srv-locked', 'srv-ghost']) })
    expect(lockedFirst.status).toBe(400)
    expect(await lockedFirst.json()).toEqual(ecsError('Ecs.0605', 'ECS locked.'))
    expect(strict.jobIds()).toEqual([])
    expect(strict.restartCount('srv-a')).toBe(0)

    const lenient = await startEmulator({
      servers: ['srv-a'],
      serverFailures: { 'srv-a': { code: 'Ecs.0227', reason: 'Failed to reboot.' } },
      rejectServers
    })
    const rejected = await call(lenient, SUBMIT_PATH, { body: rebootBody(['srv-a', 'srv-ghost', 'srv-stopped']) })
    expect(rejected.status).toBe(400)
    expect(await rejected.json()).toEqual(ecsError('Ecs.0100', 'The ECS status does not allow this operation.'))
    expect(lenient.jobIds()).toEqual([])
    expect(lenient.restartCount('srv-a')).toBe(0)
    expect(lenient.restartCount('srv-ghost')).toBe(0)
  })

  it('is what faults that process normally see: pass, delay and reset-after-processing', async () => {
    const emulator = await startEmulator({ rejectServers })
    emulator.inject('submit', { kind: 'pass' }, { kind: 'delay', ms: 0 }, { kind: 'reset-after-processing' })
    const body = rebootBody(['srv-a', 'srv-gone'])
    const passed = await call(emulator, SUBMIT_PATH, { body })
    expect(passed.status).toBe(404)
    expect(await passed.json()).toEqual(ecsError('Ecs.0114', 'The ECS does not exist.'))
    const delayed = await call(emulator, SUBMIT_PATH, { body })
    expect(delayed.status).toBe(404)
    await expect(call(emulator, SUBMIT_PATH, { body })).rejects.toThrow(TypeError)
    expect(emulator.pendingFaults('submit')).toBe(0)
    expect(emulator.jobIds()).toEqual([])
    expect(emulator.restartCount('srv-a')).toBe(0)
    expect(emulator.requests.map((r) => r.status)).toEqual([404, 404, 'reset'])
  })

  it.each([200, 302, 600, 404.5, Number.NaN])('start() refuses status %s with a RangeError', async (status) => {
    await expect(
      EcsEmulator.start({ rejectServers: { 'srv-a': { status, code: 'Ecs.0114', reason: 'The ECS does not exist.' } } })
    ).rejects.toThrow(RangeError)
  })
})

describe('IAM project lookup', () => {
  it('lists the project of a region and nothing for an unknown name', async () => {
    const emulator = await startEmulator()
    const found = await call(emulator, `/v3/projects?name=${DEFAULT_REGION}`)
    expect(found.status).toBe(200)
    expect(found.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/)
    const body = (await found.json()) as { projects: object[]; links: object }
    expect(body.projects).toEqual([
      expect.objectContaining({
        id: DEFAULT_PROJECT_ID,
        name: DEFAULT_REGION,
        enabled: true,
        domain_id: expect.any(String)
      })
    ])
    expect(body.links).toBeTypeOf('object')
    expect(emulator.requests[0]).toMatchObject({ route: 'projects', signatureValid: true })
    expect(emulator.requests[0].query.get('name')).toBe(DEFAULT_REGION)
    expect(emulator.requests[0].headers['x-project-id']).toBeUndefined()

    const none = await call(emulator, '/v3/projects?name=cn-north-4')
    expect(none.status).toBe(200)
    expect(((await none.json()) as { projects: object[] }).projects).toEqual([])
  })

  it('uses the configured projects', async () => {
    const emulator = await startEmulator({ projects: { 'cn-north-4': 'aaaa', 'cn-north-4_sub': 'bbbb' } })
    const response = await call(emulator, '/v3/projects?name=cn-north-4_sub')
    expect(((await response.json()) as { projects: { id: string }[] }).projects.map((p) => p.id)).toEqual(['bbbb'])
    const defaultRegion = await call(emulator, `/v3/projects?name=${DEFAULT_REGION}`)
    expect(((await defaultRegion.json()) as { projects: object[] }).projects).toEqual([])
  })
})

describe('unknown routes', () => {
  it.each([
    ['GET', `/v1/${DEFAULT_PROJECT_ID}/cloudservers/detail/more`],
    ['GET', SUBMIT_PATH],
    ['DELETE', jobPath('a'.repeat(32))],
    ['GET', '/v3/auth/tokens']
  ])('%s %s -> 404 APIG.0101', async (method, path) => {
    const emulator = await startEmulator()
    const response = await call(emulator, path, { method })
    expect(response.status).toBe(404)
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/)
    expect(await response.json()).toMatchObject({
      error_code: 'APIG.0101',
      error_msg: 'The API does not exist or has not been published in the environment.'
    })
    expect(emulator.requests[0]).toMatchObject({ route: 'unknown', method, status: 404 })
  })

  it('gives every response a fresh X-Request-Id', async () => {
    const emulator = await startEmulator()
    emulator.inject('projects', { kind: 'respond', status: 500 })
    const responses = [
      await call(emulator, `/v3/projects?name=${DEFAULT_REGION}`),
      await call(emulator, `/v3/projects?name=${DEFAULT_REGION}`),
      await fetch(new URL(SUBMIT_PATH, emulator.url), { method: 'POST', body: '{}' }),
      await call(emulator, '/nowhere')
    ]
    expect(responses.map((r) => r.status)).toEqual([500, 200, 401, 404])
    const ids = responses.map((r) => r.headers.get('x-request-id'))
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/)
    expect(new Set(ids).size).toBe(ids.length)
  })
})

describe('serve.ts', () => {
  it('prints its connection line, serves signed requests and exits 0 on SIGTERM', async () => {
    const root = fileURLToPath(new URL('..', import.meta.url))
    const script = fileURLToPath(new URL('./emulator/serve.ts', import.meta.url))
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', script, '--job-duration-ms', '0', '--fail', 'srv-bad=Ecs.0227', '--verbose'],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }
    )
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let stdout = ''
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          stdout += chunk
          const newline = stdout.indexOf('\n')
          if (newline >= 0) resolve(stdout.slice(0, newline))
        })
        child.once('exit', (code) => reject(new Error(`serve.ts exited early (${code}): ${stderr}`)))
      })
      const info = JSON.parse(line) as Record<string, string>
      expect(info).toEqual({
        url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
        accessKeyId: DEFAULT_AK,
        secretAccessKey: DEFAULT_CREDENTIAL.secretAccessKey,
        projectId: DEFAULT_PROJECT_ID,
        region: DEFAULT_REGION
      })

      const remote = { url: info.url }
      const key = { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey }
      const submitted = await call(remote, `/v1/${info.projectId}/cloudservers/action`, {
        body: rebootBody(['srv-ok', 'srv-bad']),
        key
      })
      expect(submitted.status).toBe(200)
      const { job_id } = (await submitted.json()) as { job_id: string }
      const job = await call(remote, jobPath(job_id, info.projectId), { key })
      expect(job.status).toBe(200)
      const body = (await job.json()) as JobBody
      expect(body.status).toBe('FAIL')
      expect(body.entities.sub_jobs.map((s) => [s.entities.server_id, s.status, s.error_code])).toEqual([
        ['srv-ok', 'SUCCESS', null],
        ['srv-bad', 'FAIL', 'Ecs.0227']
      ])
      const unsigned = await fetch(new URL(jobPath(job_id, info.projectId), info.url))
      expect(unsigned.status).toBe(401)
    } finally {
      child.kill('SIGTERM')
    }
    const [code, signal] = await exited
    // Windows has no catchable signals: kill() ends the process there, so only POSIX can show a clean exit.
    const expected = process.platform === 'win32' ? { code: null, signal: 'SIGTERM' } : { code: 0, signal: null }
    expect({ code, signal }).toEqual(expected)
    expect(stderr).toMatch(/POST \/v1\/0123456789abcdef0123456789abcdef\/cloudservers\/action -> 200/)
    expect(stderr).toMatch(/GET \/v1\/\S+\/jobs\/[0-9a-f]{32} -> 401 \(signature invalid\)/)
  }, 30_000)

  it('rejects bad flags with exit code 2', async () => {
    const script = fileURLToPath(new URL('./emulator/serve.ts', import.meta.url))
    const child = spawn(process.execPath, ['--import', 'tsx', script, '--unknown-servers', 'maybe'], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const [code] = (await once(child, 'exit')) as [number | null]
    expect(code).toBe(2)
    expect(stderr).toMatch(/--unknown-servers must be reject or sub-job/)
  }, 30_000)
})

describe('benchmark model: latency', () => {
  it('holds every request for latencyMs before processing it: nothing is restarted meanwhile', async () => {
    const emulator = await startEmulator({ latencyMs: 60_000 })
    const pending = call(emulator, SUBMIT_PATH, { body: rebootBody(['srv-a']) }).then(
      (response) => response.status,
      () => 'failed'
    )
    // The body has been read and the signature checked, but the answer waits.
    await vi.waitFor(() => expect(emulator.requests[0]?.signatureValid).toBe(true))
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(emulator.restartCount('srv-a')).toBe(0)
    expect(emulator.jobIds()).toEqual([])
    expect(emulator.counters().outcomes).toEqual({})
    expect(emulator.requests[0].status).toBe('hang')
    await emulator.close()
    expect(await pending).toBe('failed')
    expect(emulator.restartCount('srv-a')).toBe(0)
  })

  it('then answers every route normally, faults included', async () => {
    const emulator = await startEmulator({ latencyMs: 20, jobDurationMs: 0 })
    const jobId = await submit(emulator, ['srv-a'])
    expect((await queryJob(emulator, jobId)).status).toBe('SUCCESS')
    expect((await call(emulator, `/v3/projects?name=${DEFAULT_REGION}`)).status).toBe(200)
    expect((await call(emulator, '/nowhere')).status).toBe(404)
    emulator.inject('job', { kind: 'respond', status: 503 })
    expect((await call(emulator, jobPath(jobId))).status).toBe(503)
    expect(emulator.requests.map((r) => [r.route, r.status])).toEqual([
      ['submit', 200],
      ['job', 200],
      ['projects', 200],
      ['unknown', 404],
      ['job', 503]
    ])
  })

  it.each([
    ['negative', { latencyMs: -1 }, /latencyMs/],
    ['not finite', { latencyMs: Number.POSITIVE_INFINITY }, /latencyMs/],
    ['a limit of no servers', { rateLimit: { servers: 0, windowMs: 1000 } }, /rateLimit.servers/],
    ['a fractional limit', { rateLimit: { servers: 1.5, windowMs: 1000 } }, /rateLimit.servers/],
    ['an empty window', { rateLimit: { servers: 10, windowMs: 0 } }, /rateLimit.windowMs/],
    ['a NaN window', { rateLimit: { servers: 10, windowMs: Number.NaN } }, /rateLimit.windowMs/]
  ])('start() refuses a model that is %s', async (_, options: EmulatorOptions, message) => {
    await expect(EcsEmulator.start(options)).rejects.toThrow(message)
  })
})

describe('benchmark model: rate limit', () => {
  const THROTTLED = { error_code: 'APIG.0308', error_msg: 'The throttling threshold has been reached.' }

  it('accepts up to the limit per sliding window, then answers 429 APIG.0308 with Retry-After', async () => {
    const clock = manualClock()
    const emulator = await startEmulator({ now: clock.now, rateLimit: { servers: 1000, windowMs: 1000 } })
    const ids = Array.from({ length: 1001 }, (_, i) => `srv-${i}`)
    await submit(emulator, ids.slice(0, 600), { date: clock.date() })
    clock.advance(100)
    await submit(emulator, ids.slice(600, 1000), { date: clock.date() })

    const throttled = await call(emulator, SUBMIT_PATH, { body: rebootBody([ids[1000]]), date: clock.date() })
    expect(throttled.status).toBe(429)
    expect(throttled.headers.get('retry-after')).toBe('1') // 900 ms, rounded up
    expect(await throttled.json()).toMatchObject(THROTTLED)
    expect(emulator.restartCount(ids[1000])).toBe(0)
    expect(emulator.jobIds()).toHaveLength(2)

    clock.advance(899) // 1 ms before the first 600 leave the window
    const stillThrottled = await call(emulator, SUBMIT_PATH, { body: rebootBody([ids[1000]]), date: clock.date() })
    expect(stillThrottled.status).toBe(429)
    expect(stillThrottled.headers.get('retry-after')).toBe('1')
    clock.advance(1)
    await submit(emulator, [ids[1000]], { date: clock.date() })
    expect(emulator.restartCount(ids[1000])).toBe(1)

    expect(emulator.counters()).toMatchObject({ throttled: 2, restarts: 1001, restartedServers: 1001 })
    expect(emulator.requests.map((r) => r.status)).toEqual([200, 200, 429, 429, 200])
  })

  it('gives in Retry-After the whole seconds until the request would fit', async () => {
    const clock = manualClock()
    const emulator = await startEmulator({ now: clock.now, rateLimit: { servers: 1000, windowMs: 10_000 } })
    await submit(emulator, ['a-1', 'a-2', 'a-3'], { date: clock.date() }) // t = 0
    clock.advance(2000)
    await submit(emulator, ['b-1', 'b-2', 'b-3'], { date: clock.date() }) // t = 2 s
    clock.advance(2000)
    await submit(
      emulator,
      Array.from({ length: 994 }, (_, i) => `c-${i}`),
      { date: clock.date() }
    ) // t = 4 s, full
    clock.advance(1000)
    // 5 more only fit once the first two requests have left the window, at 12 s: 7 s from now.
    const ids = ['d-1', 'd-2', 'd-3', 'd-4', 'd-5']
    const early = await call(emulator, SUBMIT_PATH, { body: rebootBody(ids), date: clock.date() })
    expect(early.status).toBe(429)
    expect(early.headers.get('retry-after')).toBe('7')
    clock.advance(6500)
    const later = await call(emulator, SUBMIT_PATH, { body: rebootBody(ids), date: clock.date() })
    expect(later.headers.get('retry-after')).toBe('1')
    clock.advance(500)
    await submit(emulator, ids, { date: clock.date() })
  })

  it('counts distinct servers; a request larger than the limit fits only into an empty window', async () => {
    const clock = manualClock()
    const emulator = await startEmulator({ now: clock.now, rateLimit: { servers: 3, windowMs: 1000 } })
    await submit(emulator, ['srv-a', 'srv-a', 'srv-a', 'srv-b', 'srv-c'], { date: clock.date() }) // 3 servers
    clock.advance(1000)
    await submit(emulator, ['s1', 's2', 's3', 's4', 's5'], { date: clock.date() }) // 5 > 3, window empty
    clock.advance(500)
    const throttled = await call(emulator, SUBMIT_PATH, { body: rebootBody(['s6']), date: clock.date() })
    expect(throttled.status).toBe(429)
    clock.advance(500)
    await submit(emulator, ['s6'], { date: clock.date() })
    expect(emulator.counters().throttled).toBe(1)
  })

  it('limits only restarts, and only requests that would otherwise be accepted', async () => {
    const clock = manualClock()
    const emulator = await startEmulator({
      now: clock.now,
      rateLimit: { servers: 1, windowMs: 1000 },
      rejectServers: { 'srv-locked': { status: 400, code: 'Ecs.0605', reason: 'ECS locked.' } }
    })
    await submit(emulator, ['srv-a'], { date: clock.date() })
    const stop = await call(emulator, SUBMIT_PATH, { body: actionBody('os-stop', ['srv-b']), date: clock.date() })
    expect(stop.status).toBe(200)
    const start = await call(emulator, SUBMIT_PATH, { body: actionBody('os-start', ['srv-b']), date: clock.date() })
    expect(start.status).toBe(200)
    const invalid = await call(emulator, SUBMIT_PATH, { body: '{"reboot":{}}', date: clock.date() })
    expect(invalid.status).toBe(400)
    const locked = await call(emulator, SUBMIT_PATH, { body: rebootBody(['srv-locked']), date: clock.date() })
    expect(locked.status).toBe(400)
    const unsigned = await call(emulator, SUBMIT_PATH, {
      body: rebootBody(['srv-c']),
      date: clock.date(),
      key: { accessKeyId: DEFAULT_AK, secretAccessKey: 'wrong' }
    })
    expect(unsigned.status).toBe(401)
    const throttled = await call(emulator, SUBMIT_PATH, { body: rebootBody(['srv-c']), date: clock.date() })
    expect(throttled.status).toBe(429)
    expect(emulator.counters().throttled).toBe(1)
  })
})

describe('Nova routes', () => {
  const novaAction = (id: string, projectId = DEFAULT_PROJECT_ID): string => `/v2.1/${projectId}/servers/${id}/action`
  const novaServer = (id: string, projectId = DEFAULT_PROJECT_ID): string => `/v2.1/${projectId}/servers/${id}`
  const nova = { projectId: DEFAULT_PROJECT_ID }
  const reboot = (type: string): string => JSON.stringify({ reboot: { type } })

  async function status(emulator: EcsEmulator, id: string, date?: Date): Promise<unknown> {
    const response = await call(emulator, novaServer(id), { ...nova, date })
    expect(response.status).toBe(200)
    return response.json()
  }

  it('reboots one server: 202 without a body, then REBOOT until the job duration has passed, then ACTIVE', async () => {
    const clock = manualClock()
    const emulator = await startEmulator({ now: clock.now, jobDurationMs: 3000 })
    expect(await status(emulator, 'srv-a', clock.date())).toEqual({ server: { id: 'srv-a', status: 'ACTIVE' } })

    const response = await call(emulator, novaAction('srv-a'), { ...nova, body: reboot('SOFT'), date: clock.date() })
    expect(response.status).toBe(202)
    expect(response.headers.get('content-type')).toBeNull()
    expect(await response.text()).toBe('')
    expect(emulator.restartCount('srv-a')).toBe(1)
    expect(emulator.jobIds()).toEqual([])

    expect(await status(emulator, 'srv-a', clock.date())).toEqual({ server: { id: 'srv-a', status: 'REBOOT' } })
    clock.advance(2999)
    expect(await status(emulator, 'srv-a', clock.date())).toMatchObject({ server: { status: 'REBOOT' } })
    clock.advance(1)
    expect(await status(emulator, 'srv-a', clock.date())).toMatchObject({ server: { status: 'ACTIVE' } })

    const hard = await call(emulator, novaAction('srv-a'), { ...nova, body: reboot('hard'), date: clock.date() })
    expect(hard.status).toBe(202)
    expect(await status(emulator, 'srv-a', clock.date())).toMatchObject({ server: { status: 'HARD_REBOOT' } })
    expect(emulator.restartCount('srv-a')).toBe(2)
    expect(emulator.requests.map((r) => [r.route, r.status, r.signatureValid])).toEqual([
      ['nova-server', 200, true],
      ['nova-action', 202, true],
      ['nova-server', 200, true],
      ['nova-server', 200, true],
      ['nova-server', 200, true],
      ['nova-action', 202, true],
      ['nova-server', 200, true]
    ])
  })

  it('shows the servers of a batch restart as rebooting too, and failed ones as ERROR', async () => {
    const clock = manualClock()
    const emulator = await startEmulator({
      now: clock.now,
      jobDurationMs: 1000,
      serverFailures: { 'srv-bad': { code: 'Ecs.0227', reason: 'Failed to reboot.' } }
    })
    const body = JSON.stringify({ reboot: { type: 'HARD', servers: [{ id: 'srv-a' }, { id: 'srv-bad' }] } })
    expect((await call(emulator, SUBMIT_PATH, { body, date: clock.date() })).status).toBe(200)
    expect(await status(emulator, 'srv-bad', clock.date())).toMatchObject({ server: { status: 'HARD_REBOOT' } })
    clock.advance(1000)
    expect(await status(emulator, 'srv-a', clock.date())).toMatchObject({ server: { status: 'ACTIVE' } })
    expect(await status(emulator, 'srv-bad', clock.date())).toEqual({
      server: { id: 'srv-bad', status: 'ERROR', fault: { code: 500, message: 'Failed to reboot.' } }
    })
  })

  it('counts one server per reboot against the rate limit', async () => {
    const clock = manualClock()
    const emulator = await startEmulator({ now: clock.now, rateLimit: { servers: 2, windowMs: 1000 } })
    const statuses: number[] = []
    for (const id of ['srv-a', 'srv-b', 'srv-c']) {
      const response = await call(emulator, novaAction(id), { ...nova, body: reboot('SOFT'), date: clock.date() })
      statuses.push(response.status)
      if (response.status === 429) {
        expect(response.headers.get('retry-after')).toBe('1')
        expect(await response.json()).toMatchObject({ error_code: 'APIG.0308' })
      }
    }
    expect(statuses).toEqual([202, 202, 429])
    expect(emulator.restartCount('srv-c')).toBe(0)
    clock.advance(1000)
    await submit(emulator, ['srv-c', 'srv-d'], { date: clock.date() }) // batch and Nova share the window
    const throttled = await call(emulator, novaAction('srv-e'), { ...nova, body: reboot('SOFT'), date: clock.date() })
    expect(throttled.status).toBe(429)
    expect(emulator.counters()).toMatchObject({ throttled: 2, restarts: 4 })
  })

  it.each([
    ['not JSON', '{'],
    ['another action', '{"os-stop":null}'],
    ['no type', '{"reboot":{}}'],
    ['a bad type', '{"reboot":{"type":"GENTLE"}}'],
    ['two actions', '{"reboot":{"type":"SOFT"},"os-start":null}']
  ])('answers %s with 400 badRequest and restarts nothing', async (_, body) => {
    const emulator = await startEmulator()
    const response = await call(emulator, novaAction('srv-a'), { ...nova, body })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ badRequest: { code: 400 } })
    expect(emulator.restartCount('srv-a')).toBe(0)
  })

  it('answers 404 itemNotFound for unknown servers on both routes, and rejectServers as configured', async () => {
    const emulator = await startEmulator({
      servers: ['srv-a', 'srv-locked'],
      rejectServers: { 'srv-locked': { status: 409, code: 'Ecs.0605', reason: 'ECS locked.' } }
    })
    const unknown = await call(emulator, novaAction('srv-ghost'), { ...nova, body: reboot('SOFT') })
    expect(unknown.status).toBe(404)
    expect(await unknown.json()).toEqual({
      itemNotFound: { code: 404, message: 'Instance srv-ghost could not be found.' }
    })
    expect((await call(emulator, novaServer('srv-ghost'), nova)).status).toBe(404)
    const locked = await call(emulator, novaAction('srv-locked'), { ...nova, body: reboot('SOFT') })
    expect(locked.status).toBe(409)
    expect(await locked.json()).toEqual(ecsError('Ecs.0605', 'ECS locked.'))
    expect(emulator.counters().restarts).toBe(0)
  })

  it('checks signature and project like the /v1 routes', async () => {
    const emulator = await startEmulator()
    const noProject = await call(emulator, novaAction('srv-a'), { body: reboot('SOFT') }) // no X-Project-Id
    expect(noProject.status).toBe(400)
    expect(await noProject.json()).toMatchObject({ error: { code: 'Common.0018' } })
    const tampered = await call(emulator, novaAction('srv-a'), {
      ...nova,
      body: reboot('SOFT'),
      sendBody: reboot('HARD')
    })
    expect(tampered.status).toBe(401)
    const mismatch = await call(emulator, novaServer('srv-a'), { projectId: 'f'.repeat(32) })
    expect(mismatch.status).toBe(400)
    expect(await mismatch.json()).toMatchObject({ error: { code: 'Common.0018' } })
    const other = 'f'.repeat(32)
    const unknownProject = await call(emulator, novaServer('srv-a', other), { projectId: other })
    expect(unknownProject.status).toBe(404)
    expect(await unknownProject.json()).toMatchObject({ error: { code: 'Ecs.0023' } })
    const list = await call(emulator, `/v2.1/${DEFAULT_PROJECT_ID}/servers/detail`, nova)
    expect(list.status).toBe(404)
    expect(emulator.restartCount('srv-a')).toBe(0)
    expect(emulator.requests.map((r) => r.route)).toEqual([
      'nova-action',
      'nova-action',
      'nova-server',
      'nova-server',
      'unknown'
    ])
  })

  it('takes injected faults per route', async () => {
    const emulator = await startEmulator()
    emulator.inject('nova-action', { kind: 'respond', status: 503 })
    expect((await call(emulator, novaAction('srv-a'), { ...nova, body: reboot('SOFT') })).status).toBe(503)
    expect((await call(emulator, novaAction('srv-a'), { ...nova, body: reboot('SOFT') })).status).toBe(202)
    expect(emulator.restartCount('srv-a')).toBe(1)
  })
})

describe('counters', () => {
  it('counts requests per route, outcomes and restarts; recordRequests: false keeps no requests', async () => {
    const emulator = await startEmulator({ recordRequests: false, jobDurationMs: 0 })
    const jobId = await submit(emulator, ['srv-a', 'srv-b', 'srv-a'])
    await queryJob(emulator, jobId)
    await queryJob(emulator, jobId)
    await call(emulator, `/v2.1/${DEFAULT_PROJECT_ID}/servers/srv-c/action`, {
      projectId: DEFAULT_PROJECT_ID,
      body: JSON.stringify({ reboot: { type: 'SOFT' } })
    })
    await call(emulator, `/v2.1/${DEFAULT_PROJECT_ID}/servers/srv-c`, { projectId: DEFAULT_PROJECT_ID })
    await call(emulator, '/nowhere')
    emulator.inject('job', { kind: 'reset' })
    await expect(call(emulator, jobPath(jobId))).rejects.toThrow()

    expect(emulator.requests).toEqual([])
    expect(emulator.counters()).toEqual({
      requests: { submit: 1, job: 3, projects: 0, 'nova-action': 1, 'nova-server': 1, list: 0, server: 0, unknown: 1 },
      outcomes: { '200': 4, '202': 1, '404': 1, reset: 1 },
      throttled: 0,
      restarts: 3,
      restartedServers: 3
    })
    // A copy: changing it changes nothing.
    emulator.counters().requests.submit = 99
    expect(emulator.counters().requests.submit).toBe(1)
  })
})

describe('inventory: listing, server details and states', () => {
  const inventory = Array.from({ length: 5 }, (_, i) => ({
    id: `srv-${i}`,
    name: `web-${i}`,
    tags: [`app=${i < 3 ? 'web' : 'db'}`],
    status: i === 4 ? 'SHUTOFF' : undefined,
    enterpriseProjectId: i === 0 ? 'ep-1' : undefined
  }))

  it('lists pages by page number, with the count, and filters by enterprise project', async () => {
    const emulator = await startEmulator({ inventory })
    const page = async (query: string) =>
      (await (await call(emulator, `/v1/${DEFAULT_PROJECT_ID}/cloudservers/detail?${query}`)).json()) as {
        count: number
        servers: { id: string; name: string; status: string; tags: string[] }[]
      }
    const first = await page('offset=1&limit=2')
    expect(first.count).toBe(5)
    expect(first.servers.map((s) => s.id)).toEqual(['srv-0', 'srv-1'])
    expect(first.servers[0]).toMatchObject({ name: 'web-0', status: 'ACTIVE', tags: ['app=web'] })
    expect((await page('offset=3&limit=2')).servers.map((s) => s.id)).toEqual(['srv-4'])
    expect((await page('offset=4&limit=2')).servers).toEqual([])
    expect((await page('offset=1&limit=10&enterprise_project_id=ep-1')).servers.map((s) => s.id)).toEqual(['srv-0'])
    expect((await page('offset=1&limit=10&enterprise_project_id=all_granted_eps')).count).toBe(5)
    expect((await call(emulator, `/v1/${DEFAULT_PROJECT_ID}/cloudservers/detail?limit=1001`)).status).toBe(400)
    expect(emulator.requests.every((r) => r.route === 'list' && r.signatureValid)).toBe(true)
  })

  it('shows a server, follows its state through a reboot, and fails servers in the wrong state', async () => {
    const clock = manualClock()
    const emulator = await startEmulator({ inventory, now: clock.now, jobDurationMs: 1000 })
    const status = async (id: string): Promise<string> => {
      const response = await call(emulator, `/v1/${DEFAULT_PROJECT_ID}/cloudservers/${id}`, {
        date: new Date(clock.now())
      })
      return ((await response.json()) as { server: { status: string } }).server.status
    }
    const jobId = await submit(emulator, ['srv-1', 'srv-4'], { date: new Date(clock.now()) })
    expect(await status('srv-1')).toBe('REBOOT')
    clock.advance(1000)
    expect(await status('srv-1')).toBe('ACTIVE')
    const job = await queryJob(emulator, jobId, { date: new Date(clock.now()) })
    expect(job.entities.sub_jobs.map((s) => [s.entities.server_id, s.status, s.error_code])).toEqual([
      ['srv-1', 'SUCCESS', null],
      ['srv-4', 'FAIL', 'Ecs.0100']
    ])
    expect(
      (await call(emulator, `/v1/${DEFAULT_PROJECT_ID}/cloudservers/nope`, { date: new Date(clock.now()) })).status
    ).toBe(404)
  })

  it('stops and starts servers, and lets a test change a state at any time', async () => {
    const emulator = await startEmulator({ inventory, jobDurationMs: 0 })
    const status = async (id: string): Promise<string> =>
      (
        (await (await call(emulator, `/v1/${DEFAULT_PROJECT_ID}/cloudservers/${id}`)).json()) as {
          server: { status: string }
        }
      ).server.status
    await submit(emulator, ['srv-0'], { body: actionBody('os-stop', ['srv-0']) })
    expect(await status('srv-0')).toBe('SHUTOFF')
    await submit(emulator, ['srv-4'], { body: actionBody('os-start', ['srv-4']) })
    expect(await status('srv-4')).toBe('ACTIVE')
    emulator.setServerStatus('srv-2', 'ERROR')
    expect(await status('srv-2')).toBe('ERROR')
    expect(() => emulator.setServerStatus('nope', 'ACTIVE')).toThrow(/not in the inventory/)
  })
})

// ---------------------------------------------------------------- IAM tokens and OIDC

/** Two RSA keys: the identity provider's, and one it does not know. */
const OIDC = createOidcFixture({ kid: 'gh-key-1' })
const OTHER_KEY = createOidcFixture({ kid: 'gh-key-1' })
const IDP_ID = 'github-actions'
const CLIENT_ID = 'ecs-batch-restart'
const SUBJECT = 'repo:octo/fleet:ref:refs/heads/main'
const OTHER_PROJECT = 'eu-west-101'
const OTHER_PROJECT_ID = 'abcdefabcdefabcdefabcdefabcdefab'
const IAM_USER = { domain: 'octo-account', name: 'restarter', password: 'correct horse battery staple' }
const GITHUB_REQUEST_TOKEN = 'github-request-token-0000'

/** Options with the identity provider, an IAM user, two projects and GitHub's OIDC service. */
function identityOptions(clock: { now: () => number }, extra: EmulatorOptions = {}): EmulatorOptions {
  return {
    now: clock.now,
    projects: { [DEFAULT_REGION]: DEFAULT_PROJECT_ID, [OTHER_PROJECT]: OTHER_PROJECT_ID },
    identityProviders: { [IDP_ID]: { issuer: OIDC.issuer, clientId: CLIENT_ID, jwks: OIDC.publicJwks } },
    iamUsers: [IAM_USER],
    githubOidc: { issuer: OIDC.issuer, requestToken: GITHUB_REQUEST_TOKEN, privateKey: OIDC.privateKey, kid: OIDC.kid },
    ...extra
  }
}

/** The claims of a valid GitHub-like ID token at `now` (ms), with overrides. */
function idTokenClaims(now: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const seconds = Math.floor(now / 1000)
  return {
    iss: OIDC.issuer,
    sub: SUBJECT,
    aud: CLIENT_ID,
    iat: seconds,
    nbf: seconds,
    exp: seconds + 300,
    ...overrides
  }
}

type ProjectScope = { project: { id?: string; name?: string } } | undefined

function exchangeIdToken(
  emulator: Pick<EcsEmulator, 'url'>,
  jwt: string,
  options: { idpId?: string | null; scope?: ProjectScope } = {}
): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json;charset=UTF-8' }
  if (options.idpId !== null) headers['x-idp-id'] = options.idpId ?? IDP_ID
  const scope = 'scope' in options ? options.scope : { project: { name: DEFAULT_REGION } }
  return fetch(new URL(ID_TOKEN_PATH, emulator.url), {
    method: 'POST',
    headers,
    body: JSON.stringify({ auth: { id_token: { id: jwt }, ...(scope ? { scope } : {}) } })
  })
}

function exchangePassword(
  emulator: Pick<EcsEmulator, 'url'>,
  user: { domain: string; name: string; password: string } = IAM_USER,
  scope: ProjectScope = { project: { name: DEFAULT_REGION } }
): Promise<Response> {
  const body = {
    auth: {
      identity: {
        methods: ['password'],
        password: { user: { name: user.name, password: user.password, domain: { name: user.domain } } }
      },
      scope
    }
  }
  return fetch(new URL(PASSWORD_TOKEN_PATH, emulator.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json;charset=utf8' },
    body: JSON.stringify(body)
  })
}

/** A federated project-scoped token for the default project (the id-token route must answer 201). */
async function federatedToken(emulator: EcsEmulator, now: number, scope?: ProjectScope): Promise<string> {
  const response = await exchangeIdToken(emulator, signJwt(idTokenClaims(now), OIDC.privateKey, OIDC.kid), {
    scope: scope ?? { project: { name: DEFAULT_REGION } }
  })
  expect(response.status).toBe(201)
  const token = response.headers.get('x-subject-token')
  expect(token).toBeTruthy()
  return token ?? ''
}

/** An unsigned request that authenticates with `X-Auth-Token` only. */
function tokenCall(
  emulator: Pick<EcsEmulator, 'url'>,
  path: string,
  token: string,
  options: { body?: string; headers?: Record<string, string> } = {}
): Promise<Response> {
  const headers: Record<string, string> = { 'x-auth-token': token, ...options.headers }
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  return fetch(new URL(path, emulator.url), {
    method: options.body === undefined ? 'GET' : 'POST',
    headers,
    body: options.body
  })
}

interface TokenBody {
  token: {
    expires_at: string
    issued_at: string
    methods: string[]
    project?: { id: string; name: string; domain: { id: string } }
    user: { id: string; name: string; domain: { id: string; name: string }; 'OS-FEDERATION'?: object }
  }
}

describe('IAM token by OIDC ID token (POST /v3.0/OS-AUTH/id-token/tokens)', () => {
  it('verifies the JWT and answers 201 with a project-scoped token in X-Subject-Token', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(identityOptions(clock))
    const jwt = signJwt(idTokenClaims(clock.now()), OIDC.privateKey, OIDC.kid)
    const response = await exchangeIdToken(emulator, jwt)

    expect(response.status).toBe(201)
    const token = response.headers.get('x-subject-token') ?? ''
    expect(token).toMatch(/^MII[A-Za-z0-9_-]{100,}$/)
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/)
    const body = (await response.json()) as TokenBody
    expect(body.token).toMatchObject({
      issued_at: '2024-01-02T03:04:05.000000Z',
      expires_at: '2024-01-03T03:04:05.000000Z',
      methods: ['mapped'],
      project: { id: DEFAULT_PROJECT_ID, name: DEFAULT_REGION, domain: { id: DEFAULT_DOMAIN_ID } },
      user: {
        name: SUBJECT,
        domain: { id: DEFAULT_DOMAIN_ID },
        'OS-FEDERATION': { identity_provider: { id: IDP_ID }, protocol: { id: 'oidc' } }
      }
    })
    expect(emulator.issuedTokens()).toEqual([token])
    expect(emulator.requests[0]).toMatchObject({
      route: 'id-token',
      status: 201,
      signatureValid: false,
      authenticatedBy: 'none'
    })
  })

  it('takes the project by id, an aud array that contains the client_id, and 60 s of clock skew', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(identityOptions(clock))
    const seconds = Math.floor(clock.now() / 1000)
    const claims = idTokenClaims(clock.now(), {
      aud: ['someone-else', CLIENT_ID],
      exp: seconds - 30,
      nbf: seconds + 30,
      iat: seconds + 30
    })
    const response = await exchangeIdToken(emulator, signJwt(claims, OIDC.privateKey, OIDC.kid), {
      scope: { project: { id: OTHER_PROJECT_ID } }
    })
    expect(response.status).toBe(201)
    expect(((await response.json()) as TokenBody).token.project).toMatchObject({
      id: OTHER_PROJECT_ID,
      name: OTHER_PROJECT
    })
  })

  const now = manualClock().now()
  const seconds = Math.floor(now / 1000)
  const valid = (): Record<string, unknown> => idTokenClaims(now)
  const [validHeader, validPayload] = signJwt(valid(), OIDC.privateKey, OIDC.kid).split('.')
  const failures: [string, () => string, string][] = [
    [
      'a signature by another key with the same kid',
      () => signJwt(valid(), OTHER_KEY.privateKey, OIDC.kid),
      'Invalid ID token signature.'
    ],
    [
      'claims changed after signing',
      () => {
        const forged = Buffer.from(JSON.stringify({ ...valid(), sub: 'repo:evil/fork:ref:refs/heads/main' }))
        const [header, , signature] = signJwt(valid(), OIDC.privateKey, OIDC.kid).split('.')
        return `${header}.${forged.toString('base64url')}.${signature}`
      },
      'Invalid ID token signature.'
    ],
    [
      'a wrong audience',
      () => signJwt(idTokenClaims(now, { aud: 'sts.amazonaws.com' }), OIDC.privateKey, OIDC.kid),
      "The ID token audience does not match the identity provider's client_id."
    ],
    [
      'no audience',
      () => signJwt(idTokenClaims(now, { aud: undefined }), OIDC.privateKey, OIDC.kid),
      "The ID token audience does not match the identity provider's client_id."
    ],
    [
      'a wrong issuer',
      () => signJwt(idTokenClaims(now, { iss: 'https://evil.example.com' }), OIDC.privateKey, OIDC.kid),
      "The ID token issuer does not match the identity provider's issuer."
    ],
    [
      'an expired token',
      () =>
        signJwt(
          idTokenClaims(now, { iat: seconds - 3600, nbf: seconds - 3600, exp: seconds - 61 }),
          OIDC.privateKey,
          OIDC.kid
        ),
      'The ID token has expired.'
    ],
    [
      'no exp',
      () => signJwt(idTokenClaims(now, { exp: undefined }), OIDC.privateKey, OIDC.kid),
      'The ID token has no valid exp claim.'
    ],
    [
      'an nbf in the future',
      () => signJwt(idTokenClaims(now, { nbf: seconds + 120 }), OIDC.privateKey, OIDC.kid),
      'The ID token is not valid yet: its nbf is in the future.'
    ],
    [
      'an iat in the future',
      () => signJwt(idTokenClaims(now, { iat: seconds + 120, nbf: undefined }), OIDC.privateKey, OIDC.kid),
      'The ID token is not valid yet: its iat is in the future.'
    ],
    [
      'no sub',
      () => signJwt(idTokenClaims(now, { sub: undefined }), OIDC.privateKey, OIDC.kid),
      'The ID token has no sub claim.'
    ],
    [
      'an unknown kid',
      () => signJwt(valid(), OIDC.privateKey, 'gh-key-2'),
      "The ID token's key id (kid gh-key-2) is not among the identity provider's signing keys."
    ],
    [
      'no kid',
      () => signJwt(valid(), OIDC.privateKey, OIDC.kid, { kid: undefined }),
      "The ID token's key id (kid missing) is not among the identity provider's signing keys."
    ],
    [
      'alg none',
      () =>
        `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT', kid: OIDC.kid })).toString('base64url')}.${validPayload}.AAAA`,
      'The ID token algorithm none is not supported; only RS256 is.'
    ],
    [
      'two parts',
      () => `${validHeader}.${validPayload}`,
      'The ID token is malformed: it must be three base64url parts separated by dots.'
    ],
    [
      'a part that is not base64url',
      () => `${validHeader}.${validPayload}.not+base64/url=`,
      'The ID token is malformed: it must be three base64url parts separated by dots.'
    ],
    [
      'a payload that is not JSON',
      () => `${validHeader}.${Buffer.from('not json').toString('base64url')}.AAAA`,
      'The ID token is malformed: its header and payload must be JSON objects.'
    ]
  ]

  it.each(failures)('rejects %s with 401 IAM.0001 and issues no token', async (_, jwt, message) => {
    const clock = manualClock()
    const emulator = await startEmulator(identityOptions(clock))
    const response = await exchangeIdToken(emulator, jwt())
    expect(response.status).toBe(401)
    expect(response.headers.get('x-subject-token')).toBeNull()
    expect(await response.json()).toEqual(iamError('IAM.0001', message))
    expect(emulator.issuedTokens()).toEqual([])
  })

  it('answers 404 IAM.0004 for an unknown or missing X-Idp-Id, and for an unknown project', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(identityOptions(clock))
    const jwt = signJwt(idTokenClaims(clock.now()), OIDC.privateKey, OIDC.kid)

    const unknown = await exchangeIdToken(emulator, jwt, { idpId: 'gitlab' })
    expect(unknown.status).toBe(404)
    expect(await unknown.json()).toEqual(iamError('IAM.0004', 'The identity provider gitlab does not exist.'))
    const missing = await exchangeIdToken(emulator, jwt, { idpId: null })
    expect(missing.status).toBe(404)
    expect(await missing.json()).toEqual(iamError('IAM.0004', 'The request header X-Idp-Id is missing.'))
    const noProject = await exchangeIdToken(emulator, jwt, { scope: { project: { name: 'cn-north-4' } } })
    expect(noProject.status).toBe(404)
    expect(await noProject.json()).toEqual(iamError('IAM.0004', 'The project name cn-north-4 does not exist.'))
    const mismatched = await exchangeIdToken(emulator, jwt, {
      scope: { project: { id: OTHER_PROJECT_ID, name: DEFAULT_REGION } }
    })
    expect(mismatched.status).toBe(404)
    expect(emulator.issuedTokens()).toEqual([])
  })

  it('answers 400 IAM.0011 for a body without auth.id_token.id or with an unsupported scope', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(identityOptions(clock))
    const post = (body: string): Promise<Response> =>
      fetch(new URL(ID_TOKEN_PATH, emulator.url), { method: 'POST', headers: { 'x-idp-id': IDP_ID }, body })
    for (const body of [
      'not json',
      '{}',
      '{"auth":{"id_token":{}}}',
      '{"auth":{"id_token":{"id":"x.y.z"},"scope":{"domain":{"name":"octo"}}}}'
    ]) {
      const response = await post(body)
      expect(response.status).toBe(400)
      expect(await response.json()).toMatchObject({
        error_code: 'IAM.0011',
        error_msg: expect.stringMatching(/^Invalid request body: /)
      })
    }
  })

  it('issues an unscoped token without a scope; it lists projects but calls no /v1 route', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(identityOptions(clock))
    const response = await exchangeIdToken(emulator, signJwt(idTokenClaims(clock.now()), OIDC.privateKey, OIDC.kid), {
      scope: undefined
    })
    expect(response.status).toBe(201)
    expect(((await response.json()) as TokenBody).token.project).toBeUndefined()
    const token = response.headers.get('x-subject-token') ?? ''
    expect((await tokenCall(emulator, `/v3/projects?name=${DEFAULT_REGION}`, token)).status).toBe(200)
    const submitted = await tokenCall(emulator, SUBMIT_PATH, token, { body: rebootBody(['srv-a']) })
    expect(submitted.status).toBe(400)
    expect(await submitted.json()).toMatchObject({
      error: { code: 'Common.0018', message: expect.stringContaining('not scoped to a project') }
    })
    expect(emulator.restartCount('srv-a')).toBe(0)
  })

  it('answers 404 IAM.0004 when no identity provider is configured', async () => {
    const emulator = await startEmulator()
    const response = await exchangeIdToken(emulator, signJwt(idTokenClaims(Date.now()), OIDC.privateKey, OIDC.kid))
    expect(response.status).toBe(404)
    expect(await response.json()).toMatchObject({ error_code: 'IAM.0004' })
  })
})

describe('IAM token by password (POST /v3/auth/tokens)', () => {
  it('answers 201 with a project-scoped token for the right user, password and domain', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(identityOptions(clock))
    const response = await exchangePassword(emulator)
    expect(response.status).toBe(201)
    const token = response.headers.get('x-subject-token') ?? ''
    expect(token).toMatch(/^MII/)
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/)
    expect(((await response.json()) as TokenBody).token).toMatchObject({
      issued_at: '2024-01-02T03:04:05.000000Z',
      expires_at: '2024-01-03T03:04:05.000000Z',
      methods: ['password'],
      project: { id: DEFAULT_PROJECT_ID, name: DEFAULT_REGION },
      user: { name: IAM_USER.name, domain: { id: DEFAULT_DOMAIN_ID, name: IAM_USER.domain } }
    })
    const byId = await exchangePassword(emulator, IAM_USER, { project: { id: OTHER_PROJECT_ID } })
    expect(byId.status).toBe(201)
    expect(((await byId.json()) as TokenBody).token.project?.name).toBe(OTHER_PROJECT)
    expect(emulator.issuedTokens()).toEqual([token, byId.headers.get('x-subject-token')])
    expect(emulator.requests.map((r) => [r.route, r.status, r.authenticatedBy])).toEqual([
      ['password-token', 201, 'none'],
      ['password-token', 201, 'none']
    ])
  })

  it.each([
    ['a wrong password', { ...IAM_USER, password: 'Tr0ub4dor&3' }],
    ['an unknown user', { ...IAM_USER, name: 'someone' }],
    ['a wrong domain', { ...IAM_USER, domain: 'other-account' }]
  ])('answers 401 in the Keystone shape for %s', async (_, user) => {
    const emulator = await startEmulator(identityOptions(manualClock()))
    const response = await exchangePassword(emulator, user)
    expect(response.status).toBe(401)
    expect(await response.json()).toEqual({
      error: { code: 401, message: 'The username or password is wrong.', title: 'Unauthorized' }
    })
    expect(emulator.issuedTokens()).toEqual([])
  })

  it('answers 400 for a malformed body and 404 for an unknown project, in the Keystone shape', async () => {
    const emulator = await startEmulator(identityOptions(manualClock()))
    const malformed = await fetch(new URL(PASSWORD_TOKEN_PATH, emulator.url), {
      method: 'POST',
      body: '{"auth":{"identity":{"methods":["token"]}}}'
    })
    expect(malformed.status).toBe(400)
    expect(await malformed.json()).toMatchObject({ error: { code: 400, title: 'Bad Request' } })
    const unknown = await exchangePassword(emulator, IAM_USER, { project: { name: 'cn-north-4' } })
    expect(unknown.status).toBe(404)
    expect(await unknown.json()).toEqual(keystoneError(404, 'Not Found', 'Could not find project: name cn-north-4.'))
    expect(emulator.issuedTokens()).toEqual([])
  })
})

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

describe(`GitHub OIDC token service (GET ${GITHUB_OIDC_PATH})`, () => {
  async function getOidcToken(emulator: EcsEmulator, query: string, bearer?: string): Promise<Response> {
    return fetch(new URL(`${GITHUB_OIDC_PATH}${query}`, emulator.url), {
      headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }
    })
  }

  it('answers {"value": JWT}, an RS256 token with the requested audience that the id-token route accepts', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(identityOptions(clock))
    const response = await getOidcToken(emulator, `?api-version=2.0&audience=${CLIENT_ID}`, GITHUB_REQUEST_TOKEN)
    expect(response.status).toBe(200)
    const { value } = (await response.json()) as { value: string }
    const { header, claims } = decodeJwt(value)
    const iat = Math.floor(clock.now() / 1000)
    expect(header).toEqual({ alg: 'RS256', typ: 'JWT', kid: OIDC.kid })
    expect(claims).toMatchObject({
      iss: GITHUB_OIDC_ISSUER,
      sub: SUBJECT,
      aud: CLIENT_ID,
      repository: 'octo/fleet',
      repository_owner: 'octo',
      ref: 'refs/heads/main',
      iat,
      nbf: iat,
      exp: iat + 300
    })
    const [h, p, signature] = value.split('.')
    const publicKey = createPublicKey({ key: OIDC.publicJwks.keys[0], format: 'jwk' })
    expect(verifySignature('sha256', Buffer.from(`${h}.${p}`), publicKey, Buffer.from(signature, 'base64url'))).toBe(
      true
    )
    expect(emulator.requests[0]).toMatchObject({ route: 'github-oidc', status: 200, authenticatedBy: 'none' })

    const exchanged = await exchangeIdToken(emulator, value)
    expect(exchanged.status).toBe(201)
    expect(((await exchanged.json()) as TokenBody).token.user.name).toBe(SUBJECT)
  })

  it('defaults the audience to the owner URL, and takes a subject, repository and lifetime', async () => {
    const clock = manualClock()
    const base = identityOptions(clock)
    const emulator = await startEmulator({
      ...base,
      githubOidc: {
        issuer: OIDC.issuer,
        requestToken: GITHUB_REQUEST_TOKEN,
        privateKey: OIDC.privateKey,
        kid: OIDC.kid,
        repository: 'acme/web',
        subject: 'repo:acme/web:environment:prod',
        expiresInSeconds: -120
      }
    })
    const response = await getOidcToken(emulator, '?api-version=2.0', GITHUB_REQUEST_TOKEN)
    const { value } = (await response.json()) as { value: string }
    const { claims } = decodeJwt(value)
    const iat = Math.floor(clock.now() / 1000)
    expect(claims).toMatchObject({
      aud: 'https://github.com/acme',
      sub: 'repo:acme/web:environment:prod',
      repository: 'acme/web',
      exp: iat - 120
    })
    // Already expired (beyond the skew) and for the wrong audience: expiry is checked after aud.
    const wrongAud = await exchangeIdToken(emulator, value)
    expect(await wrongAud.json()).toMatchObject({ error_msg: expect.stringMatching(/audience/) })
    const expiredToken = (
      (await (await getOidcToken(emulator, `?audience=${CLIENT_ID}`, GITHUB_REQUEST_TOKEN)).json()) as { value: string }
    ).value
    const expired = await exchangeIdToken(emulator, expiredToken)
    expect(expired.status).toBe(401)
    expect(await expired.json()).toEqual(iamError('IAM.0001', 'The ID token has expired.'))
  })

  it('answers 401 for a wrong or missing bearer request token, and 404 when not configured', async () => {
    const emulator = await startEmulator(identityOptions(manualClock()))
    expect((await getOidcToken(emulator, '?audience=x', 'wrong-token')).status).toBe(401)
    expect((await getOidcToken(emulator, '?audience=x')).status).toBe(401)
    const plain = await startEmulator()
    expect((await getOidcToken(plain, '?audience=x', GITHUB_REQUEST_TOKEN)).status).toBe(404)
    expect(() => plain.githubOidcEnv()).toThrow(/githubOidc/)
  })

  it("serves @actions/core's real getIDToken(), whose token the id-token route exchanges", async () => {
    const clock = manualClock()
    const emulator = await startEmulator(identityOptions(clock, { jobDurationMs: 0 }))
    const before = process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN
    const written: string[] = []
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk))
      return true
    })
    let jwt: string
    try {
      for (const [name, value] of Object.entries(emulator.githubOidcEnv())) vi.stubEnv(name, value)
      jwt = await core.getIDToken('my-audience')
    } finally {
      write.mockRestore()
      vi.unstubAllEnvs() // restores both variables as they were
    }
    expect(process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN).toBe(before)
    expect(written.join('')).toContain(`::add-mask::${jwt}`)
    expect(decodeJwt(jwt).claims.aud).toBe('my-audience')
    expect(emulator.requests[0]).toMatchObject({ route: 'github-oidc', status: 200 })
    expect(emulator.requests[0].query.get('audience')).toBe('my-audience')
    expect(emulator.requests[0].query.get('api-version')).toBe('2.0')
    expect(emulator.requests[0].headers.authorization).toBe(`Bearer ${GITHUB_REQUEST_TOKEN}`)

    // The identity provider trusts the audience the action asks for.
    const options = identityOptions(clock, { jobDurationMs: 0 })
    const trusting = await startEmulator({
      ...options,
      identityProviders: { [IDP_ID]: { issuer: OIDC.issuer, clientId: 'my-audience', jwks: OIDC.publicJwks } }
    })
    const exchanged = await exchangeIdToken(trusting, jwt)
    expect(exchanged.status).toBe(201)
    const token = exchanged.headers.get('x-subject-token') ?? ''
    const submitted = await tokenCall(trusting, SUBMIT_PATH, token, { body: rebootBody(['srv-a']) })
    expect(submitted.status).toBe(200)
    expect(trusting.restartCount('srv-a')).toBe(1)
  })
})
