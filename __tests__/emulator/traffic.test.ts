/**
 * The traffic model: synthetic requests routed by weight among the members the load balancer
 * routes to, dropped when they land on a server that is not serving; pool healthy-count samples.
 * The key property for the rolling restart: a member rebooted at weight > 0 loses requests, one
 * drained to weight 0 (and given the documented 5 s to take effect) loses none.
 */
import { describe, expect, it, vi } from 'vitest'
import type { EcsEmulator, EmulatorOptions } from '.'
import { manualClock, submit, useEmulators } from '../support/emulator-calls'
import { ELB_PATH, elbFleet, lbJson, memberId, setWeight } from '../support/elb-fleet'

const startEmulator = useEmulators()

type Clock = ReturnType<typeof manualClock>

/** Moves the manual clock; the emulator replays what happened meanwhile on the next request or read. */
function advance(clock: Clock, ms: number): void {
  clock.advance(ms)
}

async function memberStatus(emulator: EcsEmulator, clock: Clock, poolId: string, server: string): Promise<string> {
  const path = `${ELB_PATH}/pools/${poolId}/members/${memberId(poolId, server)}`
  return (await lbJson<{ member: { operating_status: string } }>(emulator, path, { date: clock.date() })).member
    .operating_status
}

/** Drains `server` from `pools`, waits for the weight to apply, reboots it, waits until it is ONLINE again, restores. */
async function drainedReboot(emulator: EcsEmulator, clock: Clock, server: string, pools: string[]): Promise<void> {
  for (const pool of pools) {
    expect((await setWeight(emulator, pool, memberId(pool, server), 0, { date: clock.date() })).status).toBe(200)
  }
  advance(clock, 5_000)
  await submit(emulator, [server], { date: clock.date() })
  for (let i = 0; i < 120; i++) {
    advance(clock, 1_000)
    const statuses = await Promise.all(pools.map((pool) => memberStatus(emulator, clock, pool, server)))
    // A dedicated load balancer shows the real probe result at weight 0; wait until the reboot has
    // been seen (a down state) and the member is back ONLINE.
    if (i > 25 && statuses.every((s) => s === 'ONLINE')) break
  }
  for (const pool of pools) {
    expect((await setWeight(emulator, pool, memberId(pool, server), 1, { date: clock.date() })).status).toBe(200)
  }
  advance(clock, 10_000)
}

describe('traffic routed by weight', () => {
  it('a weight change steers new requests only once it applies (5 s), then none reach the member', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(elbFleet({ now: clock.now, requestsPerSecond: 15 }))
    await setWeight(emulator, 'pool-web', memberId('pool-web', 'srv-00'), 0, { date: clock.date() })
    advance(clock, 5_000)
    const atApply = emulator.loadBalancing.traffic()['pool-web'].servers['srv-00'].served
    expect(atApply).toBeGreaterThanOrEqual(4)
    advance(clock, 20_000)
    const later = emulator.loadBalancing.traffic()['pool-web']
    expect(later.servers['srv-00'].served).toBe(atApply)
    expect(later.served).toBe(later.sent)
    // The others share the load evenly (smooth weighted round robin).
    const others = Object.entries(later.servers)
      .filter(([id]) => id !== 'srv-00')
      .map(([, c]) => c.served)
    expect(Math.max(...others) - Math.min(...others)).toBeLessThanOrEqual(1)
  })

  it('routes by weight: a member at weight 3 gets three times the requests of one at weight 1', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(
      elbFleet({ now: clock.now, requestsPerSecond: 16, weightApplyMs: 0, busyMs: 0 })
    )
    await setWeight(emulator, 'pool-web', memberId('pool-web', 'srv-01'), 3, { date: clock.date() })
    const before = emulator.loadBalancing.traffic()['pool-web'].servers
    advance(clock, 30_000)
    const after = emulator.loadBalancing.traffic()['pool-web'].servers
    const served = (servers: Record<string, { served: number }>, id: string): number =>
      id in servers ? servers[id].served : 0
    const delta = (id: string): number => served(after, id) - served(before, id)
    // 14 members at weight 1 and one at 3: per cycle of 17 requests, 3 to srv-01 and 1 to each other.
    expect(delta('srv-02')).toBeGreaterThanOrEqual(25)
    expect(Math.abs(delta('srv-01') - 3 * delta('srv-02'))).toBeLessThanOrEqual(3)
  })

  it('under SOURCE_IP the weight does not take effect: weight 0 still gets requests', async () => {
    const clock = manualClock()
    const options: EmulatorOptions = {
      inventory: [
        { id: 'a', name: 'a' },
        { id: 'b', name: 'b' }
      ],
      now: clock.now,
      loadBalancers: [
        {
          id: 'lb',
          pools: [
            {
              id: 'p',
              lbAlgorithm: 'SOURCE_IP',
              members: [
                { id: 'ma', serverId: 'a', weight: 0 },
                { id: 'mb', serverId: 'b' }
              ]
            }
          ]
        }
      ],
      loadBalancing: { requestsPerSecond: 10 }
    }
    const emulator = await startEmulator(options)
    advance(clock, 10_000)
    expect(emulator.loadBalancing.traffic().p.servers.a.served).toBeGreaterThan(0)
  })
})

