import { describe, expect, it } from 'vitest'
import type { ElbMember, ElbPool, WeightChange } from '../../src/cloud/elb'
import { ApiError } from '../../src/cloud/errors'
import { discover, minimumHealthy } from '../../src/engine/health-gate/discover'
import { type GateSettings, HealthGate } from '../../src/engine/health-gate/gate'
import { restoreAll } from '../../src/engine/health-gate/restore'
import type { ElbPort, Journal, ScalingPort } from '../../src/engine/health-gate/types'
import { sizeWaves } from '../../src/engine/health-gate/waves'

// The health gate on a virtual clock against an in-memory ELB (no timers, no HTTP).

interface FakePool extends ElbPool {
  members: ElbMember[]
  guaranteed?: boolean
  provisioning?: string
  monitorOn?: boolean
}

const member = (pool: string, server: string, weight = 1, status = 'ONLINE'): ElbMember => ({
  id: `${pool}.${server}`,
  instanceId: server,
  address: '',
  weight,
  statuses: [status]
})

function pool(id: string, servers: string[], extra: Partial<FakePool> = {}): FakePool {
  return {
    id,
    name: id,
    algorithm: 'ROUND_ROBIN',
    protocol: 'HTTP',
    healthMonitorId: `${id}-hm`,
    loadBalancerIds: [`lb-${id}`],
    members: servers.map((s) => member(id, s)),
    ...extra
  }
}

function fakeElb(pools: FakePool[], clock: { now: number }) {
  const writes: { at: number; poolId: string; changes: WeightChange[] }[] = []
  /** Each read with the deadline it was given for waiting out throttling. */
  const reads: { at: number; what: string; giveUpAt: number }[] = []
  const elb: ElbPort & { writes: typeof writes; reads: typeof reads; failWrites: number } = {
    writes,
    reads,
    failWrites: 0,
    pools: (giveUpAt, ids) => {
      reads.push({ at: clock.now, what: 'pools', giveUpAt })
      return Promise.resolve(pools.filter((p) => ids === undefined || ids.includes(p.id)))
    },
    members: (id, giveUpAt) => {
      reads.push({ at: clock.now, what: `members ${id}`, giveUpAt })
      const found = pools.find((p) => p.id === id)
      if (found === undefined) {
        return Promise.reject(new ApiError(404, 'ELB.8904', `pool ${id} could not be found.`, undefined, 'x'))
      }
      return Promise.resolve(structuredClone(found.members))
    },
    healthMonitor: (id) => {
      const p = pools.find((x) => x.healthMonitorId === id)
      return Promise.resolve({
        id,
        adminStateUp: p?.monitorOn !== false,
        delay: 5,
        timeout: 3,
        maxRetries: 3,
        maxRetriesDown: 3
      })
    },
    loadBalancer: (id) => {
      const p = pools.find((x) => x.loadBalancerIds[0] === id)
      return Promise.resolve({
        id,
        name: id,
        guaranteed: p?.guaranteed !== false,
        provisioningStatus: p?.provisioning ?? 'ACTIVE',
        operatingStatus: 'ONLINE'
      })
    },
    setWeights(poolId, changes) {
      if (elb.failWrites > 0) {
        elb.failWrites--
        return Promise.reject(new ApiError(500, 'ELB.8906', 'Internal server error.', undefined, 'set weights'))
      }
      writes.push({ at: clock.now, poolId, changes: [...changes] })
      const p = pools.find((x) => x.id === poolId) as FakePool
      for (const change of changes) {
        const m = p.members.find((x) => x.id === change.memberId)
        if (m === undefined) {
          return Promise.reject(new ApiError(404, 'ELB.8904', `member ${change.memberId} not found.`, undefined, 'x'))
        }
        m.weight = change.weight
      }
      return Promise.resolve()
    }
  }
  return elb
}

