/** The benchmark model: latency and the restart rate limit. */
import { describe, expect, it, vi } from 'vitest'
import { DEFAULT_REGION, EcsEmulator, type EmulatorOptions } from '.'
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

  it('accepts up to the limit per sliding window, then answers 429 APIG.0308 (with Retry-After when asked)', async () => {
    const clock = manualClock()
    const emulator = await startEmulator({
      now: clock.now,
      rateLimit: { servers: 1000, windowMs: 1000, retryAfter: true }
    })
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
    const emulator = await startEmulator({
      now: clock.now,
      rateLimit: { servers: 1000, windowMs: 10_000, retryAfter: true }
    })
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
    // No source shows the cloud sending Retry-After: by default, neither does the emulator.
    expect(throttled.headers.get('retry-after')).toBeNull()
    clock.advance(500)
    await submit(emulator, ['s6'], { date: clock.date() })
    expect(emulator.counters().throttled).toBe(1)
  })

  it('limits reboot, stop and start alike, and only requests that would otherwise be accepted', async () => {
    const clock = manualClock()
    const emulator = await startEmulator({
      now: clock.now,
      rateLimit: { servers: 1, windowMs: 1000 },
      rejectServers: { 'srv-locked': { status: 400, code: 'Ecs.0605', reason: 'ECS locked.' } }
    })
    await submit(emulator, ['srv-a'], { date: clock.date() })
    const stop = await call(emulator, SUBMIT_PATH, { body: actionBody('os-stop', ['srv-b']), date: clock.date() })
    expect(stop.status).toBe(429)
    const start = await call(emulator, SUBMIT_PATH, { body: actionBody('os-start', ['srv-b']), date: clock.date() })
    expect(start.status).toBe(429)
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
    expect(emulator.counters().throttled).toBe(3)
    clock.advance(1000)
    const later = await call(emulator, SUBMIT_PATH, { body: actionBody('os-stop', ['srv-b']), date: clock.date() })
    expect(later.status).toBe(200)
    expect(emulator.restartCount('srv-b')).toBe(1)
  })
})
