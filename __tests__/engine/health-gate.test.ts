// The health gate on a virtual clock against an in-memory ELB (no timers, no HTTP).
import { describe, expect, it } from 'vitest'
import { ApiError } from '../../src/cloud/errors'
import { DISCOVERY_CONCURRENCY, discover, minimumHealthy } from '../../src/engine/health-gate/discover'
import { HealthGate } from '../../src/engine/health-gate/gate'
import type { ElbPort, Journal } from '../../src/engine/health-gate/types'
import { isHealthy } from '../../src/engine/health-gate/types'
import { sizeWaves } from '../../src/engine/health-gate/waves'

import { type FakePool, fakeElb, fakeScaling, gateSettings, pool, ports, servers, webFleet } from '../support/fake-elb'

const names = (n: number) => Array.from({ length: n }, (_, i) => `p${String(i).padStart(2, '0')}`)

describe('discovery and waves', () => {
  it('keeps at least one healthy member; a percentage rounds down and allows at least one', () => {
    expect(minimumHealthy(15, { count: 1 })).toBe(14)
    expect(minimumHealthy(15, { percent: 20 })).toBe(12)
    expect(minimumHealthy(3, { percent: 10 })).toBe(2)
    expect(minimumHealthy(1, { count: 1 })).toBe(1)
    expect(minimumHealthy(4, { count: 9 })).toBe(1)
  })

  it('sizes waves so that no pool loses more than it can spare, counting unmanaged and unhealthy members', async () => {
    const clock = { now: 0 }
    const web = pool('web', servers(6))
    const api = pool('api', servers(6, 3))
    api.members[5].statuses = ['OFFLINE'] // s8, already unhealthy: costs nothing
    const topology = await discover(
      [...servers(9)],
      { maxUnavailable: { count: 2 } },
      fakeElb([web, api], clock),
      Infinity
    )
    expect(topology.refusals).toEqual([])
    expect(topology.memberships.get('s4')?.map((m) => m.poolId)).toEqual(['web', 'api'])
    const waves = sizeWaves(servers(9), topology, 1000)
    for (const wave of waves) {
      const healthyIn = (p: FakePool) =>
        wave.filter((s) => p.members.some((m) => m.instanceId === s && m.statuses[0] === 'ONLINE')).length
      expect(healthyIn(web)).toBeLessThanOrEqual(2)
      // api has 5 healthy of 6 weighted, keeps 4: one to spare.
      expect(healthyIn(api)).toBeLessThanOrEqual(1)
    }
    expect(waves.flat().sort()).toEqual(servers(9).sort())
  })

  it('refuses before any change, naming the pool, load balancer and fix', async () => {
    const clock = { now: 0 }
    const elb = fakeElb(
      [
        pool('plain', ['a', 'x'], { healthMonitorId: null }),
        pool('sticky', ['b', 'y'], { algorithm: 'SOURCE_IP' }),
        pool('busy', ['c', 'z'], { provisioning: 'PENDING_UPDATE' }),
        pool('alone', ['d']),
        pool('short', ['e', 'f', 'g']),
        pool('down', ['h', 'i', 'j'])
      ],
      clock
    )
    const short = (await elb.pools(Infinity)).find((p) => p.id === 'short') as FakePool
    short.members[1].statuses = ['OFFLINE']
    short.members[2].statuses = ['OFFLINE']
    // At its minimum (2 of 3), but the selected h is down already: restarting it costs nothing.
    const down = (await elb.pools(Infinity)).find((p) => p.id === 'down') as FakePool
    down.members[0].statuses = ['OFFLINE']
    const topology = await discover(
      ['a', 'b', 'c', 'd', 'e', 'h'],
      { maxUnavailable: { count: 1 }, poolIds: undefined },
      elb,
      Infinity
    )
    expect(topology.refusals).toEqual([
      expect.stringMatching(/^Pool plain has no health check, .* Add \(or turn on\) a health check/),
      expect.stringMatching(/^Pool sticky uses the SOURCE_IP algorithm, .* Switch the pool to ROUND_ROBIN/),
      expect.stringMatching(/^Load balancer lb-busy of pool busy is PENDING_UPDATE, not ACTIVE/),
      expect.stringMatching(/^Pool alone has 1 of 1 weighted members healthy .* add a member to the pool first/),
      expect.stringMatching(
        /^Pool short has 1 of 3 weighted members healthy and must keep at least 2: .* raise max-unavailable-per-pool/
      )
    ])
    expect(elb.writes).toEqual([])
  })
})

