// as-protection: standby on a virtual clock against the in-memory ELB and Auto Scaling (no timers, no HTTP).
import { describe, expect, it } from 'vitest'
import { ApiError } from '../../src/cloud/errors'
import { discover } from '../../src/engine/health-gate/discover'
import { HealthGate } from '../../src/engine/health-gate/gate'
import { restoreAll } from '../../src/engine/health-gate/restore'
import { discoverStandby } from '../../src/engine/health-gate/standby-discover'
import type { Journal, ScalingPort } from '../../src/engine/health-gate/types'
import { type FakePool, fakeElb, fakeScaling, gateSettings, pool, ports, servers } from '../support/fake-elb'

/**
 * Pool `web` (dedicated) of s0…s{n-1}, bound to scaling group asg (listener weight 5, members at
 * weight 1); pool `legacy` (shared) of the same servers, not the group's: drained by weight.
 */
async function standbyFleet(n: number, maxUnavailable = 1) {
  const clock = { now: 0 }
  const web = pool('web', servers(n))
  const legacy = pool('legacy', servers(n), { guaranteed: false })
  const pools = [web, legacy]
  const elb = fakeElb(pools, clock)
  const scaling = fakeScaling({ asg: 'INSERVICE' }, clock, undefined, {
    pools,
    groups: { asg: { poolIds: ['web'], servers: servers(n), listenerWeight: 5 } }
  })
  const topology = await discover(servers(n), { maxUnavailable: { count: maxUnavailable } }, elb, Infinity)
  const found = await discoverStandby(servers(n), ['asg'], scaling, undefined, Infinity)
  topology.standby = found.standby
  return { clock, web, legacy, pools, elb, scaling, topology, found }
}

/** New members (INITIAL) pass their first probe 5 s after they appeared. */
function bootNewMembers(pools: FakePool[], since: { at: number | null }) {
  return (now: number): void => {
    for (const p of pools) {
      for (const m of p.members.filter((x) => x.statuses[0] === 'INITIAL')) {
        since.at ??= now
        if (now - since.at >= 5000) m.statuses = ['ONLINE']
      }
    }
  }
}

describe('standby: discovery', () => {
  it('finds which selected server is in which group, and refuses one already in standby, naming it, the group and the fix', async () => {
    const { scaling, found } = await standbyFleet(3)
    expect(found.standby.groupOf).toEqual(new Map(servers(3).map((s) => [s, 'asg'])))
    expect(found.standby.poolsOf).toEqual(new Map([['asg', ['web']]]))
    expect(found.notes).toEqual([
      'Standby: 3 servers in scaling group asg (taken out of pool(s) web), each for its own wave: s0, s1, s2'
    ])
    scaling.lifeCycle.set('s1', 'STANDBY')
    scaling.lifeCycle.set('s2', 'ENTERING_STANDBY')
    const refused = await discoverStandby(servers(3), ['asg'], scaling, ['web', 'legacy'], Infinity)
    expect(refused.refusals).toEqual([
      expect.stringMatching(
        /^Server s1 is STANDBY in scaling group asg, not INSERVICE: .* Take it out of standby by hand: .*"EXIT_STANDBY","instances_id":\["s1"\].* Or leave the server out of the selection\.$/
      ),
      expect.stringMatching(
        /^Server s2 is ENTERING_STANDBY in scaling group asg, not INSERVICE: .* Run again once it is INSERVICE\./
      )
    ])
    const narrowed = await discoverStandby(
      servers(3),
      ['asg'],
      fakeScaling({}, { now: 0 }, undefined, {
        pools: [],
        groups: { asg: { poolIds: ['web'], servers: ['s0'] } }
      }),
      ['legacy'],
      Infinity
    )
    expect(narrowed.refusals).toEqual([
      expect.stringContaining('Scaling group asg binds its instances to pool(s) web, which elb-pool-ids leaves out')
    ])
    expect(scaling.calls).toEqual([])
  })
})

