// The health gate's summary and outputs for what happened during the run, from a gate on a
// virtual clock against an in-memory ELB.
import { describe, expect, it } from 'vitest'
import { gateOutputs } from '../../src/action/health-gate-report'
import type { PreparedGate } from '../../src/action/health-gate'
import { discover } from '../../src/engine/health-gate/discover'
import { HealthGate } from '../../src/engine/health-gate/gate'
import { fakeElb, gateSettings, pool, ports, servers } from '../support/fake-elb'

type Pools = ReturnType<typeof pool>[]

/** Pools web and api of s0…s2; wave 1 restarts s0, `during` runs while it restarts, `onSleep` at each wait. */
async function oneWave(during: (pools: Pools) => void, onSleep: (pools: Pools) => void = () => {}) {
  const clock = { now: 0 }
  const pools = [pool('web', servers(3)), pool('api', servers(3))]
  const elb = fakeElb(pools, clock)
  const topology = await discover(servers(3), { maxUnavailable: { count: 1 } }, elb, Infinity)
  const deps = ports(elb, clock, () => onSleep(pools)).deps
  const gate = new HealthGate(topology, gateSettings({ healthTimeoutMs: 600_000 }), deps, () => {})
  const prepared: PreparedGate = {
    plan: { waves: [[{ number: 1, serverIds: ['s0'] }]], batchCount: 1 },
    topology,
    gate,
    save: () => {}
  }
  expect(await gate.before(1, ['s0'])).toBeNull()
  during(pools)
  expect((await gate.after(1, ['s0'])).size).toBe(0)
  return gateOutputs(prepared, gate.report)
}

describe('the health gate summary', () => {
  it('says "pool deleted" for the entries of a pool deleted during the run, and names the pool and wave', async () => {
    const { summary } = await oneWave((pools) => pools.splice(1, 1))
    expect(summary).toContain('web: restored; api: pool deleted')
    expect(summary).not.toContain('member deleted')
    expect(summary).toContain(
      '<p>Pool api was deleted by someone else during wave 1: its members count as gone, with nothing to restore.</p>'
    )
  })

  it('still says "member deleted" when only the member went', async () => {
    const { summary } = await oneWave((pools) => pools[1].members.splice(0, 1))
    expect(summary).toContain('web: restored; api: member deleted')
    expect(summary).not.toContain('was deleted by someone else')
  })

  it('lists the members of the weight-0 fallback in the summary and the waves output', async () => {
    // A load balancer that shows weight-0 members OFFLINE whatever its probes say.
    const { summary, waves } = await oneWave(
      () => {},
      (pools) => {
        for (const m of pools.flatMap((p) => p.members)) m.statuses = [m.weight === 0 ? 'OFFLINE' : 'ONLINE']
      }
    )
    expect(summary).toContain('Weight-0 fallback: 2 member(s) of dedicated load balancers')
    expect(summary).toContain('<td>web.s0</td>')
    expect((waves[0] as { weight_zero_fallbacks: unknown[] }).weight_zero_fallbacks).toEqual([
      { server_id: 's0', pool_id: 'web', member_id: 'web.s0', status: 'OFFLINE', after_ms: 50_000 },
      { server_id: 's0', pool_id: 'api', member_id: 'api.s0', status: 'OFFLINE', after_ms: 50_000 }
    ])
  })
})