/**
 * Calls that answer only on a later turn of the event loop, so that calls made together are in
 * flight together: counts them per kind (peak), in call order, and which kinds overlapped.
 */
function inFlight() {
  const open = new Map<string, number>()
  const peak: Record<string, number> = {}
  const order: string[] = []
  const overlaps = new Set<string>()
  const hold =
    <A extends unknown[], R>(kind: string, call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      order.push(`${kind} ${String(args[0])}`)
      for (const [other, n] of open) if (n > 0 && other !== kind) overlaps.add([other, kind].sort().join(' + '))
      open.set(kind, (open.get(kind) ?? 0) + 1)
      peak[kind] = Math.max(peak[kind] ?? 0, open.get(kind) ?? 0)
      await new Promise((resolve) => setImmediate(resolve))
      open.set(kind, (open.get(kind) ?? 1) - 1)
      return call(...args)
    }
  return { hold, peak, order, overlaps }
}

/** The ELB's discovery reads held by `inFlight`. */
function overlapping(elb: ElbPort) {
  const { hold, peak, order } = inFlight()
  const wrapped: ElbPort = {
    ...elb,
    members: hold('members', elb.members),
    healthMonitor: hold('monitor', elb.healthMonitor),
    loadBalancer: hold('lb', elb.loadBalancer)
  }
  return { wrapped, peak, order }
}

describe('discovery reads', () => {
  it('reads the pools in parallel, at most DISCOVERY_CONCURRENCY at once, and lists them in the API order', async () => {
    // 25 pools with a server each, and one pool holding none of the selected servers.
    const pools = [...names(25).map((id, i) => pool(id, [`s${i}`, `x${i}`])), pool('other', ['y', 'z'])]
    const { wrapped, peak, order } = overlapping(fakeElb(pools, { now: 0 }))
    const topology = await discover(servers(25), { maxUnavailable: { count: 1 } }, wrapped, Infinity)
    expect(peak).toEqual({ members: DISCOVERY_CONCURRENCY, monitor: DISCOVERY_CONCURRENCY, lb: DISCOVERY_CONCURRENCY })
    expect([...topology.pools.keys()]).toEqual(names(25))
    expect(topology.memberships.get('s7')).toEqual([
      { serverId: 's7', poolId: 'p07', memberId: 'p07.s7', loadBalancerId: 'lb-p07', originalWeight: 1 }
    ])
    expect(topology.refusals).toEqual([])
    // Every pool's members are read, but only pools holding a selected server have their monitor and load balancer read.
    expect(order.filter((o) => o.startsWith('members'))).toHaveLength(26)
    expect(order.filter((o) => o.includes('other'))).toEqual(['members other'])
  })

  it('reads a load balancer shared by several pools once, and stops starting reads after one failed', async () => {
    const shared = names(4).map((id, i) => pool(id, [`s${i}`, `x${i}`], { loadBalancerIds: ['lb-shared'] }))
    const { wrapped, order } = overlapping(fakeElb(shared, { now: 0 }))
    const topology = await discover(servers(4), { maxUnavailable: { count: 1 } }, wrapped, Infinity)
    expect(order.filter((o) => o.startsWith('lb'))).toEqual(['lb lb-shared'])
    expect([...topology.pools.values()].map((p) => p.loadBalancer.id)).toEqual(Array(4).fill('lb-shared'))

    const many = names(30).map((id, i) => pool(id, [`s${i}`]))
    const failing = fakeElb(many, { now: 0 })
    const { wrapped: broken, order: tried } = overlapping({
      ...failing,
      members: (id, giveUpAt) =>
        id === 'p00'
          ? Promise.reject(new ApiError(500, 'ELB.8906', 'Internal server error.', undefined, 'members'))
          : failing.members(id, giveUpAt)
    })
    await expect(discover(servers(30), { maxUnavailable: { count: 1 } }, broken, Infinity)).rejects.toThrow(
      /Internal server error/
    )
    // The first round of reads was in flight when p00 failed; no later pool was started.
    expect(tried).toHaveLength(DISCOVERY_CONCURRENCY)
  })
})

