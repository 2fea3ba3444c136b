// The health gate's timing: the drain wait (weight propagation, drain-seconds, connection drain)
// and the warnings given at discovery; on a virtual clock against an in-memory ELB.
import { describe, expect, it } from 'vitest'
import { discover } from '../../src/engine/health-gate/discover'
import { HealthGate } from '../../src/engine/health-gate/gate'
import { drainWait, probeWindowMs, timingWarnings } from '../../src/engine/health-gate/timing'
import { fakeElb, gateSettings, pool, ports, servers } from '../support/fake-elb'

async function fleet(...pools: ReturnType<typeof pool>[]) {
  const clock = { now: 0 }
  const elb = fakeElb(pools, clock)
  const topology = await discover(servers(4), { maxUnavailable: { count: 1 } }, elb, Infinity)
  return { clock, elb, topology }
}

describe('the drain wait', () => {
  const drained = (protocol: string, enable: boolean, timeout: number) =>
    pool(`p-${protocol}-${timeout}`, servers(2), { protocol, connectionDrain: { enable, timeout } })

  it('is drain-seconds when that is the longest', async () => {
    const { topology } = await fleet(drained('TCP', true, 20))
    expect(drainWait([...topology.pools.values()], 30_000, 5000)).toEqual({ ms: 30_000, why: undefined })
  })

  it('is at least the weight propagation, saying why', () => {
    expect(drainWait([], 1000, 5000)).toEqual({ ms: 5000, why: 'a weight takes up to 5 s to steer traffic' })
  })

  it("is the longest connection drain of the wave's pools when longer, naming the pool; a drain turned off counts for nothing", async () => {
    const { topology } = await fleet(drained('TCP', true, 90), drained('UDP', true, 120), drained('TCP', false, 900))
    expect(drainWait([...topology.pools.values()], 30_000, 5000)).toEqual({
      ms: 120_000,
      why: 'pool p-UDP-120 keeps connections to a drained member for 2 min (connection drain)'
    })
  })

  it('is what the gate waits between draining a wave and restarting it, and the log says why it is longer than drain-seconds', async () => {
    const tcp = pool('tcp', servers(4), { protocol: 'TCP', connectionDrain: { enable: true, timeout: 90 } })
    const { clock, elb, topology } = await fleet(tcp)
    const { deps, logs } = ports(elb, clock)
    const gate = new HealthGate(topology, gateSettings({ drainMs: 30_000, propagationMs: 5000 }), deps, () => {})
    expect(await gate.before(1, ['s0'])).toBeNull()
    expect(elb.writes.map((w) => w.at)).toEqual([0])
    expect(clock.now).toBe(90_000)
    expect(gate.report.waves[0].drainMs).toBe(90_000)
    expect(logs).toContain(
      'Wave 1: drained; waiting 1 min 30 s for in-flight requests, longer than drain-seconds: pool tcp keeps connections to a drained member for 1 min 30 s (connection drain)'
    )
  })
})

describe('warnings at discovery', () => {
  it('warns once per TCP, UDP or QUIC pool whose connection drain is off, and not for HTTP pools or pools with it on', async () => {
    const { topology } = await fleet(
      pool('tcp', servers(4), { protocol: 'TCP' }),
      pool('udp', servers(4), { protocol: 'UDP', connectionDrain: { enable: true, timeout: 60 } }),
      pool('quic', servers(4), { protocol: 'QUIC' }),
      pool('web', servers(4))
    )
    expect(timingWarnings(topology.pools.values(), 600_000)).toEqual([
      'Pool tcp (TCP) has connection drain off: setting a member to weight 0 cuts its open connections at once. Turn on connection drain (deregistration delay) on the pool to let them finish.',
      'Pool quic (QUIC) has connection drain off: setting a member to weight 0 cuts its open connections at once. Turn on connection drain (deregistration delay) on the pool to let them finish.'
    ])
  })

  it('computes the minimum health timeout as the documented rise and fall windows plus two probe intervals', () => {
    // rise: 3 s x 3 + 5 s x 2 = 19 s; fall (2 failures): 3 s x 2 + 5 s x 1 = 11 s; + 2 x 5 s.
    expect(probeWindowMs({ id: 'm', adminStateUp: true, delay: 5, timeout: 3, maxRetries: 3, maxRetriesDown: 2 })).toBe(
      40_000
    )
  })

  it("warns when health-timeout-seconds is below a pool's minimum, naming the pool, the minimum and the input; not at or above it", async () => {
    const { topology } = await fleet(pool('web', servers(4)), pool('slow', servers(4), { monitor: { delay: 10 } }))
    // web: 19 + 19 + 10 = 48 s; slow: (9 + 20) x 2 + 20 = 78 s.
    expect(timingWarnings(topology.pools.values(), 78_000)).toEqual([])
    expect(timingWarnings(topology.pools.values(), 60_000)).toEqual([
      "health-timeout-seconds (1 min) is below what pool slow's health check needs to see a restarted server down and back (rise + fall + 2 × delay = 1 min 18 s), boot time aside: its servers may fail the gate. Raise health-timeout-seconds."
    ])
    expect(timingWarnings(topology.pools.values(), 30_000)).toHaveLength(2)
  })
})
