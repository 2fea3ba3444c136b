/**
 * The emulator's Auto Scaling routes and audit: a group removes (and, for instances it created,
 * deletes) an instance its load balancer reports OFFLINE, unless the group is paused or the
 * instance is in standby; pause/resume and ENTER_STANDBY/EXIT_STANDBY answer 204.
 */
import { describe, expect, it } from 'vitest'
import type { EcsEmulator } from '.'
import { call, manualClock, submit, useEmulators } from '../support/emulator-calls'
import { AS_PATH, ELB_PATH, elbFleet, type GroupInstance, groupInstances, lbCall, lbJson } from '../support/elb-fleet'

const startEmulator = useEmulators()

type Clock = ReturnType<typeof manualClock>

const action = (emulator: EcsEmulator, clock: Clock, path: string, body: object): Promise<Response> =>
  lbCall(emulator, `${AS_PATH}${path}`, { body: JSON.stringify(body), date: clock.date() })

const instances = (emulator: EcsEmulator, clock: Clock): Promise<GroupInstance[]> =>
  groupInstances(emulator, { date: clock.date() })

async function serverStatus(emulator: EcsEmulator, clock: Clock, id: string): Promise<string> {
  const response = await call(emulator, `/v1/0123456789abcdef0123456789abcdef/cloudservers/${id}`, {
    date: clock.date()
  })
  return ((await response.json()) as { server: { status: string } }).server.status
}

describe('Auto Scaling routes', () => {
  it('lists groups and instances with the documented fields, paged by start_number and limit', async () => {
    const emulator = await startEmulator(elbFleet())
    const groups = await lbJson<{ total_number: number; scaling_groups: Record<string, unknown>[] }>(
      emulator,
      `${AS_PATH}/scaling_group`
    )
    expect(groups.total_number).toBe(1)
    expect(groups.scaling_groups[0]).toMatchObject({
      scaling_group_id: 'asg-api',
      scaling_group_status: 'INSERVICE',
      is_scaling: false,
      health_periodic_audit_method: 'ELB_AUDIT',
      health_periodic_audit_time: 0,
      health_periodic_audit_grace_period: 600,
      lbaas_listeners: [{ pool_id: 'pool-api', weight: 1 }]
    })
    const shown = await lbJson<{ scaling_group: object }>(emulator, `${AS_PATH}/scaling_group/asg-api`)
    expect(shown.scaling_group).toEqual(groups.scaling_groups[0])
    const page = await lbJson<{
      total_number: number
      start_number: number
      limit: number
      scaling_group_instances: GroupInstance[]
    }>(emulator, `${AS_PATH}/scaling_group_instance/asg-api/list?start_number=8&limit=5`)
    expect([page.total_number, page.start_number, page.limit]).toEqual([10, 8, 5])
    expect(page.scaling_group_instances.map((i) => [i.instance_id, i.life_cycle_state, i.health_status])).toEqual([
      ['srv-23', 'INSERVICE', 'NORMAL'],
      ['srv-24', 'INSERVICE', 'NORMAL']
    ])
    // Default page: 20 (the API reference).
    const first = await lbJson<{ limit: number }>(emulator, `${AS_PATH}/scaling_group_instance/asg-api/list`)
    expect(first.limit).toBe(20)
  })

  it('answers errors in the AS shape: unknown group, wrong action, wrong state, too many instances', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(elbFleet({ now: clock.now }))
    const missing = await lbCall(emulator, `${AS_PATH}/scaling_group/nope`, { date: clock.date() })
    expect(missing.status).toBe(404)
    expect(await missing.json()).toMatchObject({ error: { code: 'AS.2007' } })
    expect((await action(emulator, clock, '/scaling_group/asg-api/action', { action: 'stop' })).status).toBe(400)
    expect((await action(emulator, clock, '/scaling_group/asg-api/action', { action: 'resume' })).status).toBe(400)
    expect((await action(emulator, clock, '/scaling_group/asg-api/action', { action: 'pause' })).status).toBe(204)
    const twice = await action(emulator, clock, '/scaling_group/asg-api/action', { action: 'pause' })
    expect(await twice.json()).toMatchObject({ error: { code: 'AS.2020' } })

    const standby = (body: object): Promise<Response> =>
      action(emulator, clock, '/scaling_group_instance/asg-api/action', body)
    const eleven = Array.from({ length: 11 }, (_, i) => `srv-${10 + i}`)
    expect((await standby({ action: 'ENTER_STANDBY', instances_id: eleven })).status).toBe(400)
    const notStandby = await standby({ action: 'EXIT_STANDBY', instances_id: ['srv-15'] })
    expect(await notStandby.json()).toMatchObject({ error: { code: 'AS.4038' } })
    const notInGroup = await standby({ action: 'ENTER_STANDBY', instances_id: ['srv-00'] })
    expect(await notInGroup.json()).toMatchObject({ error: { code: 'AS.4015' } })
  })
})

