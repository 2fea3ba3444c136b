import { describe, expect, it } from 'vitest'
import type { EcsEmulator, EmulatorOptions } from '../emulator'
import { groupInstances } from '../support/elb-fleet'
import {
  ALL_SERVERS,
  dropped,
  expectSecretKeptOut,
  fastElbFleet,
  gatedInputs,
  groupStatus,
  killedRun,
  serverWeights,
  uuid
} from '../support/elb-run'
import { useEmulator } from '../support/fixtures'
import { outcomes, runAction } from '../support/run-action'

// as-protection: standby, through the bundle against the emulator's load-balanced fleet in real
// time: asg-api (srv-15…24, pool-api) re-creates members at weight 3 (theirs is 1) when they leave
// standby, and does not restart their grace period (the emulator's harsh default).

const emulators = useEmulator()

/** srv-15 boots for 10.5 s: longer than the group's 10 s audit period. */
const SLOW = { 'srv-15': 10_500 }

function standbyFleet(): EmulatorOptions {
  const fleet = fastElbFleet({ serverBootDelayMs: SLOW })
  fleet.scalingGroups = fleet.scalingGroups?.map((group) => ({ ...group, listenerWeight: 3 }))
  return fleet
}

const GROUP = Array.from({ length: 10 }, (_, i) => uuid(15 + i))

/** Members of asg-api's servers missing from pool-api: some server is in standby. */
const anyInStandby = (emulator: EcsEmulator): boolean => emulator.loadBalancing.members('pool-api').length < 15

describe('health-gate: elb with as-protection: standby', () => {
  it('restarts the fleet with zero dropped requests and no Auto Scaling removal; every member back at its weight, the group in service', async () => {
    const emulator = await emulators.start(standbyFleet())
    const before = serverWeights(emulator)
    const apiIds = new Set(emulator.loadBalancing.members('pool-api').map((m) => m.id))
    const run = await runAction(gatedInputs(emulator, { 'as-protection': 'standby' }))

    expect(run.exitCode, run.stdout).toBe(0)
    expect(dropped(emulator)).toBe(0)
    expect(emulator.loadBalancing.removals()).toEqual([])
    expect(ALL_SERVERS.map((id) => emulator.restartCount(id))).toEqual(ALL_SERVERS.map(() => 1))
    expect(outcomes(run).succeeded).toEqual(ALL_SERVERS)
    expect(serverWeights(emulator)).toEqual(before)
    // The group's servers came back as new members; the others kept theirs.
    const api = emulator.loadBalancing.members('pool-api')
    expect(api.filter((m) => GROUP.includes(m.serverId)).every((m) => !apiIds.has(m.id))).toBe(true)
    expect(api.filter((m) => !GROUP.includes(m.serverId)).every((m) => apiIds.has(m.id))).toBe(true)
    expect(await groupStatus(emulator)).toBe('INSERVICE')
    expect(new Set((await groupInstances(emulator)).map((i) => i.life_cycle_state))).toEqual(new Set(['INSERVICE']))
    // Standby was entered and left once per server of the group, and the group paused once per wave holding one.
    const actions = emulator.requests.filter((r) => r.route === 'as-instances-action' && r.status === 204)
    const sent = (kind: string) =>
      actions.flatMap((r) => {
        const body = JSON.parse(r.body) as { action: string; instances_id: string[] }
        return body.action === kind ? body.instances_id : []
      })
    expect(sent('ENTER_STANDBY').sort()).toEqual([...GROUP].sort())
    expect(sent('EXIT_STANDBY').sort()).toEqual([...GROUP].sort())
    expect(run.stdout).toContain('Standby: 10 servers in scaling group asg-api (taken out of pool(s) pool-api)')
    expect(run.summary).toContain('Standby in')
    expect(run.summary).toContain('asg-api (out again)')
  }, 120_000)

  it('killed (SIGKILL) with servers in standby: the post step takes them out with the group paused, sets their weights and resumes the group', async () => {
    const emulator = await emulators.start(standbyFleet())
    const before = serverWeights(emulator)
    const given = gatedInputs(emulator, { 'as-protection': 'standby', 'server-ids': GROUP.join(',') })
    const { run, journal, post: runPost } = await killedRun(given, () => anyInStandby(emulator))
    expect(run.exitCode).toBeNull()
    expect((await groupInstances(emulator)).some((i) => i.life_cycle_state === 'STANDBY')).toBe(true)
    const post = await runPost()
    expect(post.exitCode, post.stdout).toBe(0)
    expect(post.stdout).toMatch(/Took \S+(, \S+)* out of standby in scaling group asg-api/)
    expect(new Set((await groupInstances(emulator)).map((i) => i.life_cycle_state))).toEqual(new Set(['INSERVICE']))
    expect(serverWeights(emulator)).toEqual(before)
    expect(await groupStatus(emulator)).toBe('INSERVICE')
    expect(emulator.loadBalancing.removals()).toEqual([])
    expectSecretKeptOut(run, journal, post.stdout)
  }, 60_000)

  it('cancelled (SIGINT) with servers in standby and restarting: takes them out of standby in-process, within the grace period, and leaves the group paused', async () => {
    const emulator = await emulators.start(standbyFleet())
    const before = serverWeights(emulator)
    const given = gatedInputs(emulator, { 'as-protection': 'standby', 'server-ids': GROUP.join(',') })
    // Once the first wave is in standby and its restart was sent (srv-15 then boots for 10.5 s).
    const restartSent = () => emulator.requests.some((r) => r.route === 'submit')
    const run = await runAction(given, {
      signalWhen: { ready: () => anyInStandby(emulator) && restartSent(), signal: 'SIGINT' }
    })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toContain('Cancelled (SIGINT)')
    // It ended on its own before the runner's SIGTERM (7.5 s after SIGINT), let alone its SIGKILL.
    expect(run.signalsSent).toEqual(['SIGINT'])
    expect(run.exitSignal).toBeNull()
    expect(run.stdout).toMatch(/Took \S+(, \S+)* out of standby in scaling group asg-api/)
    expect(new Set((await groupInstances(emulator)).map((i) => i.life_cycle_state))).toEqual(new Set(['INSERVICE']))
    expect(serverWeights(emulator)).toEqual(before)
    expect(emulator.loadBalancing.removals()).toEqual([])
    // Its restarted servers were not healthy yet when it ended (srv-15 boots for 10.5 s), and a
    // resumed group would delete them: the group stays paused, with an alert to resume it by hand.
    expect(emulator.restartCount(uuid(15))).toBe(1)
    const groupActions = emulator.requests.filter((r) => r.route === 'as-group-action')
    expect(groupActions.map((r) => [JSON.parse(r.body) as unknown, r.status])).toEqual([[{ action: 'pause' }, 204]])
    expect(await groupStatus(emulator)).toBe('PAUSED')
    expect(run.stdout).toMatch(/::error title=Health gate%3A act by hand::Scaling group asg-api was left PAUSED/)
  }, 60_000)
})
