import { describe, expect, it } from 'vitest'
import { ApiError } from '../../src/cloud/errors'
import { execute } from '../../src/engine/execute'
import { Ledger } from '../../src/engine/ledger'
import { planBatches } from '../../src/engine/plan'
import { fakeCloud, ids, options, runScenario } from '../support/fake-cloud'

describe('a run that must stop stops at once', () => {
  it('starts no server status read past the deadline, however many servers a round has left', async () => {
    // Each read takes 1 s: a round over 40 servers would run 4 s past a deadline 1 s away.
    const cloud = fakeCloud({
      status: () => {
        cloud.advance(1000)
        return 'REBOOT'
      }
    })
    const { results } = await runScenario(ids(40), 40, cloud, { ...options, waitForTargetState: true, deadline: 2000 })
    expect(cloud.statusReads.length).toBeGreaterThan(0)
    expect(cloud.statusReads.every((read) => read.at < 2000)).toBe(true)
    expect(cloud.statusReads.length).toBeLessThan(40)
    expect(results.every((r) => r.outcome === 'pending')).toBe(true)
  })

  it('fails the waves left at once when the run must stop, without pausing before each', async () => {
    const cloud = fakeCloud({
      submit: () => new ApiError(403, 'APIG.0301', 'ak not exist', 'r', 'Restart batch 1 of 3')
    })
    const serverIds = ids(3)
    const ledger = new Ledger(serverIds)
    await execute(
      planBatches(serverIds, 1, true),
      { ...options, pauseMs: 600_000, deadline: 3_600_000 },
      cloud.deps(ledger)
    )
    expect(cloud.now()).toBeLessThan(600_000)
    expect(cloud.logs.some((line) => line.startsWith('Pausing'))).toBe(false)
    expect([...ledger.results().values()].map((r) => r.outcome)).toEqual(['failed', 'failed', 'failed'])
  })
})