describe('restarts and dropped requests', () => {
  it('a reboot at weight > 0 drops requests; drained to weight 0 first, it drops none', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(elbFleet({ now: clock.now, jobDurationMs: 20_000, busyMs: 0 }))
    await submit(emulator, ['srv-03'], { date: clock.date() })
    advance(clock, 60_000)
    const careless = emulator.loadBalancing.traffic()['pool-web']
    expect(careless.servers['srv-03'].dropped).toBeGreaterThan(0)
    expect(careless.dropped).toBe(careless.servers['srv-03'].dropped)

    // srv-12 is in pool-web and pool-api: drain it from both, reboot, wait, restore.
    await drainedReboot(emulator, clock, 'srv-12', ['pool-web', 'pool-api'])
    const after = emulator.loadBalancing.traffic()
    expect(emulator.restartCount('srv-12')).toBe(1)
    expect(after['pool-web'].servers['srv-12'].dropped).toBe(0)
    expect(after['pool-api'].servers['srv-12'].dropped).toBe(0)
    expect(after['pool-web'].dropped).toBe(careless.dropped)
    expect(after['pool-api'].dropped).toBe(0)
    expect(after['pool-web'].servers['srv-12'].served).toBeGreaterThan(careless.servers['srv-12'].served)
  })

  it('on a shared load balancer, restoring the weight before the server is back drops nothing', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(
      elbFleet({ now: clock.now, jobDurationMs: 10_000, bootDelayMs: 10_000, busyMs: 0 })
    )
    await setWeight(emulator, 'pool-legacy', memberId('pool-legacy', 'srv-27'), 0, { date: clock.date() })
    advance(clock, 5_000)
    await submit(emulator, ['srv-27'], { date: clock.date() })
    advance(clock, 1_000)
    await setWeight(emulator, 'pool-legacy', memberId('pool-legacy', 'srv-27'), 1, { date: clock.date() })
    advance(clock, 60_000)
    expect(await memberStatus(emulator, clock, 'pool-legacy', 'srv-27')).toBe('ONLINE')
    const legacy = emulator.loadBalancing.traffic()['pool-legacy']
    expect(legacy.dropped).toBe(0)
    expect(legacy.servers['srv-27'].served).toBeGreaterThan(0)
  })

  it('a reboot shorter than the fall window never shows OFFLINE, yet drops requests (stale ONLINE)', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(elbFleet({ now: clock.now, jobDurationMs: 4_000 }))
    await submit(emulator, ['srv-04'], { date: clock.date() })
    advance(clock, 30_000)
    expect(emulator.loadBalancing.range('pool-web').healthy).toEqual({ min: 15, max: 15 })
    expect(emulator.loadBalancing.traffic()['pool-web'].servers['srv-04'].dropped).toBeGreaterThan(0)
  })

  it('counts requests no member can take as dropped and unroutable', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(elbFleet({ now: clock.now }))
    for (let i = 20; i < 30; i++) emulator.setServerStatus(`srv-${i}`, 'SHUTOFF')
    advance(clock, 30_000)
    const legacy = emulator.loadBalancing.traffic()['pool-legacy']
    expect(legacy.unroutable).toBeGreaterThan(0)
    expect(legacy.dropped).toBe(legacy.sent)
    expect(legacy.served).toBe(0)
  })
})

describe('pool samples', () => {
  it('samples each pool at every probe: healthy and serving counts, with their range', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(elbFleet({ now: clock.now, jobDurationMs: 20_000, busyMs: 0 }))
    for (const server of ['srv-00', 'srv-01', 'srv-02']) {
      await setWeight(emulator, 'pool-web', memberId('pool-web', server), 0, { date: clock.date() })
    }
    advance(clock, 5_000)
    await submit(emulator, ['srv-00', 'srv-01', 'srv-02'], { date: clock.date() })
    advance(clock, 60_000)
    const samples = emulator.loadBalancing.samples('pool-web')
    expect(samples[0]).toEqual({ at: clock.now() - 65_000, healthy: 15, serving: 15 })
    expect(samples.map((s) => s.at - samples[0].at).slice(0, 4)).toEqual([0, 5_000, 10_000, 15_000])
    expect(emulator.loadBalancing.range('pool-web')).toEqual({
      healthy: { min: 12, max: 15 },
      serving: { min: 12, max: 15 }
    })
    expect(emulator.loadBalancing.range('pool-api')).toEqual({
      healthy: { min: 15, max: 15 },
      serving: { min: 15, max: 15 }
    })
    expect(emulator.loadBalancing.traffic()['pool-web'].dropped).toBe(0)
  })

  it('gives the same results however often it is read (lazy replay)', async () => {
    const run = async (reads: number): Promise<unknown> => {
      const clock = manualClock()
      const emulator = await startEmulator(elbFleet({ now: clock.now, jobDurationMs: 20_000 }))
      await submit(emulator, ['srv-05', 'srv-22'], { date: clock.date() })
      for (let i = 0; i < reads; i++) {
        advance(clock, 60_000 / reads)
        emulator.loadBalancing.traffic()
      }
      return { traffic: emulator.loadBalancing.traffic(), samples: emulator.loadBalancing.samples('pool-api') }
    }
    expect(await run(1)).toEqual(await run(60))
  })

  it('runs in real time too: requests follow the wall clock', async () => {
    const emulator = await startEmulator({
      inventory: [{ id: 'a', name: 'a' }],
      loadBalancers: [
        { id: 'lb', pools: [{ id: 'p', members: [{ serverId: 'a' }], healthMonitor: { delay: 1, maxRetries: 1 } }] }
      ],
      loadBalancing: { requestsPerSecond: 500 }
    })
    await vi.waitFor(() => expect(emulator.loadBalancing.traffic().p.sent).toBeGreaterThan(5), { timeout: 5_000 })
    const traffic = emulator.loadBalancing.traffic().p
    expect(traffic.served + traffic.dropped).toBe(traffic.sent)
    expect(traffic.dropped).toBe(0)
  })
})
