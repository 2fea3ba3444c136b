import { describe, expect, it } from 'vitest'
import type { EcsEmulator } from '../emulator'
import { ALL_SERVERS, POOLS, dropped, fastElbFleet, gatedInputs, uuid, weights } from '../support/elb-run'
import { useEmulator } from '../support/fixtures'
import { outcomes, runAction } from '../support/run-action'

// Zero-downtime rolling restarts behind ELB (issue 14): the bundled action against the emulator's
// load-balanced fleet (3 pools, 30 servers, shared servers, an Auto Scaling group), in real time.

const fleets = [useEmulator(), useEmulator()]

/** srv-15 (in asg-api) boots for 10.5 s: longer than the group's 10 s audit period. */
const SLOW = { 'srv-15': 10_500 }

/** Lowest healthy count each pool was sampled at. */
const lowest = (emulator: EcsEmulator) =>
  Object.fromEntries(POOLS.map((pool) => [pool, emulator.loadBalancing.range(pool).healthy.min]))

async function settle(emulator: EcsEmulator, ms: number): Promise<void> {
  await new Promise((done) => setTimeout(done, ms))
  emulator.loadBalancing.traffic()
}

describe('health-gate: elb', () => {
  it('restarts the fleet with zero dropped requests where rolling drops requests and loses a server to Auto Scaling', async () => {
    const [gatedFleet, rollingFleet] = await Promise.all(
      fleets.map((f) => f.start(fastElbFleet({ serverBootDelayMs: SLOW })))
    )
    const before = weights(gatedFleet)
    const [gated] = await Promise.all([
      runAction(gatedInputs(gatedFleet)),
      runAction({ ...gatedInputs(rollingFleet), 'health-gate': 'none', rolling: 'true', 'batch-size': '5' })
    ])
    // Long enough for an audit of asg-api to see srv-15 still booting in the rolling run.
    await settle(rollingFleet, 11_000)
    const gatedDropped = dropped(gatedFleet)
    const rollingDropped = dropped(rollingFleet)
    const rollingRemovals = rollingFleet.loadBalancing.removals()
    console.info(
      `dropped requests: health-gated ${gatedDropped}, rolling ${rollingDropped}; servers Auto Scaling removed: health-gated ${gatedFleet.loadBalancing.removals().length}, rolling ${rollingRemovals.length}`
    )

    expect(gated.exitCode, gated.stdout).toBe(0)
    expect(gatedDropped).toBe(0)
    expect(gatedFleet.loadBalancing.removals()).toEqual([])
    expect(ALL_SERVERS.map((id) => gatedFleet.restartCount(id))).toEqual(ALL_SERVERS.map(() => 1))
    expect(weights(gatedFleet)).toEqual(before)
    // 20% of 15 and 10 members: web and api keep 12, legacy keeps 8.
    expect(lowest(gatedFleet)).toEqual({ 'pool-web': 12, 'pool-api': 12, 'pool-legacy': 8 })
    expect(outcomes(gated).succeeded).toEqual(ALL_SERVERS)

    expect(rollingDropped).toBeGreaterThan(0)
    expect(rollingRemovals.map((r) => [r.serverId, r.deleted])).toContainEqual([uuid(15), true])
  }, 150_000)
})