describe('a gated wave', () => {
  it('journals before draining, drains with weight 0, waits the drain, gates on consecutive healthy reads after the stale guard, then restores', async () => {
    const clock = { now: 1_000_000 }
    const web = pool('web', servers(4))
    const elb = fakeElb([web], clock)
    const saved: Journal[] = []
    const topology = await discover(servers(4), { maxUnavailable: { count: 1 } }, elb, Infinity)
    const { deps } = ports(elb, clock)
    const settings = gateSettings({
      drainMs: 30_000,
      propagationMs: 5000,
      healthTimeoutMs: 600_000,
      pollIntervalMs: 5000
    })
    const gate = new HealthGate(topology, settings, deps, (j) => saved.push(structuredClone(j)))
    expect(await gate.before(1, ['s0'])).toBeNull()
    expect(saved[0].entries).toEqual([
      expect.objectContaining({ memberId: 'web.s0', originalWeight: 1, state: 'draining' })
    ])
    expect(elb.writes).toEqual([{ at: 1_000_000, poolId: 'web', changes: [{ memberId: 'web.s0', weight: 0 }] }])
    expect(clock.now).toBe(1_030_000)
    // The member never showed a down state (a reboot shorter than the fall window): ONLINE is not
    // trusted until fall (3 x 5 s) + one probe (5 s) = 20 s after the restart, then twice in a row.
    const failures = await gate.after(1, ['s0'])
    expect(failures.size).toBe(0)
    const restore = elb.writes[1]
    expect(restore.changes).toEqual([{ memberId: 'web.s0', weight: 1 }])
    expect(restore.at - 1_030_000).toBe(25_000)
    expect(gate.journal.entries[0].state).toBe('restored')
    expect(gate.report.waves[0]).toMatchObject({ wave: 1, drainMs: 30_000, timeToHealthyMs: { s0: 25_000 } })
    expect(gate.report.waves[0].pools).toEqual([{ poolId: 'web', before: 4, lowest: 3, after: 4 }])
  })

  it('gives every read of a wave the same deadline for throttling as a weight change: a minute, never past the run', async () => {
    const { clock, elb, topology } = await webFleet(3)
    expect(elb.reads.map((r) => r.giveUpAt)).toEqual([Infinity, Infinity])
    elb.reads.length = 0
    const gate = new HealthGate(topology, gateSettings({ deadline: 70_000 }), ports(elb, clock).deps, () => {})
    expect(await gate.before(1, ['s0'])).toBeNull()
    expect((await gate.after(1, ['s0'])).size).toBe(0)
    expect(elb.reads.length).toBeGreaterThan(3)
    expect(elb.reads.every((r) => r.what === 'members web' && r.giveUpAt === Math.min(70_000, r.at + 60_000))).toBe(
      true
    )
    expect(elb.reads.some((r) => r.giveUpAt === 70_000)).toBe(true)
  })

  it('a server that stays down fails after the health timeout and is restored anyway', async () => {
    const { clock, web, elb, topology } = await webFleet(3)
    web.members[0].statuses = ['OFFLINE']
    const { deps } = ports(elb, clock)
    const gate = new HealthGate(topology, gateSettings({ healthTimeoutMs: 60_000 }), deps, () => {})
    expect(await gate.before(1, ['s0'])).toBeNull()
    const failures = await gate.after(1, ['s0'])
    expect(failures.get('s0')).toMatch(
      /not healthy .* within health-timeout-seconds \(1 min\); last seen: web\.s0 OFFLINE\. Its weight was restored/
    )
    expect(web.members[0].weight).toBe(1)
  })
})

