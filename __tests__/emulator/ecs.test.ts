/** The ECS routes: batch actions, their jobs, project checks and refused servers. */
import { describe, expect, it } from 'vitest'
import { DEFAULT_PROJECT_ID, DEFAULT_REGION, EcsEmulator, ecsError } from '.'
import {
  actionBody,
  call,
  DEFAULT_AK,
  jobPath,
  manualClock,
  queryJob,
  rebootBody,
  submit,
  SUBMIT_PATH,
  useEmulators
} from '../support/emulator-calls'

const startEmulator = useEmulators()

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
