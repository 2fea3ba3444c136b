// Restoring drained weights and resuming paused groups, on a virtual clock against an in-memory ELB.
import { describe, expect, it } from 'vitest'
import type { ElbMember } from '../../src/cloud/elb'
import { ApiError } from '../../src/cloud/errors'
import { discover } from '../../src/engine/health-gate/discover'
import { HealthGate } from '../../src/engine/health-gate/gate'
import { restoreAll, restoreEntries } from '../../src/engine/health-gate/restore'
import type { Journal } from '../../src/engine/health-gate/types'

import { fakeElb, fakeScaling, gateSettings, member, pool, ports, servers } from '../support/fake-elb'

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
      steadyMs: 0,
      standby: []
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

  it('judges by the members the caller just read, without reading the pool; reads it when the write finds a member gone', async () => {
    const clock = { now: 0 }
    const web = pool('web', ['a', 'b', 'c'])
    for (const m of web.members) m.weight = 0
    const elb = fakeElb([web], clock)
    const entry = { poolId: 'web', loadBalancerId: 'lb-web', originalWeight: 2, state: 'drained' as const, wave: 1 }
    const journal: Journal = {
      version: 1,
      entries: ['a', 'b'].map((id) => ({ ...entry, serverId: id, memberId: `web.${id}` })),
      pausedGroups: [],
      unconfirmed: [],
      steadyMs: 0,
      standby: []
    }
    const read = new Map([['web', structuredClone(web.members)]])
    const results = await restoreEntries(journal, journal.entries, elb, 60_000, () => {}, read)
    expect(results.map((r) => r.outcome)).toEqual(['restored', 'restored'])
    expect(elb.reads).toEqual([])
    expect(web.members.map((m) => m.weight)).toEqual([2, 2, 0])

    // Member a was deleted after the caller's read: the write stops there, the pool is read again.
    const again: Journal = { ...journal, entries: journal.entries.map((e) => ({ ...e, state: 'drained' as const })) }
    web.members = [member('web', 'b', 0), member('web', 'c', 0)]
    const stale = new Map([['web', [member('web', 'a', 0), ...structuredClone(web.members)]]])
    const retried = await restoreEntries(again, again.entries, elb, 60_000, () => {}, stale)
    expect(retried.map((r) => [r.entry.serverId, r.outcome])).toEqual([
      ['a', 'gone'],
      ['b', 'restored']
    ])
    expect(elb.reads.map((r) => r.what)).toEqual(['members web'])
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
      steadyMs: 0,
      standby: []
    }
    const { alerts } = await restoreAll(journal, ports(elb, clock).deps, 60_000, () => {})
    expect(alerts).toEqual([
      expect.stringMatching(/^Member web\.a of server a in pool web is still at weight 0: set it back to 5 by hand/)
    ])
  })
})

/** Scaling groups by id and status; records each pause and resume with the clock. */

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
    steadyMs: 0,
    standby: []
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

describe('a pool deleted by someone else during a wave', () => {
  it("counts that pool's members as gone, says so, and carries on with the other pools in this wave and the next", async () => {
    const clock = { now: 0 }
    const web = pool('web', servers(3))
    const api = pool('api', servers(3))
    const pools = [web, api]
    const elb = fakeElb(pools, clock)
    const topology = await discover(servers(3), { maxUnavailable: { count: 1 } }, elb, Infinity)
    const { deps, logs } = ports(elb, clock)
    const saved: Journal[] = []
    const gate = new HealthGate(topology, gateSettings(), deps, (j) => saved.push(structuredClone(j)))
    expect(await gate.before(1, ['s0'])).toBeNull()
    // Deleted while the wave's servers restart, after the drain.
    pools.splice(pools.indexOf(api), 1)
    expect((await gate.after(1, ['s0'])).size).toBe(0)
    expect(gate.journal.entries.map((e) => [e.poolId, e.state])).toEqual([
      ['web', 'restored'],
      ['api', 'gone']
    ])
    expect(saved.at(-1)?.entries.map((e) => e.state)).toEqual(['restored', 'gone'])
    expect(gate.report.deletedPools).toEqual([{ poolId: 'api', wave: 1 }])
    expect(logs).toContain(
      'Pool api was deleted during wave 1: its members count as gone (nothing to restore there); carrying on with the other pools.'
    )
    expect(web.members[0].weight).toBe(1)
    // The next wave drains and gates web only.
    const writes = elb.writes.length
    expect(await gate.before(2, ['s1'])).toBeNull()
    expect((await gate.after(2, ['s1'])).size).toBe(0)
    expect(elb.writes.slice(writes).map((w) => w.poolId)).toEqual(['web', 'web'])
    expect(gate.journal.entries.filter((e) => e.wave === 2).map((e) => [e.poolId, e.state])).toEqual([
      ['web', 'restored']
    ])
    expect(logs.filter((l) => l.startsWith('Pool api was deleted'))).toHaveLength(1)
  })
})