describe('the weight-0 fallback on dedicated load balancers', () => {
  /** A dedicated load balancer that shows every weight-0 member OFFLINE, whatever its probes say. */
  const offlineAtZero = (web: FakePool) => () => {
    for (const m of web.members) m.statuses = [m.weight === 0 ? 'OFFLINE' : 'ONLINE']
  }

  it('restores a member still OFFLINE at weight 0 once rise + fall + 2 x delay have passed since the restart, then gates it restored-first, and says so', async () => {
    const { clock, web, elb, topology } = await webFleet(3)
    const { deps, logs } = ports(elb, clock, offlineAtZero(web))
    const gate = new HealthGate(topology, gateSettings({ healthTimeoutMs: 600_000 }), deps, () => {})
    expect(await gate.before(1, ['s0'])).toBeNull()
    expect((await gate.after(1, ['s0'])).size).toBe(0)
    // rise 19 s + fall 19 s + 2 x 5 s = 48 s; reads every 5 s: the first past it is at 50 s, then
    // two healthy reads at weight 1 (55 s, 60 s).
    expect(elb.writes.map((w) => [w.at, w.changes])).toEqual([
      [0, [{ memberId: 'web.s0', weight: 0 }]],
      [50_000, [{ memberId: 'web.s0', weight: 1 }]]
    ])
    expect(gate.report.waves[0].fallbacks).toEqual([
      { serverId: 's0', poolId: 'web', memberId: 'web.s0', status: 'OFFLINE', afterMs: 50_000 }
    ])
    expect(gate.report.waves[0].timeToHealthyMs).toEqual({ s0: 60_000 })
    expect(gate.journal.entries.map((e) => e.state)).toEqual(['restored'])
    expect(logs).toContain(
      'Weight-0 fallback: member web.s0 of server s0 in pool web (dedicated load balancer lb-web) still shows OFFLINE at weight 0 50 s after its restart, longer than its health check needs (rise + fall + 2 × delay = 48 s): this load balancer may not probe weight-0 members, so its weight is restored now and it is gated as on a shared load balancer.'
    )
  })

  it('does not fire for a member that turns ONLINE at weight 0 within the window: gated at weight 0, restored once healthy', async () => {
    const { clock, web, elb, topology } = await webFleet(3)
    web.members[0].statuses = ['OFFLINE']
    const { deps } = ports(elb, clock, (now) => (web.members[0].statuses = [now >= 45_000 ? 'ONLINE' : 'OFFLINE']))
    const gate = new HealthGate(topology, gateSettings({ healthTimeoutMs: 600_000 }), deps, () => {})
    expect(await gate.before(1, ['s0'])).toBeNull()
    expect((await gate.after(1, ['s0'])).size).toBe(0)
    expect(elb.writes.map((w) => [w.at, w.changes[0].weight])).toEqual([
      [0, 0],
      [50_000, 1]
    ])
    expect(gate.report.waves[0].fallbacks).toEqual([])
  })

  it('a fallen-back member that never turns healthy times out; its weight is not sent twice', async () => {
    const { clock, web, elb, topology } = await webFleet(3)
    const { deps } = ports(elb, clock, () => (web.members[0].statuses = ['OFFLINE']))
    const gate = new HealthGate(topology, gateSettings({ healthTimeoutMs: 120_000 }), deps, () => {})
    expect(await gate.before(1, ['s0'])).toBeNull()
    expect([...(await gate.after(1, ['s0'])).keys()]).toEqual(['s0'])
    expect(elb.writes.map((w) => [w.at, w.changes[0].weight])).toEqual([
      [0, 0],
      [50_000, 1]
    ])
    expect(gate.report.waves[0].fallbacks).toHaveLength(1)
  })

  it('never fires on a shared load balancer, whose members are restored before the gate anyway', async () => {
    const clock = { now: 0 }
    const legacy = pool('legacy', servers(3), { guaranteed: false })
    const elb = fakeElb([legacy], clock)
    const topology = await discover(servers(3), { maxUnavailable: { count: 1 } }, elb, Infinity)
    const { deps } = ports(elb, clock, offlineAtZero(legacy))
    const gate = new HealthGate(topology, gateSettings({ healthTimeoutMs: 600_000 }), deps, () => {})
    expect(await gate.before(1, ['s0'])).toBeNull()
    expect((await gate.after(1, ['s0'])).size).toBe(0)
    expect(elb.writes.map((w) => [w.at, w.changes[0].weight])).toEqual([
      [0, 0],
      [0, 1]
    ])
    expect(gate.report.waves[0].fallbacks).toEqual([])
  })
})

