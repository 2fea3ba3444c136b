// The health gate's timing: the drain wait (weight propagation, drain-seconds, connection drain)
// and the warnings given at discovery; on a virtual clock against an in-memory ELB.
import { describe, expect, it } from 'vitest'
import { discover } from '../../src/engine/health-gate/discover'
import { HealthGate } from '../../src/engine/health-gate/gate'
import { drainWait, timingWarnings } from '../../src/engine/health-gate/timing'
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
    expect(timingWarnings(topology.pools.values())).toEqual([
      'Pool tcp (TCP) has connection drain off: setting a member to weight 0 cuts its open connections at once. Turn on connection drain (deregistration delay) on the pool to let them finish.',
      'Pool quic (QUIC) has connection drain off: setting a member to weight 0 cuts its open connections at once. Turn on connection drain (deregistration delay) on the pool to let them finish.'
    ])
  })
})