describe('the health audit', () => {
  it('removes and deletes an instance its load balancer reports OFFLINE, and records it', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(elbFleet({ now: clock.now }))
    emulator.setServerStatus('srv-16', 'SHUTOFF')
    clock.advance(19_999) // OFFLINE at 15 s, next audit at 20 s
    expect(emulator.loadBalancing.removals()).toEqual([])
    clock.advance(1)
    expect(emulator.loadBalancing.removals()).toEqual([
      {
        groupId: 'asg-api',
        serverId: 'srv-16',
        at: clock.now(),
        reason: 'ELB_AUDIT: member pool-api.srv-16 of pool pool-api OFFLINE',
        deleted: true
      }
    ])
    expect((await instances(emulator, clock)).map((i) => i.instance_id)).not.toContain('srv-16')
    expect(await serverStatus(emulator, clock, 'srv-16')).toBe('DELETED')
    expect(emulator.loadBalancing.members('pool-api').map((m) => m.serverId)).not.toContain('srv-16')
    // Servers outside the group are left alone whatever their health.
    emulator.setServerStatus('srv-10', 'SHUTOFF')
    clock.advance(60_000)
    expect(emulator.loadBalancing.removals()).toHaveLength(1)
  })

  it('a reboot long enough to turn the member OFFLINE gets the instance deleted', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(elbFleet({ now: clock.now, jobDurationMs: 30_000 }))
    await submit(emulator, ['srv-18'], { date: clock.date() })
    clock.advance(60_000)
    expect(emulator.loadBalancing.removals().map((r) => r.serverId)).toEqual(['srv-18'])
  })

  it('a paused group keeps checking (health_status ERROR) but removes nothing; resumed after recovery, nothing', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(elbFleet({ now: clock.now, jobDurationMs: 30_000 }))
    expect((await action(emulator, clock, '/scaling_group/asg-api/action', { action: 'pause' })).status).toBe(204)
    const group = await lbJson<{ scaling_group: { scaling_group_status: string } }>(
      emulator,
      `${AS_PATH}/scaling_group/asg-api`,
      {
        date: clock.date()
      }
    )
    expect(group.scaling_group.scaling_group_status).toBe('PAUSED')
    await submit(emulator, ['srv-18'], { date: clock.date() })
    clock.advance(20_000)
    expect((await instances(emulator, clock)).find((i) => i.instance_id === 'srv-18')?.health_status).toBe('ERROR')
    clock.advance(40_000) // back ONLINE at 45 s
    expect((await action(emulator, clock, '/scaling_group/asg-api/action', { action: 'resume' })).status).toBe(204)
    clock.advance(60_000)
    expect(emulator.loadBalancing.removals()).toEqual([])
    expect((await instances(emulator, clock)).find((i) => i.instance_id === 'srv-18')?.health_status).toBe('NORMAL')
    expect(emulator.restartCount('srv-18')).toBe(1)
  })

  it('standby unbinds the instance from the group’s pools and stops its audit; exit binds a new member', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(elbFleet({ now: clock.now, jobDurationMs: 30_000 }))
    const standby = (kind: string): Promise<Response> =>
      action(emulator, clock, '/scaling_group_instance/asg-api/action', {
        action: kind,
        instances_id: ['srv-22'],
        instance_append: 'no'
      })
    expect((await standby('ENTER_STANDBY')).status).toBe(204)
    expect(emulator.loadBalancing.members('pool-api').map((m) => m.serverId)).not.toContain('srv-22')
    // Its member in a pool the group does not manage stays.
    expect(emulator.loadBalancing.members('pool-legacy').map((m) => m.serverId)).toContain('srv-22')
    expect((await instances(emulator, clock)).find((i) => i.instance_id === 'srv-22')?.life_cycle_state).toBe('STANDBY')
    await submit(emulator, ['srv-22'], { date: clock.date() })
    clock.advance(60_000)
    expect(emulator.loadBalancing.removals()).toEqual([])

    expect((await standby('EXIT_STANDBY')).status).toBe(204)
    const rebound = emulator.loadBalancing.members('pool-api').filter((m) => m.serverId === 'srv-22')
    expect(rebound).toMatchObject([{ weight: 1, operatingStatus: 'INITIAL' }])
    expect(rebound[0].id).not.toBe('pool-api.srv-22')
    clock.advance(5_000) // healthy after one check when new to the load balancer
    const path = `${ELB_PATH}/pools/pool-api/members?instance_id=srv-22`
    const listed = await lbJson<{ members: { id: string; operating_status: string }[] }>(emulator, path, {
      date: clock.date()
    })
    expect(listed.members).toMatchObject([{ id: rebound[0].id, operating_status: 'ONLINE' }])
  })

  it('a server taken out of standby while its application still boots is deleted by the audit of a running group (grace not restarted, the default); with exitStandbyRestartsGrace it is not', async () => {
    for (const lenient of [false, true]) {
      const clock = manualClock()
      const fleet = elbFleet({ now: clock.now, bootDelayMs: 60_000 })
      fleet.scalingGroups = fleet.scalingGroups?.map((g) => ({ ...g, exitStandbyRestartsGrace: lenient }))
      const emulator = await startEmulator(fleet)
      const standby = (kind: string): Promise<Response> =>
        action(emulator, clock, '/scaling_group_instance/asg-api/action', { action: kind, instances_id: ['srv-22'] })
      expect((await standby('ENTER_STANDBY')).status).toBe(204)
      await submit(emulator, ['srv-22'], { date: clock.date() })
      clock.advance(1_000) // the job is done; the application boots for a minute
      expect((await standby('EXIT_STANDBY')).status).toBe(204)
      clock.advance(30_000)
      const removals = emulator.loadBalancing.removals()
      if (lenient) expect(removals).toEqual([])
      else {
        expect(removals).toMatchObject([{ serverId: 'srv-22', deleted: true }])
        expect(removals[0].reason).toMatch(/^ELB_AUDIT: member \S+ of pool pool-api OFFLINE$/)
        expect(await serverStatus(emulator, clock, 'srv-22')).toBe('DELETED')
      }
    }
  })

  it('NOVA_AUDIT treats a rebooting server as unhealthy; a manually added instance is removed, not deleted', async () => {
    const clock = manualClock()
    const emulator = await startEmulator({
      ...elbFleet({ now: clock.now, jobDurationMs: 15_000 }),
      scalingGroups: [
        {
          id: 'asg-nova',
          instances: [{ serverId: 'srv-01', createdBy: 'manual' }, 'srv-02'],
          auditMethod: 'NOVA_AUDIT',
          auditTimeMinutes: 0
        }
      ]
    })
    await submit(emulator, ['srv-01'], { date: clock.date() })
    clock.advance(10_000)
    expect(emulator.loadBalancing.removals()).toMatchObject([
      { serverId: 'srv-01', reason: 'NOVA_AUDIT: server REBOOT', deleted: false }
    ])
    clock.advance(10_000)
    expect(await serverStatus(emulator, clock, 'srv-01')).toBe('ACTIVE')
  })
})
