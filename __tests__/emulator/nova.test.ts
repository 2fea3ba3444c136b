/** The Nova routes. */
import { describe, expect, it } from 'vitest'
import { DEFAULT_PROJECT_ID, ecsError, type EcsEmulator } from '.'
import { call, manualClock, submit, SUBMIT_PATH, useEmulators } from '../support/emulator-calls'

const startEmulator = useEmulators()

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
        expect(response.headers.get('retry-after')).toBeNull()
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