describe('standby: a gated wave', () => {
  it('journals first, drains the group’s pool by weight too, then enters standby, exits with the group paused only for the gate, gates the NEW member and sets its original weight', async () => {
    const { clock, web, legacy, pools, elb, scaling, topology } = await standbyFleet(4)
    const { deps, logs } = ports(elb, clock, bootNewMembers(pools, { at: null }))
    const saved: Journal[] = []
    const gate = new HealthGate(topology, gateSettings(), { ...deps, scaling }, (j) => saved.push(structuredClone(j)))
    expect(await gate.before(1, ['s0'])).toBeNull()
    expect(saved[0].entries).toEqual([
      expect.objectContaining({ poolId: 'web', memberId: 'web.s0', state: 'draining', standbyGroup: 'asg' }),
      expect.objectContaining({ poolId: 'legacy', memberId: 'legacy.s0', state: 'draining' })
    ])
    // Every member drains by weight first, so its requests finish before Auto Scaling unbinds it.
    expect(elb.writes).toEqual([
      { at: 0, poolId: 'web', changes: [{ memberId: 'web.s0', weight: 0 }] },
      { at: 0, poolId: 'legacy', changes: [{ memberId: 'legacy.s0', weight: 0 }] }
    ])
    const entering = saved.find((j) => j.standby.length > 0)
    expect(entering?.standby).toEqual([{ groupId: 'asg', serverId: 's0', wave: 1, state: 'entering' }])
    expect(entering?.entries.map((e) => e.state)).toEqual(['unbinding', 'drained'])
    expect(scaling.calls).toEqual(['enter asg s0 at 0'])
    expect(web.members.map((m) => m.id)).not.toContain('web.s0')
    expect(gate.journal.entries.map((e) => e.state)).toEqual(['unbound', 'drained'])

    clock.now = 50_000 // the restart
    expect((await gate.after(1, ['s0'])).size).toBe(0)
    const [rebound] = web.members.filter((m) => m.instanceId === 's0')
    expect(rebound.id).toBe('web.s0.new1')
    expect(rebound.weight).toBe(1) // the group's listener weight was 5
    expect(scaling.calls).toEqual([
      'enter asg s0 at 0',
      'pause asg at 50000',
      'exit asg s0 at 50000',
      'resume asg at 75000'
    ])
    expect(elb.writes.slice(2)).toEqual([
      { at: 50_000, poolId: 'legacy', changes: [{ memberId: 'legacy.s0', weight: 1 }] },
      { at: 75_000, poolId: 'web', changes: [{ memberId: 'web.s0.new1', weight: 1 }] }
    ])
    expect(gate.journal.entries).toEqual([
      expect.objectContaining({ memberId: 'web.s0.new1', previousMemberId: 'web.s0', state: 'restored' }),
      expect.objectContaining({ memberId: 'legacy.s0', state: 'restored' })
    ])
    expect(gate.journal.standby).toEqual([{ groupId: 'asg', serverId: 's0', wave: 1, state: 'exited' }])
    expect(gate.journal.pausedGroups).toEqual([])
    expect(topology.memberships.get('s0')?.map((m) => m.memberId)).toEqual(['web.s0.new1', 'legacy.s0'])
    // legacy.s0 never read down: trusted only after the stale guard (20 s), then twice in a row.
    expect(gate.report.waves[0].timeToHealthyMs).toEqual({ s0: 25_000 })
    expect(legacy.members[0].weight).toBe(1)
    expect(logs).toContain('Took s0 out of standby in scaling group asg (paused while they turn healthy)')

    // The next wave finds the new member of s0 and spares it like any other.
    expect(await gate.before(2, ['s1'])).toBeNull()
    expect(scaling.calls.at(-1)).toBe('enter asg s1 at 75000')
  })

  it('the group’s pool deleted while its member is out: counted gone, the wave carries on with the other pool', async () => {
    const { clock, pools, web, elb, scaling, topology } = await standbyFleet(3)
    const { deps } = ports(elb, clock, bootNewMembers(pools, { at: null }))
    const gate = new HealthGate(topology, gateSettings(), { ...deps, scaling }, () => {})
    expect(await gate.before(1, ['s0'])).toBeNull()
    pools.splice(pools.indexOf(web), 1)
    clock.now = 50_000
    expect((await gate.after(1, ['s0'])).size).toBe(0)
    expect(gate.journal.entries.map((e) => [e.poolId, e.state])).toEqual([
      ['web', 'gone'],
      ['legacy', 'restored']
    ])
    expect(gate.journal.standby.map((e) => e.state)).toEqual(['exited'])
    expect(gate.report.alerts).toEqual([])
  })

  it('a group someone else paused stays paused: exit without pausing it, never resumed', async () => {
    const { clock, pools, elb, scaling, topology } = await standbyFleet(3)
    const { deps, logs } = ports(elb, clock, bootNewMembers(pools, { at: null }))
    const gate = new HealthGate(topology, gateSettings(), { ...deps, scaling }, () => {})
    expect(await gate.before(1, ['s0'])).toBeNull()
    await scaling.setPaused('asg', true)
    scaling.calls.length = 0
    expect((await gate.after(1, ['s0'])).size).toBe(0)
    expect(scaling.calls).toEqual(['exit asg s0 at 0'])
    expect(logs).toContain('Scaling group asg was already paused before this run: left paused, never resumed by it.')
  })

  it('ENTER refused part-way: what entered leaves standby again (its group paused), weights are put back, and the wave is refused', async () => {
    const { clock, web, legacy, elb, scaling, topology } = await standbyFleet(12, 11)
    scaling.refuseStandby = {
      enter: true,
      error: new ApiError(400, 'AS.4036', 'Batch enter standby failed: s10.', undefined, 'x'),
      after: 1 // the first call, of 10, goes through
    }
    const gate = new HealthGate(topology, gateSettings(), { ...ports(elb, clock).deps, scaling }, () => {})
    const wave = servers(11)
    expect(await gate.before(1, wave)).toBe(
      `Not restarted: 11 servers (${wave.join(', ')}) could not enter standby in scaling group asg (x failed with HTTP 400, AS.4036: Batch enter standby failed: s10. (X-Request-Id: none)); what entered was taken out of standby again.`
    )
    expect(scaling.calls).toEqual([
      `enter asg ${servers(10).join(',')} at 0`,
      'pause asg at 0',
      `exit asg ${servers(10).join(',')} at 0`
    ])
    // Every server in the pool again, at its original weight; s10 never left.
    expect(web.members.map((m) => [m.instanceId, m.weight])).toEqual([
      ['s10', 1],
      ['s11', 1],
      ...servers(10).map((s) => [s, 1])
    ])
    expect(web.members.find((m) => m.instanceId === 's10')?.id).toBe('web.s10')
    expect(legacy.members.every((m) => m.weight === 1)).toBe(true)
    // Drained by weight before the standby was asked for, and put back.
    expect(
      elb.writes.filter((w) => w.poolId === 'legacy').map((w) => [...new Set(w.changes.map((c) => c.weight))])
    ).toEqual([[0], [1]])
    expect(gate.journal.standby.every((s) => s.state === 'exited')).toBe(true)
    expect(new Set(gate.journal.entries.map((e) => e.state))).toEqual(new Set(['restored']))
    // Left paused until the servers read healthy: the run's restore resumes it.
    expect(gate.journal.pausedGroups).toEqual(['asg'])
  })

  it('EXIT refused: the server fails its gate and an alert names it, the group and the manual fix; the group stays paused', async () => {
    const { clock, elb, scaling, topology } = await standbyFleet(3)
    const gate = new HealthGate(topology, gateSettings(), { ...ports(elb, clock).deps, scaling }, () => {})
    expect(await gate.before(1, ['s0'])).toBeNull()
    scaling.refuseStandby = {
      enter: false,
      error: new ApiError(400, 'AS.4037', 'Batch exit standby failed.', undefined, 'x')
    }
    const failures = await gate.after(1, ['s0'])
    expect(failures.get('s0')).toMatch(
      /^STILL IN STANDBY in scaling group asg: it could not be taken out \(.*AS\.4037.*\)\. Take it out of standby by hand: in the console \(Auto Scaling > group asg > Instances/
    )
    expect(gate.report.alerts).toEqual([expect.stringMatching(/^Server s0: STILL IN STANDBY in scaling group asg/)])
    expect(gate.journal.standby[0].state).toBe('standby')
    expect(gate.journal.pausedGroups).toEqual(['asg'])
    expect(scaling.calls).toEqual(['enter asg s0 at 0', 'pause asg at 0'])
  })
})

describe('standby: restored from the journal (post step, cancellation)', () => {
  it('exits what is really still in standby with its group paused, leaves one already in service, finds the new members, sets their weights, resumes once healthy', async () => {
    const { clock, web, pools, elb, scaling, topology } = await standbyFleet(4, 2)
    const gate = new HealthGate(topology, gateSettings(), { ...ports(elb, clock).deps, scaling }, () => {})
    expect(await gate.before(1, ['s0', 's1'])).toBeNull()
    // Killed here. Someone took s1 out of standby by hand meanwhile.
    const journal: Journal = structuredClone(gate.journal)
    await scaling.setStandby('asg', ['s1'], false)
    scaling.calls.length = 0
    clock.now = 100_000
    const { deps, logs } = ports(elb, clock, bootNewMembers(pools, { at: null }))
    const saved: Journal[] = []
    const { results, alerts } = await restoreAll(journal, { ...deps, scaling }, clock.now + 60_000, (j) =>
      saved.push(structuredClone(j))
    )
    expect(alerts).toEqual([])
    expect(scaling.calls).toEqual(['pause asg at 100000', 'exit asg s0 at 100000', 'resume asg at 126000'])
    expect(saved.some((j) => j.standby.some((s) => s.serverId === 's0' && s.state === 'exiting'))).toBe(true)
    expect(web.members.filter((m) => ['s0', 's1'].includes(m.instanceId)).map((m) => [m.id, m.weight])).toEqual([
      ['web.s1.new1', 1],
      ['web.s0.new2', 1]
    ])
    expect(results.filter((r) => r.entry.poolId === 'web').map((r) => [r.entry.memberId, r.outcome])).toEqual([
      ['web.s0.new2', 'restored'],
      ['web.s1.new1', 'restored']
    ])
    expect(journal.standby.map((s) => s.state)).toEqual(['exited', 'exited'])
    expect(journal.pausedGroups).toEqual([])
    expect(pools[1].members.every((m) => m.weight === 1)).toBe(true)
    // Resumed once the new members held healthy for the journal's steady time (20 s).
    expect(logs).toContain('Resumed scaling group asg')
  })

  it('a server whose group cannot be paused is left in standby, not exited unpaused: the alert names it, the group and the fix', async () => {
    const { clock, elb, scaling, topology } = await standbyFleet(3)
    const gate = new HealthGate(topology, gateSettings(), { ...ports(elb, clock).deps, scaling }, () => {})
    expect(await gate.before(1, ['s0'])).toBeNull()
    const refusing = {
      ...scaling,
      setPaused: () => Promise.reject(new ApiError(403, 'AS.0001', 'Forbidden.', undefined, 'Pause scaling group asg'))
    }
    const { alerts } = await restoreAll(
      gate.journal,
      { ...ports(elb, clock).deps, scaling: refusing },
      60_000,
      () => {}
    )
    expect(alerts).toEqual([
      expect.stringMatching(
        /^Server s0: STILL IN STANDBY in scaling group asg: it could not be taken out \(Pause scaling group asg failed .*\)\. Take it out of standby by hand/
      )
    ])
    expect(scaling.lifeCycle.get('s0')).toBe('STANDBY')
    expect(gate.journal.standby[0].state).toBe('standby')
  })

  it('a server Auto Scaling removed from its group while in standby is named, nothing is exited for it, and its members count as gone', async () => {
    const { clock, elb, scaling, topology } = await standbyFleet(3)
    const gate = new HealthGate(topology, gateSettings(), { ...ports(elb, clock).deps, scaling }, () => {})
    expect(await gate.before(1, ['s0'])).toBeNull()
    scaling.calls.length = 0
    const removed = {
      ...scaling,
      instances: async (id: string) => (await scaling.instances(id)).filter((i) => i.serverId !== 's0')
    }
    const { alerts } = await restoreAll(gate.journal, { ...ports(elb, clock).deps, scaling: removed }, 60_000, () => {})
    expect(alerts).toEqual([expect.stringContaining('s0: No longer in scaling group asg (removed by Auto Scaling')])
    expect(scaling.calls.filter((c) => c.startsWith('exit'))).toEqual([])
    expect(gate.journal.entries.find((e) => e.poolId === 'web')?.state).toBe('gone')
    // Its member in the other pool is still put back by weight.
    expect(gate.journal.entries.find((e) => e.poolId === 'legacy')?.state).toBe('restored')
  })

  it('a server Auto Scaling does not bind again in time: its member is gone and the alert names the pool and the weight to set', async () => {
    const { clock, elb, scaling, topology } = await standbyFleet(3)
    const gate = new HealthGate(topology, gateSettings(), { ...ports(elb, clock).deps, scaling }, () => {})
    expect(await gate.before(1, ['s0'])).toBeNull()
    const neverBinds: ScalingPort = {
      ...scaling,
      setStandby: (id, ids, enter, giveUpAt, accepted) => {
        if (enter) return scaling.setStandby(id, ids, enter, giveUpAt, accepted)
        for (const serverId of ids) scaling.lifeCycle.set(serverId, 'INSERVICE')
        accepted?.(ids)
        return Promise.resolve()
      }
    }
    const { alerts } = await restoreAll(
      gate.journal,
      { ...ports(elb, clock).deps, scaling: neverBinds },
      clock.now + 10_000,
      () => {}
    )
    expect(alerts).toContainEqual(
      expect.stringContaining(
        "did not bind it to pool web again in time: check the group's load balancer listeners, and add the server back with weight 1 if it stays out."
      )
    )
    expect(gate.journal.standby[0].state).toBe('exited')
    expect(gate.journal.entries.find((e) => e.poolId === 'web')?.state).toBe('gone')
    // Never resumed: the server was not seen healthy.
    expect(gate.journal.pausedGroups).toEqual(['asg'])
  })
})
