/** The core: injected faults, unknown routes, counters. */
import { describe, expect, it, vi } from 'vitest'
import { DEFAULT_PROJECT_ID, DEFAULT_REGION, EcsEmulator, ecsError, gatewayError, iamError } from '.'
import {
  call,
  DEFAULT_AK,
  jobPath,
  queryJob,
  rebootBody,
  submit,
  SUBMIT_PATH,
  useEmulators
} from '../support/emulator-calls'

const startEmulator = useEmulators()

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
    // A hanging request is never answered: close() resolves only because it does not wait for them.
    await emulator.close()
    expect(emulator.requests.map((r) => r.status)).toEqual(['hang', 'hang'])
    expect((await outcomes).map((o) => o.status)).toEqual(['rejected', 'rejected'])
    await emulator.close() // idempotent
  })

  it('delay: waits, then processes normally (signature included)', async () => {
    const emulator = await startEmulator()
    emulator.inject('submit', { kind: 'delay', ms: 1000 })
    const answered: string[] = []
    const delayed = submit(emulator, ['srv-a']).then((jobId) => (answered.push('srv-a'), jobId))
    await vi.waitFor(() => expect(emulator.pendingFaults('submit')).toBe(0))
    // A request sent after the delayed one, without a fault, is processed and answered first.
    const prompt = await submit(emulator, ['srv-b']).then((jobId) => (answered.push('srv-b'), jobId))
    expect(answered).toEqual(['srv-b'])
    expect(emulator.restartCount('srv-a')).toBe(0)
    const jobId = await delayed
    expect(answered).toEqual(['srv-b', 'srv-a'])
    expect(emulator.jobIds()).toEqual([prompt, jobId])
    expect(emulator.restartCount('srv-a')).toBe(1)

    emulator.inject('submit', { kind: 'delay', ms: 150 })
    const rejected = await call(emulator, SUBMIT_PATH, {
      body: rebootBody(['srv-a']),
      key: { accessKeyId: DEFAULT_AK, secretAccessKey: 'x' }
    })
    expect(rejected.status).toBe(401)
    expect(emulator.restartCount('srv-a')).toBe(1)

    // The faults are used up: the next submit is processed as usual.
    expect(emulator.pendingFaults('submit')).toBe(0)
    await submit(emulator, ['srv-a'])
    expect(emulator.restartCount('srv-a')).toBe(2)
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
