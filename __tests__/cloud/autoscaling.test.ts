import { describe, expect, it } from 'vitest'
import { ecsError } from '../emulator'
import { AS_PATH, elbFleet } from '../support/elb-fleet'
import { useEmulator } from '../support/fixtures'
import { lbClients } from '../support/lb-clients'

// The Auto Scaling client against the emulator over HTTP, every signature verified, on a virtual clock.

const emulators = useEmulator()

describe('Auto Scaling client against the emulator', () => {
  it('reads a group, pauses and resumes it, each a signed call the group follows', async () => {
    const { scaling, emulator } = await lbClients(emulators, elbFleet())
    await expect(scaling.group('asg-api')).resolves.toEqual({
      id: 'asg-api',
      name: 'asg-api',
      status: 'INSERVICE',
      isScaling: false,
      poolIds: ['pool-api']
    })
    await scaling.setPaused('asg-api', true)
    await expect(scaling.group('asg-api')).resolves.toMatchObject({ status: 'PAUSED' })
    await scaling.setPaused('asg-api', false)
    await expect(scaling.group('asg-api')).resolves.toMatchObject({ status: 'INSERVICE' })
    const actions = emulator.requests.filter((r) => r.route === 'as-group-action')
    expect(actions.map((r) => [r.path, r.status, JSON.parse(r.body) as unknown])).toEqual([
      [`${AS_PATH}/scaling_group/asg-api/action`, 204, { action: 'pause' }],
      [`${AS_PATH}/scaling_group/asg-api/action`, 204, { action: 'resume' }]
    ])
    expect(emulator.requests.every((r) => r.signatureValid)).toBe(true)
  })

  it('fails in the AS error shape, once: a pause of a paused group is not sent again', async () => {
    const { scaling, emulator } = await lbClients(emulators, elbFleet())
    await scaling.setPaused('asg-api', true)
    await expect(scaling.setPaused('asg-api', true)).rejects.toThrow(
      /^Pause scaling group asg-api failed with HTTP 400, AS\.2020: The AS group asg-api is already paused\. \(X-Request-Id: \S+\)$/
    )
    await expect(scaling.group('asg-none')).rejects.toMatchObject({ status: 404, code: 'AS.2007' })
    expect(emulator.requests.map((r) => r.status)).toEqual([204, 400, 404])
  })

  it('resends a throttled pause (nothing was done), but not one that failed on the server', async () => {
    const { scaling, emulator, sleeps } = await lbClients(emulators, elbFleet())
    emulator.inject(
      'as-group-action',
      { kind: 'respond', status: 429, body: ecsError('APIG.0308', 'The throttling threshold has been reached') },
      { kind: 'respond', status: 500, body: ecsError('AS.0001', 'Internal error.') }
    )
    await expect(scaling.setPaused('asg-api', true)).rejects.toMatchObject({ status: 500, code: 'AS.0001' })
    expect(sleeps).toEqual([750])
    await expect(scaling.group('asg-api')).resolves.toMatchObject({ status: 'INSERVICE' })
  })

  it('reads a group answer without its fields as the group asked for, status unknown', async () => {
    const { scaling, emulator } = await lbClients(emulators, elbFleet())
    emulator.inject('as-group', { kind: 'respond', status: 200, body: { scaling_group: { is_scaling: 'yes' } } })
    await expect(scaling.group('asg-api')).resolves.toEqual({
      id: 'asg-api',
      name: '',
      status: '',
      isScaling: false,
      poolIds: []
    })
  })
  it('lists every instance of a group, 100 a page by start_number, with its life-cycle state', async () => {
    const many = Array.from({ length: 105 }, (_, i) => `x-${i}`)
    const { scaling, emulator } = await lbClients(emulators, {
      ...elbFleet(),
      scalingGroups: [{ id: 'asg-big', instances: many, poolIds: ['pool-web'], auditTimeMinutes: 180 }]
    })
    const listed = await scaling.instances('asg-big')
    expect(listed.map((i) => i.serverId)).toEqual(many)
    expect(new Set(listed.map((i) => i.lifeCycleState))).toEqual(new Set(['INSERVICE']))
    const pages = emulator.requests.filter((r) => r.route === 'as-instances').map((r) => r.query.toString())
    expect(pages).toEqual(['start_number=0&limit=100', 'start_number=100&limit=100'])
  })

  it('puts instances in standby and back, at most 10 a call, and says which calls were taken', async () => {
    const { scaling, emulator } = await lbClients(emulators, elbFleet())
    const ids = Array.from({ length: 10 }, (_, i) => `srv-${15 + i}`)
    const accepted: string[][] = []
    await scaling.setStandby('asg-api', ids, true, undefined, (chunk) => accepted.push([...chunk]))
    expect(accepted).toEqual([ids])
    expect((await scaling.instances('asg-api')).every((i) => i.lifeCycleState === 'STANDBY')).toBe(true)
    await scaling.setStandby('asg-api', ids.slice(0, 3), false)
    const actions = emulator.requests.filter((r) => r.route === 'as-instances-action')
    expect(actions.map((r) => [r.status, JSON.parse(r.body) as unknown])).toEqual([
      [204, { action: 'ENTER_STANDBY', instances_id: ids, instance_append: 'no' }],
      [204, { action: 'EXIT_STANDBY', instances_id: ids.slice(0, 3) }]
    ])
    await expect(scaling.setStandby('asg-api', ['srv-15'], false)).rejects.toMatchObject({
      status: 400,
      code: 'AS.4038'
    })
    expect(emulator.requests.every((r) => r.signatureValid)).toBe(true)
  })

  it('splits a standby of more than 10 instances into calls of 10; a refused call stops there', async () => {
    const many = Array.from({ length: 12 }, (_, i) => `srv-${String(i).padStart(2, '0')}`)
    const { scaling, emulator } = await lbClients(emulators, {
      ...elbFleet(),
      scalingGroups: [{ id: 'asg-web', instances: many, poolIds: ['pool-web'], auditTimeMinutes: 180 }]
    })
    const accepted: number[] = []
    await scaling.setStandby('asg-web', many, true, undefined, (chunk) => accepted.push(chunk.length))
    expect(accepted).toEqual([10, 2])
    emulator.inject('as-instances-action', {
      kind: 'respond',
      status: 400,
      body: ecsError('AS.4037', 'Batch exit failed.')
    })
    accepted.length = 0
    await expect(
      scaling.setStandby('asg-web', many, false, undefined, (chunk) => accepted.push(chunk.length))
    ).rejects.toMatchObject({ code: 'AS.4037' })
    expect(accepted).toEqual([])
  })
})