describe('health as the API shows it', () => {
  it('counts only ONLINE on every listener with weight > 0 as healthy: INITIAL, UNKNOWN, NO_MONITOR, empty and new values are not', () => {
    const at = (statuses: string[], weight = 1) => ({ id: 'm', instanceId: 's', address: '', weight, statuses })
    expect(isHealthy(at(['ONLINE']))).toBe(true)
    expect(isHealthy(at(['ONLINE', 'ONLINE']))).toBe(true)
    expect(isHealthy(at(['ONLINE'], 0))).toBe(false)
    for (const status of ['INITIAL', 'UNKNOWN', 'NO_MONITOR', 'OFFLINE', 'DISABLED', '', 'online', 'SOME_NEW_STATE']) {
      expect(isHealthy(at([status])), status).toBe(false)
      expect(isHealthy(at(['ONLINE', status])), status).toBe(false)
    }
  })

  it('a server that shows a status it does not know times out, and the report prints the raw value of each listener', async () => {
    const { clock, web, elb, topology } = await webFleet(3)
    const { deps } = ports(elb, clock, () => (web.members[0].statuses = ['ONLINE', 'SOME_NEW_STATE']))
    const gate = new HealthGate(topology, gateSettings(), deps, () => {})
    expect(await gate.before(1, ['s0'])).toBeNull()
    const failures = await gate.after(1, ['s0'])
    expect(failures.get('s0')).toContain('; last seen: web.s0 ONLINE/SOME_NEW_STATE. Its weight was restored')
  })
})

describe('the calls of a gated wave', () => {
  it("starts its health reads one poll interval apart however long a read takes, and restores from the round's read", async () => {
    const { clock, elb, topology } = await webFleet(4)
    // Every read of the members takes 40 ms of the virtual clock, as over a network.
    const slow: ElbPort = {
      ...elb,
      members: async (id, giveUpAt) => {
        const read = await elb.members(id, giveUpAt)
        clock.now += 40
        return read
      }
    }
    const gate = new HealthGate(topology, gateSettings(), ports(slow, clock).deps, () => {})
    expect(await gate.before(1, ['s0'])).toBeNull()
    elb.reads.length = 0
    const jobEnd = clock.now
    expect((await gate.after(1, ['s0'])).size).toBe(0)
    const since = elb.reads.map((r) => r.at - jobEnd)
    // Probes every 5 s: a read every 5 s from the job's end, ONLINE trusted from 20 s (the stale
    // guard), twice in a row at 25 s; the restore goes right after that read, without another
    // read of the pool; then the pools are read once more for the report.
    expect(since).toEqual([0, 5000, 10_000, 15_000, 20_000, 25_000, 25_040])
    expect(elb.writes.slice(1).map((w) => w.at - jobEnd)).toEqual([25_040])
    expect(gate.report.restores.map((r) => r.outcome)).toEqual(['restored'])
    expect(gate.report.waves[0]).toMatchObject({ timeToHealthyMs: { s0: 25_040 }, restoreMs: 40 })
  })

  it('reads its scaling groups alongside its first read of the pools, and the pools after the wave while resuming them', async () => {
    const { clock, elb, topology } = await webFleet(4)
    const { hold, overlaps, order } = inFlight()
    const scaling = fakeScaling({ asg: 'INSERVICE' }, clock)
    const held = {
      ...ports({ ...elb, members: hold('members', elb.members) }, clock).deps,
      scaling: {
        ...scaling,
        group: hold('group', (id: string) => scaling.group(id)),
        setPaused: hold('setPaused', (id: string, paused: boolean) => scaling.setPaused(id, paused))
      }
    }
    const gate = new HealthGate(topology, gateSettings({ scalingGroupIds: ['asg'] }), held, () => {})
    expect(await gate.before(1, ['s0'])).toBeNull()
    expect([...overlaps]).toEqual(['group + members'])
    expect(order).toEqual(['group asg', 'members web', 'setPaused asg'])
    expect(elb.writes).toHaveLength(1)
    overlaps.clear()
    expect((await gate.after(1, ['s0'])).size).toBe(0)
    expect([...overlaps]).toEqual(['members + setPaused'])
    expect(scaling.calls).toEqual(['pause asg at 0', 'resume asg at 25000'])
    expect(gate.report.waves[0].pools).toEqual([{ poolId: 'web', before: 4, lowest: 3, after: 4 }])
  })

  it('reads a scaling group again when the wave had to wait for room first', async () => {
    const { clock, web, elb, topology } = await webFleet(3)
    web.members[1].statuses = ['OFFLINE']
    const scaling = fakeScaling({ asg: 'INSERVICE' }, clock)
    const reads: number[] = []
    const { deps } = ports(elb, clock, (now) => {
      if (now >= 10_000) web.members[1].statuses = ['ONLINE']
    })
    const counted = {
      ...scaling,
      group: (id: string) => {
        reads.push(clock.now)
        return scaling.group(id)
      },
      setPaused: (id: string, paused: boolean) => scaling.setPaused(id, paused)
    }
    const gate = new HealthGate(
      topology,
      gateSettings({ scalingGroupIds: ['asg'] }),
      { ...deps, scaling: counted },
      () => {}
    )
    expect(await gate.before(1, ['s0'])).toBeNull()
    expect(reads).toEqual([0, 10_000])
    expect(scaling.calls).toEqual(['pause asg at 10000'])
  })
})

