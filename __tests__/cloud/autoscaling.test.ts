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
      isScaling: false
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
    await expect(scaling.group('asg-api')).resolves.toEqual({ id: 'asg-api', name: '', status: '', isScaling: false })
  })
})
