import { describe, expect, it } from 'vitest'
import { ALL_SERVERS, dropped, fastElbFleet, gatedInputs, weights } from '../support/elb-run'
import { useEmulator } from '../support/fixtures'
import { outcomes, runAction } from '../support/run-action'

// The weight-0 fallback (elb-api.md D9) through the bundle: a dedicated load balancer that shows
// every weight-0 member OFFLINE and stops probing it, as OTC documents for both types, instead
// of the real probe result Huawei's FAQ describes for dedicated ones.

const emulators = useEmulator()

interface Wave {
  wave: number
  weight_zero_fallbacks: { server_id: string; pool_id: string; member_id: string; status: string }[]
}

describe('health-gate: elb on a dedicated load balancer that shows weight-0 members OFFLINE', () => {
  it('restores each such member first once its probe window has passed: zero dropped requests, every server restarted once, weights restored, no timeouts', async () => {
    const fleet = fastElbFleet()
    for (const lb of fleet.loadBalancers ?? []) if (lb.guaranteed !== false) lb.weightZeroStatus = 'offline'
    const emulator = await emulators.start(fleet)
    const before = weights(emulator)
    const run = await runAction(gatedInputs(emulator, { 'max-unavailable-per-pool': '40%' }))

    expect(run.exitCode, run.stdout).toBe(0)
    expect(dropped(emulator)).toBe(0)
    expect(ALL_SERVERS.map((id) => emulator.restartCount(id))).toEqual(ALL_SERVERS.map(() => 1))
    expect(weights(emulator)).toEqual(before)
    expect(outcomes(run).succeeded).toEqual(ALL_SERVERS)
    expect(emulator.loadBalancing.removals()).toEqual([])
    // Every member of the dedicated lb-main (pool-web srv-00…14, pool-api srv-10…24) fell back,
    // none of the shared lb-legacy, whose members are restored before the gate anyway.
    const fallbacks = (JSON.parse(run.outputs.waves) as Wave[]).flatMap((w) => w.weight_zero_fallbacks)
    expect(fallbacks).toHaveLength(30)
    expect(new Set(fallbacks.map((f) => f.pool_id))).toEqual(new Set(['pool-web', 'pool-api']))
    expect(fallbacks.every((f) => f.status === 'OFFLINE')).toBe(true)
    expect(run.stdout).toMatch(
      /Weight-0 fallback: member pool-web\.srv-00 of server \S+ in pool pool-web \(dedicated load balancer lb-main\) still shows OFFLINE at weight 0/
    )
    expect(run.summary).toContain('Weight-0 fallback: 30 member(s) of dedicated load balancers')
  }, 150_000)
})