describe('a gated wave and its scaling groups', () => {
  it('journals, then pauses each group before draining, resumes it once the wave is healthy, and leaves a group paused by someone else alone', async () => {
    const { clock, elb, topology } = await webFleet(4)
    const scaling = fakeScaling({ asg: 'INSERVICE', other: 'PAUSED' }, clock)
    const { deps, logs } = ports(elb, clock)
    const saved: Journal[] = []
    const gate = new HealthGate(
      topology,
      gateSettings({ scalingGroupIds: ['asg', 'other'] }),
      { ...deps, scaling },
      (j) => saved.push(structuredClone(j))
    )
    expect(await gate.before(1, ['s0'])).toBeNull()
    expect(saved[0].pausedGroups).toEqual(['asg'])
    expect(saved[0].entries).toEqual([])
    expect(scaling.calls).toEqual(['pause asg at 0'])
    expect(logs).toContain('Scaling group other was already paused before this run: left paused, never resumed by it.')
    expect((await gate.after(1, ['s0'])).size).toBe(0)
    expect(scaling.calls).toEqual(['pause asg at 0', 'resume asg at 25000'])
    expect(gate.journal.pausedGroups).toEqual([])
    expect(await gate.before(2, ['s1'])).toBeNull()
    expect(scaling.calls.at(-1)).toBe('pause asg at 25000')
    expect(logs.filter((l) => l.startsWith('Scaling group other'))).toHaveLength(1)
  })

  it('after a wave whose server did not turn healthy, later waves leave the group paused at once, without waiting to resume it', async () => {
    const clock = { now: 0 }
    const web = pool('web', servers(4))
    const api = pool('api', servers(4, 10))
    const elb = fakeElb([web, api], clock)
    const topology = await discover([...servers(4), ...servers(4, 10)], { maxUnavailable: { count: 1 } }, elb, Infinity)
    const scaling = fakeScaling({ asg: 'INSERVICE' }, clock)
    const { deps, logs } = ports(elb, clock, () => (web.members[0].statuses = ['OFFLINE']))
    const gate = new HealthGate(topology, gateSettings({ scalingGroupIds: ['asg'] }), { ...deps, scaling }, () => {})
    expect(await gate.before(1, ['s0'])).toBeNull()
    expect([...(await gate.after(1, ['s0'])).keys()]).toEqual(['s0'])
    expect(await gate.before(2, ['s10'])).toBeNull()
    const wave2 = clock.now
    expect((await gate.after(2, ['s10'])).size).toBe(0)
    // Healthy after the stale guard and two reads (25 s), then no minute spent waiting on s0.
    expect(clock.now - wave2).toBe(25_000)
    expect(scaling.calls).toEqual(['pause asg at 0'])
    expect(gate.journal.unconfirmed).toEqual(['s0'])
    expect(logs.filter((l) => l.includes('stay paused'))).toEqual([
      'Scaling group(s) asg stay paused: 1 server did not turn healthy.',
      'Scaling group(s) asg stay paused: 1 server did not turn healthy.'
    ])
    expect(gate.report.alerts).toEqual([])
  })

  it('a group that cannot be paused stops the wave before any drain, and is not left in the journal', async () => {
    const { clock, elb, topology } = await webFleet(3)
    const refusal = new ApiError(403, 'AS.0001', 'Forbidden.', undefined, 'Pause scaling group asg')
    const scaling = fakeScaling({ asg: 'INSERVICE' }, clock, refusal)
    const gate = new HealthGate(
      topology,
      gateSettings({ scalingGroupIds: ['asg'] }),
      {
        ...ports(elb, clock).deps,
        scaling
      },
      () => {}
    )
    expect(await gate.before(1, ['s0'])).toBe(
      'Not restarted: scaling group asg could not be paused (Pause scaling group asg failed with HTTP 403, AS.0001: Forbidden. (X-Request-Id: none)), and a reboot could get its servers deleted as unhealthy.'
    )
    expect(elb.writes).toEqual([])
    expect(gate.journal).toMatchObject({ entries: [], pausedGroups: [] })
  })

  it('keeps its groups paused when a server of the wave does not turn healthy', async () => {
    const { clock, web, elb, topology } = await webFleet(3)
    web.members[0].statuses = ['OFFLINE']
    const scaling = fakeScaling({ asg: 'INSERVICE' }, clock)
    const { deps, logs } = ports(elb, clock)
    const gate = new HealthGate(topology, gateSettings({ scalingGroupIds: ['asg'] }), { ...deps, scaling }, () => {})
    await gate.before(1, ['s0'])
    expect([...(await gate.after(1, ['s0'])).keys()]).toEqual(['s0'])
    expect(scaling.calls).toEqual(['pause asg at 0'])
    expect(logs).toContain('Scaling group(s) asg stay paused: 1 server did not turn healthy.')
    expect(gate.journal).toMatchObject({ pausedGroups: ['asg'], unconfirmed: ['s0'], steadyMs: 20_000 })
  })
})

