import { describe, expect, it } from 'vitest'
import { ApiError, TransportError } from '../../src/cloud/errors'
import { MAX_REFUSAL_WAIT_MS, refusalOf, refusalWait } from '../../src/engine/refusal'
import { fakeCloud, ids, options, runScenario } from '../support/fake-cloud'

const what = 'Restart batch 1 of 1'
const throttled = (retryAfterMs?: number) =>
  new ApiError(429, 'APIG.0308', 'The throttling threshold has been reached.', 'r', what, retryAfterMs)
const busy = () => new ApiError(501, 'Ecs.0603', 'Other commands are being executed.', 'r', what)

/** The waits the executor announced, in ms, from "retrying in 23 s (attempt 4)". */
function announcedWaits(logs: string[]): number[] {
  return logs.flatMap((l) => {
    const match = /retrying in ([\d.]+) s.* \(attempt \d+\), until timeout-seconds$/.exec(l)
    return match ? [Math.round(Number(match[1]) * 1000)] : []
  })
}

describe('refusalWait', () => {
  it('doubles a jittered step from the first one up to a minute, never waiting nothing', () => {
    const steps = (random: number) =>
      [1, 2, 3, 4, 5, 6, 7, 40].map((n) => refusalWait('throttled', throttled(), n, 5000, () => random).ms)
    expect(steps(0)).toEqual([2500, 5000, 10_000, 20_000, 30_000, 30_000, 30_000, 30_000])
    expect(steps(0.999999)).toEqual([5000, 10_000, 20_000, 40_000, 60_000, 60_000, 60_000, 60_000])
    expect(Math.max(...steps(0.999999))).toBe(MAX_REFUSAL_WAIT_MS)
  })

  it('honours Retry-After as given, and waits about the documented minute for a busy server', () => {
    expect(refusalWait('throttled', throttled(7000), 3, 5000, () => 0.9)).toEqual({
      ms: 7000,
      because: ' as Retry-After asks'
    })
    expect(refusalWait('busy', busy(), 1, 5000, () => 0).ms).toBe(60_000)
    expect(refusalWait('busy', busy(), 1, 5000, () => 0.999999).ms).toBe(75_000)
  })

  it('tells refusals (nothing was done) from answers whose outcome is unknown', () => {
    expect(refusalOf(throttled())).toBe('throttled')
    expect(refusalOf(new ApiError(202, 'Common.0024', 'exceeds flow over limit', 'r', what))).toBe('throttled')
    expect(refusalOf(new ApiError(503, 'Common.1503', 'flow control', 'r', what))).toBe('throttled')
    expect(refusalOf(busy())).toBe('busy')
    expect(refusalOf(new ApiError(500, 'Common.0001', 'System exception', 'r', what))).toBeUndefined()
    expect(refusalOf(new ApiError(503, undefined, 'Service unavailable', 'r', what))).toBeUndefined()
  })
})

