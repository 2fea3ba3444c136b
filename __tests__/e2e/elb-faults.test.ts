import { describe, expect, it } from 'vitest'
import { type EcsEmulator, gatewayError } from '../emulator'
import { AS_PATH, lbCall } from '../support/elb-fleet'
import {
  POOLS,
  dropped,
  expectSecretKeptOut,
  fastElbFleet,
  gatedInputs,
  groupStatus,
  killedRun,
  uuid,
  weights
} from '../support/elb-run'
import { useEmulator } from '../support/fixtures'
import { outcomes, runAction } from '../support/run-action'

// Faults during a health-gated restart: each ends with every weight restored or named in the report.

const emulators = useEmulator()

/** srv-10…srv-19: shared between pool-web and pool-api, five of them in asg-api. */
const SERVERS = Array.from({ length: 10 }, (_, i) => uuid(10 + i))

const inputs = (emulator: EcsEmulator, extra: Record<string, string> = {}) =>
  gatedInputs(emulator, { 'server-ids': SERVERS.join(','), ...extra })

const anyDrained = (emulator: EcsEmulator): boolean =>
  POOLS.some((pool) => emulator.loadBalancing.members(pool).some((m) => m.weight === 0))

describe('health-gate: elb under faults', () => {
  it('killed (SIGKILL) mid-wave: the post step, run as the runner does, restores every weight and resumes the group', async () => {
    const emulator = await emulators.start(fastElbFleet())
    const before = weights(emulator)
    const { run, state, journal, post: runPost } = await killedRun(inputs(emulator), () => anyDrained(emulator))
    expect(run.exitCode).toBeNull()
    expect(anyDrained(emulator)).toBe(true)
    expect(Object.keys(state)).toEqual(['STATE_elb_journal'])
    const post = await runPost()
    expect(post.exitCode, post.stdout).toBe(0)
    expect(post.stdout).toMatch(/Post step: restored \d+ member/)
    expect(weights(emulator)).toEqual(before)
    expect(await groupStatus(emulator)).toBe('INSERVICE')
    expect(emulator.loadBalancing.removals()).toEqual([])
    expectSecretKeptOut(run, journal, post.stdout)
  }, 60_000)

  it('cancelled (SIGINT) mid-wave: restores every drained weight in-process before it exits', async () => {
    const emulator = await emulators.start(fastElbFleet())
    const before = weights(emulator)
    const run = await runAction(inputs(emulator), {
      signalWhen: { ready: () => anyDrained(emulator), signal: 'SIGINT' }
    })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toContain('Cancelled (SIGINT)')
    // It ended on its own before the runner's SIGTERM (7.5 s after SIGINT), let alone its SIGKILL.
    expect(run.signalsSent).toEqual(['SIGINT'])
    expect(run.exitSignal).toBeNull()
    expect(weights(emulator)).toEqual(before)
    expect(emulator.loadBalancing.removals()).toEqual([])
    // Cancelled during the drain wait, before any restart: the paused group is resumed before it ends.
    expect(SERVERS.map((id) => emulator.restartCount(id))).toEqual(SERVERS.map(() => 0))
    expect(await groupStatus(emulator)).toBe('INSERVICE')
  }, 60_000)

  it('a server that never turns healthy fails its gate and is restored; the pool it left short stops later waves; its group stays paused', async () => {
    const emulator = await emulators.start(fastElbFleet({ serverBootDelayMs: { 'srv-15': 600_000 } }))
    const before = weights(emulator)
    const run = await runAction(inputs(emulator, { 'health-timeout-seconds': '2', 'max-failures': '1' }))
    expect(run.exitCode).toBe(1)
    const { results, succeeded } = outcomes(run)
    const failed = results.filter((r) => r.outcome === 'failed')
    expect(failed[0]).toMatchObject({ id: uuid(15), error_code: 'HealthGate' })
    expect(failed[0].error_message).toContain('Its weight was restored')
    // pool-api is one healthy member short for good: the waves that would take it below 12 never start.
    for (const later of failed.slice(1))
      expect(later.error_message).toContain('pool pool-api (14 healthy now, at least 12 to keep)')
    expect(succeeded.length + failed.length).toBe(10)
    expect(failed.slice(1).every((r) => emulator.restartCount(r.id) === 0)).toBe(true)
    // Waves of 3 (20% of the 15 members of pool-web and of pool-api): srv-15 ends wave 2, so the
    // waves after it (srv-16…srv-19) are never restarted and everything before it succeeds.
    const waveSize = 3
    const endOfItsWave = (Math.floor(SERVERS.indexOf(uuid(15)) / waveSize) + 1) * waveSize
    const notRestarted = SERVERS.slice(endOfItsWave)
    expect(notRestarted).toHaveLength(4)
    expect(failed.map((r) => r.id)).toEqual([uuid(15), ...notRestarted])
    expect([...succeeded].sort()).toEqual(SERVERS.filter((id) => id !== uuid(15) && !notRestarted.includes(id)))
    expect(SERVERS.map((id) => emulator.restartCount(id))).toEqual(
      SERVERS.map((id) => (notRestarted.includes(id) ? 0 : 1))
    )
    expect(weights(emulator)).toEqual(before)
    expect(await groupStatus(emulator)).toBe('PAUSED')
    expect(run.stdout).toMatch(/::error title=Health gate%3A act by hand::Scaling group asg-api was left PAUSED/)
    expect(emulator.loadBalancing.removals()).toEqual([])
  }, 60_000)

  it('waits out a load balancer answering 409 and throttled reads, dropping nothing', async () => {
    const emulator = await emulators.start(fastElbFleet())
    const before = weights(emulator)
    const conflict = { kind: 'respond' as const, status: 409, body: gatewayError('ELB.8907', 'Data conflict.') }
    const throttled = {
      kind: 'respond' as const,
      status: 429,
      body: gatewayError('APIG.0308', 'The throttling threshold has been reached')
    }
    emulator.inject('elb-members-batch-update', conflict, conflict, conflict)
    emulator.inject('elb-members', { kind: 'pass' }, throttled, throttled)
    const run = await runAction(inputs(emulator))
    expect(run.exitCode, run.stdout).toBe(0)
    expect(emulator.pendingFaults('elb-members-batch-update')).toBe(0)
    expect(emulator.pendingFaults('elb-members')).toBe(0)
    expect(weights(emulator)).toEqual(before)
    expect(dropped(emulator)).toBe(0)
    // A 409 on the drain or restore is waited out, never answered by restarting a server again.
    expect(SERVERS.map((id) => emulator.restartCount(id))).toEqual(SERVERS.map(() => 1))
  }, 60_000)

  it('a member deleted by someone else mid-run is reported gone; every other weight is restored', async () => {
    const emulator = await emulators.start(fastElbFleet())
    const before = weights(emulator)
    let removed = false
    const run = await runAction(inputs(emulator), {
      signalWhen: {
        ready: () => {
          const drained = emulator.loadBalancing.members('pool-api').find((m) => m.serverId === uuid(16))?.weight === 0
          if (drained && !removed) {
            removed = true
            // Standby unbinds the instance from the group's pool: its member is deleted.
            void lbCall(emulator, `${AS_PATH}/scaling_group_instance/asg-api/action`, {
              method: 'POST',
              body: JSON.stringify({ action: 'ENTER_STANDBY', instances_id: [uuid(16)] })
            })
          }
          return false
        },
        signal: 'SIGINT'
      }
    })
    expect(removed).toBe(true)
    expect(run.exitCode, run.stdout).toBe(0)
    const expected = structuredClone(before)
    expected['pool-api'] = Object.fromEntries(
      Object.entries(expected['pool-api']).filter(([id]) => id !== 'pool-api.srv-16')
    )
    expect(weights(emulator)).toEqual(expected)
    expect(run.summary).toContain('member deleted')
  }, 60_000)
})