function ports(elb: ElbPort, clock: { now: number }, onSleep: (now: number) => void = () => {}) {
  const logs: string[] = []
  return {
    logs,
    deps: {
      elb,
      clock: () => clock.now,
      sleep: (ms: number) => {
        clock.now += ms
        onSleep(clock.now)
        return Promise.resolve()
      },
      random: () => 0.5,
      log: { info: (m: string) => logs.push(m), warning: (m: string) => logs.push(m), debug: () => {} },
      signal: new AbortController().signal
    }
  }
}

const servers = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `s${from + i}`)

/** A virtual clock and an in-memory ELB with pool `web` of s0…s{n-1} (and `more`), discovered with one member to spare. */
async function webFleet(n: number, ...more: FakePool[]) {
  const clock = { now: 0 }
  const web = pool('web', servers(n))
  const elb = fakeElb([web, ...more], clock)
  const topology = await discover(servers(n), { maxUnavailable: { count: 1 } }, elb, Infinity)
  return { clock, web, elb, topology }
}

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
        pool('short', ['e', 'f', 'g'])
      ],
      clock
    )
    const short = (await elb.pools(Infinity)).find((p) => p.id === 'short') as FakePool
    short.members[1].statuses = ['OFFLINE']
    short.members[2].statuses = ['OFFLINE']
    const topology = await discover(
      ['a', 'b', 'c', 'd', 'e'],
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

describe('a gated wave', () => {
  it('journals before draining, drains with weight 0, waits the drain, gates on consecutive healthy reads after the stale guard, then restores', async () => {
    const clock = { now: 1_000_000 }
    const web = pool('web', servers(4))
    const elb = fakeElb([web], clock)
    const saved: Journal[] = []
    const topology = await discover(servers(4), { maxUnavailable: { count: 1 } }, elb, Infinity)
    const { deps } = ports(elb, clock)
    const settings = {
      drainMs: 30_000,
      healthTimeoutMs: 600_000,
      pollIntervalMs: 5000,
      stablePolls: 2,
      deadline: Infinity,
      scalingGroupIds: []
    }
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
    const gate = new HealthGate(
      topology,
      {
        drainMs: 0,
        healthTimeoutMs: 60_000,
        pollIntervalMs: 1000,
        stablePolls: 2,
        deadline: Infinity,
        scalingGroupIds: []
      },
      deps,
      () => {}
    )
    expect(await gate.before(1, ['s0'])).toBeNull()
    const failures = await gate.after(1, ['s0'])
    expect(failures.get('s0')).toMatch(
      /not healthy .* within health-timeout-seconds \(1 min\); last seen: web\.s0 OFFLINE\. Its weight was restored/
    )
    expect(web.members[0].weight).toBe(1)
  })
})

describe('restoring from a journal', () => {
  it('raises members still at 0, leaves one someone changed, reports a deleted one gone', async () => {
    const clock = { now: 0 }
    const web = pool('web', ['a', 'b'])
    web.members[0].weight = 0
    web.members[1].weight = 7
    const elb = fakeElb([web], clock)
    const entry = { poolId: 'web', loadBalancerId: 'lb-web', originalWeight: 3, state: 'drained' as const, wave: 1 }
    const journal: Journal = {
      version: 1,
      entries: [
        { ...entry, serverId: 'a', memberId: 'web.a' },
        { ...entry, serverId: 'b', memberId: 'web.b' },
        { ...entry, serverId: 'c', memberId: 'web.c' }
      ],
      pausedGroups: [],
      unconfirmed: [],
      steadyMs: 0
    }
    const { deps } = ports(elb, clock)
    const { results, alerts } = await restoreAll(journal, deps, 60_000, () => {})
    expect(Object.fromEntries(results.map((r) => [r.entry.serverId, r.outcome]))).toEqual({
      a: 'restored',
      b: 'left',
      c: 'gone'
    })
    expect(web.members.map((m) => m.weight)).toEqual([3, 7])
    expect(alerts).toEqual([])
    expect(journal.entries.map((e) => e.state)).toEqual(['restored', 'restored', 'gone'])
  })

  it('names every member it could not restore, with the weight to set by hand', async () => {
    const clock = { now: 0 }
    const web = pool('web', ['a'], { members: [member('web', 'a', 0)] })
    const elb = fakeElb([web], clock)
    elb.failWrites = 1
    const journal: Journal = {
      version: 1,
      entries: [
        {
          poolId: 'web',
          loadBalancerId: 'lb',
          serverId: 'a',
          memberId: 'web.a',
          originalWeight: 5,
          state: 'drained',
          wave: 1
        }
      ],
      pausedGroups: [],
      unconfirmed: [],
      steadyMs: 0
    }
    const { alerts } = await restoreAll(journal, ports(elb, clock).deps, 60_000, () => {})
    expect(alerts).toEqual([
      expect.stringMatching(/^Member web\.a of server a in pool web is still at weight 0: set it back to 5 by hand/)
    ])
  })
})

/** Scaling groups by id and status; records each pause and resume with the clock. */
function fakeScaling(groups: Record<string, string>, clock: { now: number }, refuse?: ApiError) {
  const calls: string[] = []
  const scaling: ScalingPort & { calls: string[] } = {
    calls,
    group: (id) => Promise.resolve({ id, name: id, status: groups[id], isScaling: false }),
    setPaused(id, paused) {
      if (refuse !== undefined) return Promise.reject(refuse)
      calls.push(`${paused ? 'pause' : 'resume'} ${id} at ${clock.now}`)
      groups[id] = paused ? 'PAUSED' : 'INSERVICE'
      return Promise.resolve()
    }
  }
  return scaling
}

const gateSettings = (extra: Partial<GateSettings> = {}): GateSettings => ({
  drainMs: 0,
  healthTimeoutMs: 60_000,
  pollIntervalMs: 1000,
  stablePolls: 2,
  deadline: Infinity,
  scalingGroupIds: [],
  ...extra
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

describe('resuming the paused groups', () => {
  const journalOf = (state: 'drained' | 'restored' | 'gone', ...ids: string[]): Journal => ({
    version: 1,
    entries: ids.map((id) => ({
      poolId: 'web',
      loadBalancerId: 'lb-web',
      serverId: id,
      memberId: `web.${id}`,
      originalWeight: 1,
      state,
      wave: 1
    })),
    pausedGroups: ['asg'],
    unconfirmed: ids,
    steadyMs: 0
  })

  it('resumes a group only once the servers of the interrupted wave are healthy again', async () => {
    const clock = { now: 0 }
    const web = pool('web', ['a', 'b'])
    web.members[0].weight = 0
    web.members[0].statuses = ['OFFLINE']
    const elb = fakeElb([web], clock)
    const scaling = fakeScaling({ asg: 'PAUSED' }, clock)
    const { deps, logs } = ports(elb, clock, (now) => {
      if (now >= 3000) web.members[0].statuses = ['ONLINE']
    })
    const journal = journalOf('drained', 'a')
    const saved: Journal[] = []
    const { results, alerts } = await restoreAll(journal, { ...deps, scaling }, 60_000, (j) =>
      saved.push(structuredClone(j))
    )
    expect(results.map((r) => r.outcome)).toEqual(['restored'])
    expect(alerts).toEqual([])
    expect(scaling.calls).toEqual(['resume asg at 3000'])
    expect(saved.at(-1)?.pausedGroups).toEqual([])
    expect(logs).toEqual(['Restored 1 member of 1 still drained', 'Resumed scaling group asg'])
  })

  it('trusts health only once it held for the stale-ONLINE window: a stale ONLINE that then drops resumes nothing early', async () => {
    const clock = { now: 0 }
    const web = pool('web', ['a'])
    const elb = fakeElb([web], clock)
    const scaling = fakeScaling({ asg: 'PAUSED' }, clock)
    // ONLINE (stale) until 2 s, OFFLINE while it reboots, ONLINE for good from 6 s.
    const { deps } = ports(elb, clock, (now) => {
      web.members[0].statuses = now < 2000 || now >= 6000 ? ['ONLINE'] : ['OFFLINE']
    })
    const journal = { ...journalOf('restored', 'a'), steadyMs: 4000 }
    const { alerts } = await restoreAll(journal, { ...deps, scaling }, 60_000, () => {})
    expect(alerts).toEqual([])
    // Not at 0 s (stale ONLINE), not at 4 s; once ONLINE from 6 s held 4 s: at 10 s.
    expect(scaling.calls).toEqual(['resume asg at 10000'])
  })

  it('counts a member no longer in its pool, or gone, as no reason to wait', async () => {
    const clock = { now: 0 }
    const elb = fakeElb([pool('web', ['b'])], clock)
    const scaling = fakeScaling({ asg: 'PAUSED' }, clock)
    const journal = journalOf('restored', 'a')
    journal.entries.push({ ...journal.entries[0], serverId: 'b', memberId: 'web.b', state: 'gone' })
    journal.unconfirmed.push('b')
    const { alerts } = await restoreAll(journal, { ...ports(elb, clock).deps, scaling }, 60_000, () => {})
    expect([alerts, scaling.calls]).toEqual([[], ['resume asg at 0']])
  })

  it('leaves a group paused, saying how to resume it, when its servers are not healthy in time or the resume fails', async () => {
    const clock = { now: 0 }
    const web = pool('web', ['a'])
    web.members[0].statuses = ['OFFLINE']
    const elb = fakeElb([web], clock)
    const scaling = fakeScaling({ asg: 'PAUSED' }, clock)
    const late = await restoreAll(journalOf('restored', 'a'), { ...ports(elb, clock).deps, scaling }, 5500, () => {})
    expect(clock.now).toBe(5000)
    expect(late.alerts).toEqual([
      'Scaling group asg was left PAUSED: servers it restarted (a) were not healthy yet, and a resumed group would delete them. Resume it once its servers are healthy: in the console (Auto Scaling > the group > Enable), or POST /autoscaling-api/v1/{project_id}/scaling_group/asg/action with {"action":"resume"}.'
    ])
    expect(scaling.calls).toEqual([])
    web.members[0].statuses = ['ONLINE']
    const refusal = new ApiError(
      400,
      'AS.2020',
      'The AS group asg is already in service.',
      undefined,
      'Resume scaling group asg'
    )
    const failing = fakeScaling({ asg: 'PAUSED' }, clock, refusal)
    const journal = journalOf('restored', 'a')
    const refused = await restoreAll(journal, { ...ports(elb, clock).deps, scaling: failing }, 60_000, () => {})
    expect(refused.alerts).toEqual([
      expect.stringMatching(
        /^Scaling group asg could not be resumed \(Resume scaling group asg failed with HTTP 400, AS\.2020: .*\) and is still PAUSED\. Resume it once/
      )
    ])
    expect(journal.pausedGroups).toEqual(['asg'])
  })

  it('reads a pool again, once, when a member is deleted between the read and the write, counting what it put back as restored', async () => {
    const clock = { now: 0 }
    const web = pool('web', ['a', 'b'])
    for (const m of web.members) m.weight = 0
    const elb = fakeElb([web], clock)
    const read = elb.members
    let reads = 0
    elb.members = async (id, giveUpAt) => {
      const members = await read(id, giveUpAt)
      if (++reads === 1) web.members.splice(1, 1)
      return members
    }
    const journal = journalOf('drained', 'a', 'b')
    journal.pausedGroups = []
    const { deps, logs } = ports(elb, clock)
    const { results, alerts } = await restoreAll(journal, deps, 60_000, () => {})
    expect(reads).toBe(2)
    // The batch raised a, then stopped at b: a reads back at its original weight, by this run's doing.
    expect(results.map((r) => [r.entry.serverId, r.outcome, r.detail])).toEqual([
      ['a', 'restored', 'weight 1'],
      ['b', 'gone', 'the member is no longer in the pool']
    ])
    expect(web.members.map((m) => m.weight)).toEqual([1])
    expect(alerts).toEqual([])
    expect(logs).toEqual(['Restored 1 member of 2 still drained'])
    expect(journal.entries.map((e) => e.state)).toEqual(['restored', 'gone'])
  })

  it('counts a member whose weight change the cloud took as restored, whatever the pool reads afterwards', async () => {
    const clock = { now: 0 }
    const web = pool('web', ['a', 'b', 'c'])
    for (const m of web.members) m.weight = 0
    const elb = fakeElb([web], clock)
    // Like a pool of more than 200: a's call is taken, b's call finds b deleted; then someone sets a to 9.
    elb.setWeights = (_poolId, changes, _giveUpAt, accepted) => {
      const [first, ...rest] = changes
      ;(web.members.find((m) => m.id === first.memberId) as ElbMember).weight = first.weight
      accepted?.([first])
      if (rest.some((c) => c.memberId === 'web.b')) {
        web.members = web.members.filter((m) => m.id !== 'web.b')
        web.members[0].weight = 9
        return Promise.reject(new ApiError(404, 'ELB.8904', 'member web.b could not be found.', undefined, 'x'))
      }
      for (const change of rest) (web.members.find((m) => m.id === change.memberId) as ElbMember).weight = change.weight
      return Promise.resolve()
    }
    const journal = journalOf('drained', 'a', 'b', 'c')
    journal.pausedGroups = []
    const { results } = await restoreAll(journal, ports(elb, clock).deps, 60_000, () => {})
    expect(results.map((r) => [r.entry.serverId, r.outcome])).toEqual([
      ['a', 'restored'],
      ['b', 'gone'],
      ['c', 'restored']
    ])
    expect(web.members.map((m) => [m.id, m.weight])).toEqual([
      ['web.a', 9],
      ['web.c', 1]
    ])
  })

  it('reports the entries of a pool that no longer exists as gone, with nothing to set back by hand', async () => {
    const clock = { now: 0 }
    const web = pool('web', ['a'])
    web.members[0].weight = 0
    const elb = fakeElb([web], clock)
    const scaling = fakeScaling({ asg: 'PAUSED' }, clock)
    const journal = journalOf('drained', 'a')
    journal.entries.push({ ...journal.entries[0], poolId: 'deleted', memberId: 'deleted.a', originalWeight: 4 })
    const { deps, logs } = ports(elb, clock)
    const { results, alerts } = await restoreAll(journal, { ...deps, scaling }, 60_000, () => {})
    expect(results.map((r) => [r.entry.poolId, r.outcome, r.detail])).toEqual([
      ['web', 'restored', 'weight 1'],
      ['deleted', 'gone', 'nothing to restore: the pool no longer exists']
    ])
    expect(alerts).toEqual([])
    expect(journal.entries.map((e) => e.state)).toEqual(['restored', 'gone'])
    // Nothing is left to wait for in the deleted pool: the group is resumed at once.
    expect(scaling.calls).toEqual(['resume asg at 0'])
    expect(logs).toEqual(['Restored 1 member of 2 still drained', 'Resumed scaling group asg'])
  })

  it('resumes a group whose restarted servers sat in a pool deleted since, instead of waiting on a pool that cannot be read', async () => {
    const clock = { now: 0 }
    const elb = fakeElb([pool('web', ['b'])], clock)
    const scaling = fakeScaling({ asg: 'PAUSED' }, clock)
    const journal = journalOf('restored', 'a')
    journal.entries[0].poolId = 'deleted'
    const { alerts } = await restoreAll(journal, { ...ports(elb, clock).deps, scaling }, 60_000, () => {})
    expect([alerts, scaling.calls]).toEqual([[], ['resume asg at 0']])
  })
})