describe('execute under throttling', () => {
  it('restarts every server exactly once through throttling without Retry-After for over a minute', async () => {
    // The cloud throttles every request for the first 150 s, and sends no Retry-After.
    const cloud = fakeCloud({
      submit: (_, call) =>
        cloud.now() < 150_000 ? throttled() : { accepted: true, jobId: `job-${call}`, requestId: 'r' }
    })
    const deadline = 600_000
    const { byOutcome, runs } = await runScenario(ids(6), 2, cloud, {
      ...options,
      maxServersPerMinute: 1000,
      pollIntervalMs: 5000,
      deadline
    })
    expect(byOutcome('succeeded')).toEqual(ids(6))
    expect(runs.map((r) => r.status)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS'])
    // Every server was in exactly one request the cloud accepted, all sent within the deadline.
    const accepted = cloud.sent.filter((_, i) => cloud.submittedAt[i] >= 150_000).flat()
    expect(accepted.sort()).toEqual(ids(6))
    expect(Math.max(...cloud.submittedAt)).toBeLessThan(deadline)
    // Waits (random 0.5: three quarters of the step) from one poll interval, doubling, capped at a minute.
    expect(announcedWaits(cloud.logs)).toEqual([3750, 7500, 15_000, 30_000, 45_000, 45_000, 45_000])
    expect(cloud.logs).toContain(
      'Restart batch 1 of 3 throttled (Restart batch 1 of 1 failed with HTTP 429, APIG.0308: The throttling threshold has been reached. (X-Request-Id: r)); retrying in 45 s (attempt 8), until timeout-seconds'
    )
    // The pace dropped once for the throttled request, not once per answer.
    expect(cloud.logs.filter((l) => l.includes('lowering the pace'))).toEqual([
      'WARN Throttled although paced: lowering the pace to 750 servers per minute for the rest of this run.'
    ])
  })

  it('follows the jobs already accepted while a throttled request waits', async () => {
    const cloud = fakeCloud({
      submit: (_, call) =>
        call === 2 || call === 3 ? throttled() : { accepted: true, jobId: `job-${call}`, requestId: 'r' }
    })
    const { byOutcome } = await runScenario(ids(4), 2, cloud, { ...options, pollIntervalMs: 250, deadline: 60_000 })
    expect(byOutcome('succeeded')).toEqual(ids(4))
    // Job 1 (1 s) is followed to the end while request 2 waits to go again.
    const resent = cloud.submittedAt[3]
    expect(cloud.polls.filter((p) => p.jobId === 'job-1' && p.at < resent).length).toBeGreaterThan(0)
  })

  it('sends a request refused with Ecs.0603 (busy) again after about a minute, without slowing the pace', async () => {
    const cloud = fakeCloud({
      submit: (_, call) => (call === 1 ? busy() : { accepted: true, jobId: `job-${call}`, requestId: 'r' })
    })
    const { byOutcome } = await runScenario(ids(2), 2, cloud, { ...options, deadline: 600_000 })
    expect(byOutcome('succeeded')).toEqual(ids(2))
    expect(cloud.submittedAt).toEqual([0, 67_500])
    expect(cloud.logs).toContainEqual(
      expect.stringMatching(/refused because its servers are busy .*Ecs\.0603.*; retrying in 1 min 8 s \(attempt 2\)/)
    )
    expect(cloud.logs.some((l) => l.includes('lowering the pace'))).toBe(false)
  })

  it('honours a Retry-After, when one comes', async () => {
    const cloud = fakeCloud({
      submit: (_, call) => (call === 1 ? throttled(7000) : { accepted: true, jobId: `job-${call}`, requestId: 'r' })
    })
    await runScenario(ids(1), 1, cloud)
    expect(cloud.submittedAt).toEqual([0, 7000])
    expect(cloud.logs).toContainEqual(expect.stringMatching(/retrying in 7 s as Retry-After asks \(attempt 2\)/))
  })

  it('stops when the next wait would pass timeout-seconds: those servers fail as not submitted', async () => {
    const cloud = fakeCloud({ submit: () => throttled() })
    const { byOutcome, results, runs } = await runScenario(ids(2), 2, cloud, {
      ...options,
      pollIntervalMs: 5000,
      deadline: 20_000
    })
    expect(byOutcome('failed')).toEqual(ids(2))
    expect(runs.map((r) => r.status)).toEqual(['not submitted'])
    // Waits of 3.75 s and 7.5 s; the third (15 s) would end at 26.25 s.
    expect(cloud.submittedAt).toEqual([0, 3750, 11_250])
    expect(results[0]).toMatchObject({ error_code: 'APIG.0308' })
    expect(results[0].error_message).toMatch(
      /^Not submitted: the cloud was still throttling after 3 attempts, and waiting again would pass timeout-seconds\. .*APIG\.0308/
    )
    expect(cloud.logs).toContainEqual(
      expect.stringMatching(/; not retrying, since waiting 15 s would pass timeout-seconds \(3 attempts so far\)$/)
    )
  })

  it('never resends a throttled request once an answer leaves its outcome unknown', async () => {
    const cloud = fakeCloud({
      submit: (_, call) =>
        call === 1
          ? throttled()
          : call === 2
            ? new TransportError(what, 'ECONNRESET socket hang up', true)
            : new ApiError(500, 'Common.0001', 'System exception', 'r', what)
    })
    const { byOutcome, results } = await runScenario(ids(2), 1, cloud, { ...options, deadline: 600_000 })
    expect(byOutcome('pending')).toEqual(ids(2))
    // Request 1: throttled, resent, reset; request 2: a 500. Three requests, none sent after an unknown outcome.
    expect(cloud.sent).toEqual([['server-0'], ['server-0'], ['server-1']])
    expect(results[0].error_message).toMatch(/^Outcome unknown: .*ECONNRESET/)
    expect(results[1].error_message).toMatch(/^Outcome unknown: .*Common\.0001/)
  })
})
