import { describe, expect, it } from 'vitest'
import { ApiError, TransportError } from '../../src/cloud/errors'
import { SPLIT_REQUEST_BUDGET, classifySubmitFailure, execute } from '../../src/engine/execute'
import { Ledger } from '../../src/engine/ledger'
import { planBatches } from '../../src/engine/plan'
import { JOB_REFUSAL_GRACE_MS } from '../../src/engine/wait'
import { fakeCloud, ids, options, runScenario } from '../support/fake-cloud'

describe('execute', () => {
  it('submits every batch, then polls all jobs in shared rounds until they finish', async () => {
    const cloud = fakeCloud()
    const { runs, byOutcome } = await runScenario(ids(25), 10, cloud)
    expect(byOutcome('succeeded')).toEqual(ids(25))
    expect(runs.map((r) => [r.jobId, r.status, r.problem])).toEqual([
      ['job-1', 'SUCCESS', null],
      ['job-2', 'SUCCESS', null],
      ['job-3', 'SUCCESS', null]
    ])
    // 1 s job, 250 ms interval: four rounds of three polls, each round at one instant.
    expect(cloud.polls).toHaveLength(12)
    expect(new Set(cloud.polls.map((p) => p.at))).toEqual(new Set([250, 500, 750, 1000]))
    expect(cloud.logs.filter((l) => l.startsWith('Poll round'))).toHaveLength(4)
    expect(cloud.logs).toContain('Poll round 4 (1 s): 25 succeeded, 0 failed, 0 running; 3 of 3 jobs finished')
    expect(cloud.logs).toContain('Restart batch 2 of 3: 10 servers accepted, job job-2')
  })

  it('records per-server failures from sub-jobs and failed batches do not stop the others', async () => {
    const cloud = fakeCloud({
      submit: (_, call) =>
        call === 1
          ? new ApiError(400, 'Ecs.0005', 'Invalid parameter', 'r', 'Restart batch 1 of 2')
          : { accepted: true, jobId: 'job-b', requestId: 'r' },
      job: (_, serverIds) => ({
        status: 'FAIL',
        error_code: 'Ecs.0227',
        entities: {
          sub_jobs: serverIds.map((id, i) =>
            i === 0
              ? { status: 'FAIL', error_code: 'Ecs.0100', fail_reason: 'wrong state', entities: { server_id: id } }
              : { status: 'SUCCESS', entities: { server_id: id } }
          )
        }
      })
    })
    const { runs, results, byOutcome } = await runScenario(ids(4), 2, cloud)
    expect(runs.map((r) => r.status)).toEqual(['rejected', 'FAIL'])
    expect(byOutcome('failed')).toEqual(['server-0', 'server-1', 'server-2'])
    expect(byOutcome('succeeded')).toEqual(['server-3'])
    expect(results[0]).toMatchObject({ error_code: 'Ecs.0005', job_id: null })
    expect(results[2]).toMatchObject({ error_code: 'Ecs.0100', error_message: 'wrong state', job_id: 'job-b' })
    expect(runs[1].problem).toBe('1 of 2 servers failed (job job-b, FAIL)')
  })

  it('stops at the timeout, leaving unfinished servers pending with the reason', async () => {
    const cloud = fakeCloud({ job: () => ({ status: 'RUNNING' }) })
    const { runs, results } = await runScenario(ids(3), 2, cloud, { ...options, deadline: 1000, pollIntervalMs: 300 })
    expect(cloud.now()).toBe(1000)
    expect(cloud.polls.map((p) => p.at)).toEqual([300, 300, 600, 600, 900, 900, 1000, 1000])
    expect(runs.map((r) => r.status)).toEqual(['timed out', 'timed out'])
    expect(results.every((r) => r.outcome === 'pending')).toBe(true)
    expect(results[0].error_message).toBe(
      'Not confirmed: job job-1 had not finished when timeout-seconds ran out (last status RUNNING).'
    )
  })

  it('keeps servers whose sub-job finished even when the job itself times out', async () => {
    const cloud = fakeCloud({
      job: (_, serverIds) => ({
        status: 'RUNNING',
        entities: { sub_jobs: [{ status: 'SUCCESS', entities: { server_id: serverIds[0] } }] }
      })
    })
    const { byOutcome } = await runScenario(ids(2), 2, cloud, { ...options, deadline: 500 })
    expect(byOutcome('succeeded')).toEqual(['server-0'])
    expect(byOutcome('pending')).toEqual(['server-1'])
  })

  it('does not poll when not waiting: accepted servers are pending', async () => {
    const cloud = fakeCloud()
    const { runs, results } = await runScenario(ids(3), 2, cloud, { ...options, wait: false })
    expect(cloud.polls).toHaveLength(0)
    expect(runs.map((r) => r.status)).toEqual(['submitted', 'submitted'])
    expect(results.map((r) => [r.outcome, r.job_id, r.error_message])).toEqual([
      ['pending', 'job-1', null],
      ['pending', 'job-1', null],
      ['pending', 'job-2', null]
    ])
  })

  it('never resends a batch whose request may have arrived, and says why it is pending', async () => {
    const cloud = fakeCloud({
      submit: (_, call) =>
        call === 1
          ? new TransportError('Restart batch 1 of 3', 'ECONNRESET socket hang up', true)
          : call === 2
            ? { accepted: false, problem: 'the cloud answered HTTP 204 without a job_id', requestId: 'r2' }
            : { accepted: true, jobId: 'job-3', requestId: 'r' }
    })
    const { runs, results } = await runScenario(ids(3), 1, cloud)
    expect(cloud.submits()).toBe(3)
    expect(runs.map((r) => r.status)).toEqual(['outcome unknown', 'outcome unknown', 'SUCCESS'])
    expect(results[0]).toMatchObject({ outcome: 'pending', job_id: null })
    expect(results[0].error_message).toMatch(
      /^Outcome unknown: .*ECONNRESET.* not sent again, since that could restart them twice/
    )
    expect(results[1].error_message).toMatch(/HTTP 204 without a job_id \(X-Request-Id: r2\)/)
    expect(results[2].outcome).toBe('succeeded')
  })

  it('stops sending batches after an authentication failure, to protect the key from lockout', async () => {
    const cloud = fakeCloud({
      submit: () => new ApiError(401, 'APIG.0301', 'verify aksk signature fail', 'r', 'Restart batch 1 of 3')
    })
    const { runs, results } = await runScenario(ids(3), 1, cloud)
    expect(cloud.submits()).toBe(1)
    expect(runs.map((r) => r.status)).toEqual(['rejected', 'not submitted', 'not submitted'])
    expect(results.every((r) => r.outcome === 'failed')).toBe(true)
    expect(results[1].error_message).toMatch(
      /^Not submitted: request 1 was refused \(.*APIG\.0301.*\), so no further requests were sent\.$/
    )
  })

  it('keeps polling through transient poll errors, and through a job query refused 4xx until the deadline', async () => {
    let calls = 0
    const cloud = fakeCloud({
      job: (jobId, _serverIds, age) => {
        if (jobId === 'job-2')
          return new ApiError(400, 'Common.0011', 'Failed to query system tasks.', 'r', `Status of job ${jobId}`)
        calls++
        if (calls === 1) return new TransportError(`Status of job ${jobId}`, 'ECONNRESET', true)
        return age >= 750
          ? { status: 'SUCCESS' }
          : { status: 'RUNNING', entities: { sub_jobs: [{ status: 'FAIL', entities: { server_id: 'stranger' } }] } }
      }
    })
    // The deadline (10 s) comes before the grace period for a refused job (60 s) is over.
    const { runs, results } = await runScenario(ids(2), 1, cloud)
    expect(runs.map((r) => r.status)).toEqual(['SUCCESS', 'timed out'])
    expect(results[0].outcome).toBe('succeeded')
    expect(results[1]).toMatchObject({ outcome: 'pending', job_id: 'job-2' })
    expect(results[1].error_message).toMatch(
      /^Not confirmed: job job-2 had not finished when timeout-seconds ran out \(last status not read\); last error: .*Common\.0011/
    )
    expect(cloud.polls.filter((p) => p.jobId === 'job-2').at(-1)?.at).toBe(10_000)
    expect(cloud.logs).toContainEqual(
      expect.stringMatching(
        /Common\.0011.*; the job may not be visible yet, so asking again next round \(for up to 1 min\)$/
      )
    )
    expect(
      cloud.logs.some((l) => l.startsWith('WARN') && l.includes('ECONNRESET') && l.includes('trying again next round'))
    ).toBe(true)
    expect(cloud.logs.some((l) => l.includes('1 servers that were not in request 1; ignored: stranger'))).toBe(true)
  })

  it('confirms a job whose query is refused 4xx for its first seconds, as a job not yet visible', async () => {
    const cloud = fakeCloud({
      job: (jobId, serverIds, age) =>
        age < 20_000
          ? new ApiError(400, 'Common.0011', 'Failed to query system tasks.', 'r', `Status of job ${jobId}`)
          : {
              status: 'SUCCESS',
              entities: { sub_jobs: serverIds.map((id) => ({ status: 'SUCCESS', entities: { server_id: id } })) }
            }
    })
    const { runs, byOutcome } = await runScenario(ids(2), 2, cloud, {
      ...options,
      deadline: 600_000,
      pollIntervalMs: 5000
    })
    expect(byOutcome('succeeded')).toEqual(ids(2))
    expect(runs.map((r) => r.status)).toEqual(['SUCCESS'])
    expect(cloud.polls.map((p) => p.at)).toEqual([5000, 10_000, 15_000, 20_000])
  })

  it('gives up on a job refused 4xx for the whole grace period: its servers stay pending, never failed', async () => {
    const cloud = fakeCloud({
      job: (jobId) => new ApiError(404, 'Common.0011', 'Failed to query system tasks.', 'r', `Status of job ${jobId}`)
    })
    const { runs, results } = await runScenario(ids(2), 2, cloud, {
      ...options,
      deadline: 600_000,
      pollIntervalMs: 5000
    })
    expect(runs.map((r) => r.status)).toEqual(['status unreadable'])
    expect(results.map((r) => r.outcome)).toEqual(['pending', 'pending'])
    expect(results[0].error_message).toMatch(
      /^Not confirmed: the job was accepted, but its status could not be read \(it was refused for 1 min, last: .*HTTP 404, Common\.0011.*\)\. The operation may have been carried out; the request was not sent again\.$/
    )
    // Refused first at 5 s, given up at 65 s: 13 polls, and none after.
    expect(cloud.polls.map((p) => p.at).at(-1)).toBe(65_000)
    expect(cloud.polls).toHaveLength(13)
    expect(JOB_REFUSAL_GRACE_MS).toBe(60_000)
  })

  it.each([401, 403])(
    'stops polling a job at once when its query is answered %i, to protect the key',
    async (status) => {
      const cloud = fakeCloud({
        job: (jobId) => new ApiError(status, 'APIG.0301', 'verify aksk signature fail', 'r', `Status of job ${jobId}`)
      })
      const { runs, results } = await runScenario(ids(1), 1, cloud)
      expect(runs.map((r) => r.status)).toEqual(['status unreadable'])
      expect(cloud.polls).toHaveLength(1)
      expect(results[0]).toMatchObject({ outcome: 'pending' })
      expect(results[0].error_message).toMatch(/could not be read \(the cloud refused to show it, last: .*APIG\.0301/)
    }
  )

  it('splits a batch the cloud refuses for some servers, so the others are still restarted', async () => {
    const refused = new Set(['server-2', 'server-5'])
    const cloud = fakeCloud({
      submit: (serverIds, call) => {
        const bad = serverIds.find((id) => refused.has(id))
        return bad === undefined
          ? { accepted: true, jobId: `job-${call}`, requestId: 'r' }
          : new ApiError(404, 'Ecs.0114', `The ECS ${bad} does not exist.`, 'r', 'x')
      }
    })
    const { runs, results, byOutcome } = await runScenario(ids(8), 8, cloud)
    expect(byOutcome('failed')).toEqual(['server-2', 'server-5'])
    expect(byOutcome('succeeded')).toEqual(['server-0', 'server-1', 'server-3', 'server-4', 'server-6', 'server-7'])
    expect(results[2]).toMatchObject({ error_code: 'Ecs.0114', job_id: null })
    // Each good server was in exactly one accepted request; the extra requests stay bounded.
    const accepted = cloud.sent.filter((batch) => !batch.some((id) => refused.has(id))).flat()
    expect(accepted.sort()).toEqual(byOutcome('succeeded').sort())
    expect(cloud.submits()).toBeLessThanOrEqual(1 + 2 * refused.size * Math.log2(8))
    expect(runs[0]).toMatchObject({ label: '1', status: 'split', jobId: null })
    expect(runs.map((r) => r.label)).toContain('1.1.2')
    expect(runs.filter((r) => r.status === 'rejected').map((r) => r.serverIds)).toEqual([['server-2'], ['server-5']])
  })

  it.each([
    [400, 'Ecs.0100', true],
    [400, 'Ecs.0605', true],
    [404, 'Ecs.0614', true],
    [400, 'Ecs.0005', false],
    [403, 'Ecs.0110', false]
  ])('splits on HTTP %i %s: %s', async (status, code, splits) => {
    const cloud = fakeCloud({
      submit: (serverIds, call) =>
        serverIds.includes('server-0')
          ? new ApiError(status, code, 'refused', 'r', 'x')
          : { accepted: true, jobId: `job-${call}`, requestId: 'r' }
    })
    const { byOutcome } = await runScenario(ids(4), 4, cloud)
    expect(byOutcome('failed')).toEqual(splits ? ['server-0'] : ids(4))
    expect(cloud.submits() > 1).toBe(splits)
  })

  it('stops splitting when the budget of extra requests is spent, and says so', async () => {
    const cloud = fakeCloud({ submit: () => new ApiError(400, 'Ecs.0100', 'wrong state', 'r', 'x') })
    const { results } = await runScenario(ids(1000), 1000, cloud)
    expect(cloud.submits()).toBe(1 + SPLIT_REQUEST_BUDGET)
    expect(results.every((r) => r.outcome === 'failed' && r.error_code === 'Ecs.0100')).toBe(true)
    expect(results.filter((r) => r.error_message?.includes('split budget'))).not.toHaveLength(0)
  })

  it('submits nothing once timeout-seconds has passed, and waits no longer than that', async () => {
    const cloud = fakeCloud({
      submit: (_, call, control) => {
        control.advance(6000)
        return { accepted: true, jobId: `job-${call}`, requestId: 'r' }
      },
      job: () => ({ status: 'RUNNING' })
    })
    const { runs, results } = await runScenario(ids(3), 1, cloud)
    expect(cloud.submits()).toBe(2)
    expect(runs.map((r) => r.status)).toEqual(['timed out', 'timed out', 'not submitted'])
    expect(results[2]).toMatchObject({
      outcome: 'failed',
      error_message: 'Not submitted: timeout-seconds had passed before it could be sent.'
    })
    expect(cloud.polls).toHaveLength(0)
    expect(cloud.now()).toBe(12_000)
  })

  it('on cancellation stops submitting and polling, and reports what is known', async () => {
    const cloud = fakeCloud({
      submit: (_, call, control) => {
        if (call === 2) control.cancel()
        return { accepted: true, jobId: `job-${call}`, requestId: 'r' }
      }
    })
    const { runs, results } = await runScenario(ids(3), 1, cloud)
    expect(cloud.submits()).toBe(2)
    expect(cloud.polls).toHaveLength(0)
    expect(runs.map((r) => r.status)).toEqual(['cancelled', 'cancelled', 'not submitted'])
    expect(results.map((r) => r.outcome)).toEqual(['pending', 'pending', 'failed'])
    expect(results[0]).toMatchObject({
      job_id: 'job-1',
      error_message: 'Not confirmed: the run was cancelled while job job-1 was running (last status not read).'
    })
    expect(results[2].error_message).toBe('Not submitted: the run was cancelled first.')
  })

  it('spaces restart requests evenly at the pace, following jobs in between', async () => {
    const cloud = fakeCloud({
      job: (_, serverIds) => ({ status: 'SUCCESS', entities: { sub_jobs: [] }, n: serverIds.length })
    })
    const { byOutcome } = await runScenario(ids(10), 2, cloud, {
      ...options,
      maxServersPerMinute: 4,
      deadline: 600_000
    })
    expect(byOutcome('succeeded')).toEqual(ids(10))
    // 2 servers at 4 per minute: one request every half minute (and 2% to spare).
    expect(cloud.submittedAt).toEqual([0, 30_600, 61_200, 91_800, 122_400])
    // Jobs are followed while later batches wait for their turn: each finishes before the next is sent.
    expect(cloud.polls.filter((p) => p.at < 61_200).map((p) => p.jobId)).toEqual(['job-1', 'job-2'])
    expect(cloud.logs.filter((l) => l.startsWith('Poll round'))).toHaveLength(5)
  })

  it('says what comes next and when while it waits for the pace, and how long sending has left', async () => {
    const cloud = fakeCloud({
      job: (_, serverIds) => ({ status: 'SUCCESS', entities: { sub_jobs: [] }, n: serverIds.length })
    })
    await runScenario(ids(10), 2, cloud, { ...options, maxServersPerMinute: 4, deadline: 600_000 })
    const next = cloud.logs.filter((l) => l.startsWith('Next:'))
    // Every wait is 30.6 s; the time left counts this wait and the spacing of the servers after the next batch.
    expect(next).toEqual([
      'Next: restart batch 2 of 5 in 30.6 s at 4 servers/min; about 2 min 3 s left to send the rest',
      'Next: restart batch 3 of 5 in 30.6 s at 4 servers/min; about 1 min 32 s left to send the rest',
      'Next: restart batch 4 of 5 in 30.6 s at 4 servers/min; about 1 min 2 s left to send the rest',
      'Next: restart batch 5 of 5 in 30.6 s at 4 servers/min; about 30.6 s left to send the rest'
    ])
    // Short waits are not announced.
    const quick = fakeCloud()
    await runScenario(ids(10), 2, quick, { ...options, maxServersPerMinute: 1000 })
    expect(quick.logs.some((l) => l.startsWith('Next:'))).toBe(false)
  })

  it('records when each request was sent and when its job finished, from the injected clock', async () => {
    const cloud = fakeCloud({
      submit: (_, call) =>
        call === 2
          ? new ApiError(400, 'Ecs.0001', 'bad request', 'r', 'Restart batch 2 of 3')
          : { accepted: true, jobId: `job-${call}`, requestId: 'r' }
    })
    const { runs } = await runScenario(ids(6), 2, cloud, { ...options, maxServersPerMinute: 120, deadline: 600_000 })
    // 2 servers at 120 per minute: a request every 1.02 s, though a refused one takes no share of
    // the pace; jobs take 1 s, and are seen to finish at the poll round (every 250 ms) when they do.
    expect(runs.map((r) => [r.label, r.status, r.submittedAt, r.finishedAt])).toEqual([
      ['1', 'SUCCESS', 0, 1000],
      ['2', 'rejected', 1020, 1020],
      ['3', 'SUCCESS', 1020, 2020]
    ])
    // A refused batch is annotated once by the report: the executor only logs it, with no warning.
    expect(cloud.logs.filter((l) => l.startsWith('WARN'))).toEqual([])
    expect(cloud.logs.filter((l) => l.startsWith('Restart batch 2 of 3:'))).toEqual([
      'Restart batch 2 of 3: Restart batch 2 of 3 failed with HTTP 400, Ecs.0001: bad request (X-Request-Id: r)'
    ])
  })

  it('lowers the pace when the cloud throttles although paced, and sends the throttled request again', async () => {
    let throttledOnce = false
    const cloud = fakeCloud({
      submit: (_, call, control) => {
        if (call === 3 && !throttledOnce) {
          throttledOnce = true
          control.advance(1000)
          return new ApiError(429, 'APIG.0308', 'throttled', 'r', 'x')
        }
        return { accepted: true, jobId: `job-${call}`, requestId: 'r' }
      }
    })
    const { byOutcome } = await runScenario(ids(8), 2, cloud, {
      ...options,
      maxServersPerMinute: 100,
      deadline: 600_000
    })
    expect(cloud.logs).toContain(
      'WARN Throttled although paced: lowering the pace to 75 servers per minute for the rest of this run.'
    )
    expect(byOutcome('succeeded')).toEqual(ids(8))
    // Throttled at 3448; the first wait is the batch's share of a minute at the lowered pace (1632 ms),
    // with half of it jittered (random 0.5 here): 1224 ms. The last batch goes at the lowered pace.
    expect(cloud.submittedAt).toEqual([0, 1224, 2448, 4672, 6304])
    expect(cloud.logs).toContain(
      'Restart batch 3 of 4 throttled (x failed with HTTP 429, APIG.0308: throttled (X-Request-Id: r)); retrying in 1.22 s (attempt 2), until timeout-seconds'
    )
  })

  it('rolls wave by wave, pausing between waves, and stops once failures exceed the budget', async () => {
    const cloud = fakeCloud({
      job: (_, serverIds) => ({
        status: 'FAIL',
        entities: {
          sub_jobs: serverIds.map((id) => ({
            status: id === 'server-2' || id === 'server-4' ? 'FAIL' : 'SUCCESS',
            error_code: 'Ecs.0227',
            entities: { server_id: id }
          }))
        }
      })
    })
    const serverIds = ids(8)
    const ledger = new Ledger(serverIds)
    const runs = await execute(
      planBatches(serverIds, 2, true),
      { ...options, pauseMs: 5000, maxFailures: 1, deadline: 600_000 },
      cloud.deps(ledger)
    )
    // Wave 3 brings the failures to 2 > 1: wave 4 is skipped, not sent.
    expect(runs.map((r) => [r.wave, r.status])).toEqual([
      [1, 'FAIL'],
      [2, 'FAIL'],
      [3, 'FAIL'],
      [4, 'skipped']
    ])
    expect(cloud.submits()).toBe(3)
    expect(cloud.submittedAt[1] - cloud.submittedAt[0]).toBeGreaterThanOrEqual(5000 + 250)
    const results = [...ledger.results().values()]
    expect(results.map((r) => r.outcome)).toEqual([
      'succeeded',
      'succeeded',
      'failed',
      'succeeded',
      'failed',
      'succeeded',
      'skipped',
      'skipped'
    ])
    expect(results[6].error_message).toBe(
      'Skipped: 2 servers failed or were not confirmed by the end of wave 3, more than max-failures (1), so the remaining waves were not started.'
    )
    expect(cloud.logs).toContain('Pausing 5 s before wave 2 of 4')
  })

  it('waits for servers to report ACTIVE again, failing those that settle elsewhere', async () => {
    const cloud = fakeCloud({
      status: (id, now) =>
        id === 'server-1' ? 'ERROR' : id === 'server-2' && now < 5000 ? 'REBOOT' : now < 2000 ? 'HARD_REBOOT' : 'ACTIVE'
    })
    const { results } = await runScenario(ids(3), 3, cloud, { ...options, waitForTargetState: true, deadline: 600_000 })
    expect(results.map((r) => r.outcome)).toEqual(['succeeded', 'failed', 'succeeded'])
    expect(results[1].error_message).toBe('The job succeeded, but the server then reported ERROR, not ACTIVE.')
    // Only servers the job confirmed are checked, and each until it settles.
    expect(cloud.statusReads.filter((r) => r.id === 'server-2').at(-1)?.at).toBeGreaterThanOrEqual(5000)
    expect(cloud.statusReads.filter((r) => r.id === 'server-1')).toHaveLength(1)
  })

  it('leaves servers pending that have not reported the target state by the deadline', async () => {
    const cloud = fakeCloud({ status: () => 'REBOOT' })
    const { results } = await runScenario(ids(1), 1, cloud, { ...options, waitForTargetState: true, deadline: 3000 })
    expect(results[0]).toMatchObject({ outcome: 'pending' })
    expect(results[0].error_message).toBe(
      'Not confirmed: the job succeeded, but timeout-seconds ran out before the server reported ACTIVE (last REBOOT).'
    )
  })

  it('waits for SHUTOFF after a stop, and sends the stop body', async () => {
    const cloud = fakeCloud({ status: () => 'SHUTOFF' })
    const { results } = await runScenario(ids(2), 2, cloud, {
      ...options,
      operation: { kind: 'stop', type: 'HARD' },
      waitForTargetState: true
    })
    expect(results.every((r) => r.outcome === 'succeeded')).toBe(true)
  })

  it.each([
    { kind: 'reboot', target: 'ACTIVE', other: 'SHUTOFF' },
    { kind: 'start', target: 'ACTIVE', other: 'SHUTOFF' },
    { kind: 'stop', target: 'SHUTOFF', other: 'ACTIVE' }
  ] as const)(
    'after a $kind, confirms $target and fails a server that settles in $other',
    async ({ kind, target, other }) => {
      const cloud = fakeCloud({ status: (id) => (id === 'server-0' ? other : target) })
      const { results } = await runScenario(ids(2), 2, cloud, {
        ...options,
        operation: { kind, type: 'SOFT' },
        waitForTargetState: true
      })
      expect(results.map((r) => r.outcome)).toEqual(['failed', 'succeeded'])
      expect(results[0].error_message).toBe(`The job succeeded, but the server then reported ${other}, not ${target}.`)
    }
  )

  it.each([
    { kind: 'stop', target: 'SHUTOFF', before: 'ACTIVE', task: 'powering-off' },
    { kind: 'start', target: 'ACTIVE', before: 'SHUTOFF', task: 'powering-on' },
    { kind: 'reboot', target: 'ACTIVE', before: 'ACTIVE', task: 'reboot_started' }
  ] as const)(
    'waits for a server to settle: a task in progress keeps it waiting, whatever its status ($kind)',
    async ({ kind, target, before, task }) => {
      // The job succeeds at 1 s; the server shows its old status with the task until 4 s.
      const cloud = fakeCloud({
        status: (_, now) => (now < 4000 ? { status: before, taskState: task } : { status: target, taskState: null })
      })
      const { results } = await runScenario(ids(1), 1, cloud, {
        ...options,
        operation: { kind, type: 'SOFT' },
        waitForTargetState: true,
        deadline: 600_000
      })
      expect(results[0].outcome).toBe('succeeded')
      expect(cloud.statusReads.at(-1)?.at).toBeGreaterThanOrEqual(4000)
      expect(cloud.logs).toContain(`Waiting for 1 server to report ${target} with no task in progress`)
    }
  )

  const stopAndWait = { ...options, operation: { kind: 'stop', type: 'SOFT' }, waitForTargetState: true } as const

  it('names the task a server was still carrying out at the deadline', async () => {
    const cloud = fakeCloud({ status: () => ({ status: 'ACTIVE', taskState: 'powering-off' }) })
    const { results } = await runScenario(ids(1), 1, cloud, { ...stopAndWait, deadline: 5000 })
    expect(results[0]).toMatchObject({ outcome: 'pending' })
    expect(results[0].error_message).toBe(
      'Not confirmed: the job succeeded, but timeout-seconds ran out before the server reported SHUTOFF (last ACTIVE, task powering-off).'
    )
  })

  it('fails a server that settled elsewhere only once its task is done', async () => {
    const cloud = fakeCloud({
      status: (_, now) => (now < 3000 ? { status: 'ACTIVE', taskState: 'powering-off' } : 'ERROR')
    })
    const { results } = await runScenario(ids(1), 1, cloud, { ...stopAndWait, deadline: 600_000 })
    expect(results[0]).toMatchObject({ outcome: 'failed' })
    expect(results[0].error_message).toBe('The job succeeded, but the server then reported ERROR, not SHUTOFF.')
    expect(cloud.statusReads.at(-1)?.at).toBeGreaterThanOrEqual(3000)
  })

  it('counts each server once toward the budget when a refused batch was split', async () => {
    const cloud = fakeCloud({
      submit: (serverIds, call) =>
        serverIds.includes('server-0')
          ? new ApiError(404, 'Ecs.0114', 'The ECS does not exist.', 'r', 'x')
          : { accepted: true, jobId: `job-${call}`, requestId: 'r' }
    })
    const serverIds = ids(8)
    const ledger = new Ledger(serverIds)
    await execute(
      planBatches(serverIds, 4, true),
      { ...options, maxFailures: 1, deadline: 600_000 },
      cloud.deps(ledger)
    )
    // One refused server, one failure: within the budget of 1, so wave 2 runs.
    expect([...ledger.results().values()].map((r) => r.outcome)).toEqual([
      'failed',
      ...Array<string>(7).fill('succeeded')
    ])
  })

  it('stops asking for server states once refused, leaving those servers pending with why', async () => {
    const cloud = fakeCloud({ status: () => new ApiError(403, 'Ecs.0110', 'Forbidden', 'r', 'Status of server') })
    const { results } = await runScenario(ids(3), 3, cloud, { ...options, waitForTargetState: true })
    expect(results.every((r) => r.outcome === 'pending')).toBe(true)
    expect(results[0].error_message).toMatch(
      /^Not confirmed: the job succeeded, but its status could not be read \(.*HTTP 403, Ecs\.0110/
    )
    expect(cloud.statusReads).toHaveLength(3)
  })

  it('fails the waves a rolling run had no time for as not submitted, not skipped', async () => {
    const cloud = fakeCloud({ job: () => ({ status: 'RUNNING' }) })
    const { runs, results } = await runScenario(ids(4), 2, cloud, { ...options, deadline: 1000, maxFailures: 0 })
    expect(runs.map((r) => r.status)).toEqual(['timed out', 'timed out'])
    const rolling = fakeCloud({ job: () => ({ status: 'RUNNING' }) })
    const ledger = new Ledger(ids(4))
    const waves = await execute(
      planBatches(ids(4), 2, true),
      { ...options, deadline: 1000, maxFailures: 0 },
      rolling.deps(ledger)
    )
    expect(waves.map((r) => r.status)).toEqual(['timed out', 'not submitted'])
    expect([...ledger.results().values()].slice(2)).toMatchObject([
      { outcome: 'failed', error_message: 'Not submitted: timeout-seconds had passed before it could be sent.' },
      { outcome: 'failed' }
    ])
    expect(results).toHaveLength(4)
  })

  it('rethrows programming errors instead of hiding them as outcomes', async () => {
    const cloud = fakeCloud({ submit: () => new TypeError('bug') })
    await expect(execute(planBatches(ids(1), 1), options, cloud.deps(new Ledger(ids(1))))).rejects.toThrow('bug')
  })
})

describe('classifySubmitFailure', () => {
  const what = 'Restart batch 1 of 1'
  it.each([
    [new TransportError(what, 'ECONNREFUSED', false), true],
    [new TransportError(what, 'timeout', true), false],
    [new ApiError(429, 'APIG.0308', 'throttled', 'r', what), true],
    [new ApiError(202, 'Common.0024', 'flow over limit', 'r', what), true],
    [new ApiError(404, 'Ecs.0114', 'The ECS does not exist.', 'r', what), true],
    [new ApiError(500, 'Common.0001', 'System exception', 'r', what), false],
    [new ApiError(504, 'APIG.0201', 'Backend timeout', 'r', what), false],
    [new ApiError(200, undefined, 'the response is not JSON', 'r', what), false]
  ])('%s → certain %s', (error, certain) => {
    const failure = classifySubmitFailure(error)
    expect(failure.certain).toBe(certain)
    expect(failure.message).toMatch(certain ? /^(Not submitted|Restart batch)/ : /^Outcome unknown/)
  })
})