describe('before a wave', () => {
  it('waits, polling at the probe interval, for a short pool to recover before draining', async () => {
    const { clock, web, elb, topology } = await webFleet(3)
    web.members[1].statuses = ['OFFLINE']
    const { deps } = ports(elb, clock, (now) => {
      if (now >= 10_000) web.members[1].statuses = ['ONLINE']
    })
    const gate = new HealthGate(topology, gateSettings(), deps, () => {})
    expect(await gate.before(1, ['s0'])).toBeNull()
    expect(elb.writes.map((w) => w.at)).toEqual([10_000])
  })

  it('gives up on a pool that does not recover within the health timeout, draining nothing', async () => {
    const { clock, web, elb, topology } = await webFleet(3)
    web.members[1].statuses = ['OFFLINE']
    const gate = new HealthGate(topology, gateSettings({ healthTimeoutMs: 12_000 }), ports(elb, clock).deps, () => {})
    expect(await gate.before(1, ['s0'])).toBe(
      'Not restarted: wave 1 would take pool web (2 healthy now, at least 2 to keep) below its minimum of healthy members, and it did not recover within health-timeout-seconds. Bring the unhealthy members back, or raise max-unavailable-per-pool.'
    )
    expect(clock.now).toBe(10_000)
    expect(elb.writes).toEqual([])
  })

  it('a drain refused in one pool puts back what the other pools drained, and the wave is not restarted', async () => {
    const api = pool('api', servers(3))
    const { clock, web, elb, topology } = await webFleet(3, api)
    elb.failWrites = 1
    const gate = new HealthGate(topology, gateSettings(), ports(elb, clock).deps, () => {})
    expect(await gate.before(1, ['s0'])).toBe(
      'Not restarted: draining wave 1 failed (pool web: set weights failed with HTTP 500, ELB.8906: Internal server error. (X-Request-Id: none)); what was drained was restored.'
    )
    expect([web.members[0].weight, api.members[0].weight]).toEqual([1, 1])
    expect(gate.report.restores.map((r) => [r.entry.poolId, r.outcome, r.detail])).toEqual([
      ['web', 'left', 'already at its original weight'],
      ['api', 'restored', 'weight 1']
    ])
    expect(gate.journal.entries.map((e) => e.state)).toEqual(['restored', 'restored'])
    // Never restarted: nothing for a paused group to wait on before it is resumed.
    expect(gate.journal.unconfirmed).toEqual([])
  })

  it('cancelled while draining: not restarted, and the drained members stay in the journal for the restore', async () => {
    const { clock, web, elb, topology } = await webFleet(3)
    const controller = new AbortController()
    const { deps } = ports(elb, clock, () => controller.abort('SIGINT'))
    const gate = new HealthGate(
      topology,
      gateSettings({ drainMs: 30_000 }),
      { ...deps, signal: controller.signal },
      () => {}
    )
    expect(await gate.before(1, ['s0'])).toBe('Not restarted: the run was cancelled while draining.')
    expect((await gate.after(1, ['s0'])).size).toBe(0)
    expect(web.members[0].weight).toBe(0)
    expect(gate.journal.entries.map((e) => e.state)).toEqual(['drained'])
  })
})
