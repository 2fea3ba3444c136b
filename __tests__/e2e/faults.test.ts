import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_REGION,
  type EcsEmulator,
  type EmulatorOptions,
  type Fault,
  type RouteName,
  ecsError,
  gatewayError,
  iamError
} from '../emulator'
import { serverIds, useEmulator } from '../support/fixtures'
import { type ActionRun, type RunOptions, outcomes, printedOutsideMasks, runAction } from '../support/run-action'

// Fault injection: the bundled action against an emulator told to misbehave. Every scenario runs
// with debug logging and temporary credentials, and checks the same guarantees: every server is
// reported exactly once, none is restarted twice, and no secret or signature leaks.

const ACCESS_KEY_ID = 'AKTEMPORARY0000000000'
const SECRET_KEY = 'temporary-secret-key-that-must-never-be-printed'
const SECURITY_TOKEN = 'temporary-security-token-that-must-never-be-printed'
const SERVERS = serverIds(6)
const emulators = useEmulator()

interface Scenario {
  name: string
  emulator?: EmulatorOptions
  faults?: [RouteName, ...Fault[]][]
  inputs?: Record<string, string>
  signalWhen?: (emulator: EcsEmulator) => RunOptions['signalWhen']
  check: (run: ActionRun, emulator: EcsEmulator) => void
}

const throttled = (status: number, body: object, retryAfter = '0'): Fault => ({
  kind: 'respond',
  status,
  body,
  headers: { 'Retry-After': retryAfter }
})
const jobDocument = (status: string, subJobs: object[] = [], extra: object = {}): Fault => ({
  kind: 'respond',
  status: 200,
  body: { status, job_id: 'x', entities: { sub_jobs_total: subJobs.length, sub_jobs: subJobs }, ...extra }
})
const subJob = (id: string, status: string, code: string | null = null) => ({
  status,
  entities: { server_id: id },
  error_code: code,
  fail_reason: code === null ? null : `failure ${code}`
})

/**
 * The cloud throttles without Retry-After for more than a minute of its own clock: the documented
 * limit (here 2 servers per minute, so one batch a minute) counts on the emulator's clock, which
 * each throttled answer moves 10 s ahead, as the minute passes while the action waits. Each batch
 * after the first is throttled 6 times (more than the 5 attempts the action used to make) before
 * the window frees up.
 */
function sustainedThrottling(): Scenario {
  let offset = 0
  return {
    name: 'throttled without Retry-After for over a minute of the cloud clock, every server restarted once',
    emulator: {
      rateLimit: { servers: 2, windowMs: 60_000 },
      now: () => Date.now() + offset,
      onRequest: (request) => {
        if (request.route === 'submit' && request.status === 429) offset += 10_000
      }
    },
    check: (run, emulator) => {
      expect(outcomes(run).succeeded).toEqual(SERVERS)
      for (const id of SERVERS) expect(emulator.restartCount(id)).toBe(1)
      expect(emulator.counters().throttled).toBe(12)
      expect(offset).toBe(120_000)
      expect(emulator.requests.filter((r) => r.status === 429).every((r) => r.route === 'submit')).toBe(true)
      expect(run.stdout).toMatch(/throttled .*APIG\.0308.*; retrying in [\d.]+ s \(attempt 7\), until timeout-seconds/)
      expect(run.stdout).not.toMatch(/Retry-After asks/)
    }
  }
}

const scenarios: Scenario[] = [
  {
    name: 'no fault',
    check: (run) => expect(outcomes(run).succeeded).toEqual(SERVERS)
  },
  {
    name: 'throttled with 429 APIG.0308 and Retry-After, then accepted',
    faults: [['submit', throttled(429, gatewayError('APIG.0308', 'The throttling threshold has been reached.'))]],
    check: (run, emulator) => {
      expect(outcomes(run).succeeded).toEqual(SERVERS)
      expect(emulator.requests.filter((r) => r.route === 'submit')).toHaveLength(4)
      expect(run.stdout).toMatch(
        /throttled .*APIG\.0308.*; retrying in 0 s as Retry-After asks \(attempt 2\), until timeout-seconds/
      )
    }
  },
  {
    name: 'throttled with HTTP 202 Common.0024 twice, then accepted',
    faults: [
      [
        'submit',
        throttled(202, ecsError('Common.0024', 'exceeds flow over limit')),
        throttled(202, ecsError('Common.0024', 'exceeds flow over limit'))
      ]
    ],
    check: (run) => expect(outcomes(run).succeeded).toEqual(SERVERS)
  },
  {
    name: 'throttled with 503 Common.1503, then accepted',
    faults: [['submit', throttled(503, ecsError('Common.1503', 'Api flow control Error because limit.'))]],
    check: (run) => expect(outcomes(run).succeeded).toEqual(SERVERS)
  },
  {
    name: 'throttled for longer than timeout-seconds',
    faults: [
      ['submit', ...Array.from({ length: 20 }, () => throttled(429, gatewayError('APIG.0308', 'throttled'), '5'))]
    ],
    inputs: { 'timeout-seconds': '1' },
    check: (run) => {
      const { failed, results } = outcomes(run)
      expect(failed).toEqual(SERVERS)
      expect(results[0].error_message).toMatch(
        /^Not submitted: the cloud was still throttling after 1 attempt, and waiting again would pass timeout-seconds/
      )
      expect(run.stdout).toMatch(/not retrying, since waiting 5 s would pass timeout-seconds \(1 attempt so far\)/)
    }
  },
  sustainedThrottling(),
  {
    name: 'refused with 501 Ecs.0603 (servers busy), then accepted',
    faults: [['submit', throttled(501, ecsError('Ecs.0603', 'Other commands are being executed.'))]],
    check: (run, emulator) => {
      expect(outcomes(run).succeeded).toEqual(SERVERS)
      expect(emulator.requests.filter((r) => r.route === 'submit')).toHaveLength(4)
      expect(run.stdout).toMatch(/refused because its servers are busy .*Ecs\.0603.*; retrying in 0 s/)
    }
  },
  {
    name: 'job queries refused 400 Common.0011 for a while after each submission',
    emulator: { jobHiddenMs: 400 },
    check: (run, emulator) => {
      expect(outcomes(run).succeeded).toEqual(SERVERS)
      expect(emulator.counters().outcomes['400']).toBeGreaterThan(0)
      expect(run.stdout).toMatch(/Common\.0011.*; the job may not be visible yet, so asking again next round/)
    }
  },
  {
    name: 'servers still ACTIVE, task powering-off, after their stop job succeeded',
    emulator: { inventory: SERVERS.map((id) => ({ id, name: id })), taskSettleMs: 400 },
    inputs: { operation: 'stop', 'wait-for-active': 'true' },
    check: (run, emulator) => {
      expect(outcomes(run).succeeded).toEqual(SERVERS)
      // Read again while the task ran (the job had reported SUCCESS already), not failed as ACTIVE.
      expect(run.stdout).toMatch(/Waiting for \d servers to report SHUTOFF with no task in progress/)
      expect(emulator.requests.filter((r) => r.route === 'server').length).toBeGreaterThan(SERVERS.length)
    }
  },
  {
    name: 'HTTP 500 on a restart request: outcome unknown, not resent',
    faults: [
      ['submit', { kind: 'pass' }, { kind: 'respond', status: 500, body: ecsError('Common.0001', 'System exception') }]
    ],
    check: (run, emulator) => {
      const { pending, succeeded, results } = outcomes(run)
      expect(pending).toEqual(SERVERS.slice(2, 4))
      expect(succeeded).toEqual([...SERVERS.slice(0, 2), ...SERVERS.slice(4)])
      expect(results[2].error_message).toMatch(/^Outcome unknown: .*Common\.0001.*not sent again/)
      expect(emulator.requests.filter((r) => r.route === 'submit')).toHaveLength(3)
    }
  },
  {
    name: 'HTTP 502 from the gateway on a restart request',
    faults: [['submit', { kind: 'respond', status: 502, body: gatewayError('APIG.0201', 'Backend unavailable') }]],
    check: (run) => expect(outcomes(run).pending).toEqual(SERVERS.slice(0, 2))
  },
  {
    name: 'HTTP 401 on the first restart request: nothing more is sent',
    faults: [
      [
        'submit',
        {
          kind: 'respond',
          status: 401,
          body: gatewayError('APIG.0301', 'Incorrect IAM authentication information: verify aksk signature fail')
        }
      ]
    ],
    check: (run, emulator) => {
      expect(outcomes(run).failed).toEqual(SERVERS)
      expect(emulator.requests.filter((r) => r.route === 'submit')).toHaveLength(1)
    }
  },
  {
    name: 'HTTP 403 in the IAM error shape',
    faults: [['submit', { kind: 'respond', status: 403, body: iamError('IAM.0003', 'Forbidden') }]],
    check: (run) => {
      const { failed, results } = outcomes(run)
      expect(failed).toEqual(SERVERS)
      expect(results[0]).toMatchObject({ error_code: 'IAM.0003' })
      expect(results[0].error_message).toMatch(/HTTP 403, IAM\.0003: Forbidden \(X-Request-Id: [0-9a-f]+\)/)
    }
  },
  {
    name: 'connection reset before the restart request is processed',
    faults: [['submit', { kind: 'reset' }]],
    check: (run, emulator) => {
      expect(outcomes(run).pending).toEqual(SERVERS.slice(0, 2))
      expect(emulator.restartCount(SERVERS[0])).toBe(0)
    }
  },
  {
    name: 'connection reset after the batch was processed',
    faults: [['submit', { kind: 'pass' }, { kind: 'reset-after-processing' }]],
    check: (run, emulator) => {
      const { pending, results } = outcomes(run)
      expect(pending).toEqual(SERVERS.slice(2, 4))
      expect(emulator.restartCount(SERVERS[2])).toBe(1)
      expect(results[2].error_message).toMatch(/^Outcome unknown: .* after the request was sent/)
    }
  },
  {
    name: 'a restart request that hangs',
    faults: [['submit', { kind: 'hang' }]],
    inputs: { 'request-timeout-seconds': '0.3' },
    check: (run) => {
      const { pending, results } = outcomes(run)
      expect(pending).toEqual(SERVERS.slice(0, 2))
      expect(results[0].error_message).toMatch(/request-timeout-seconds \(0\.3 s\) ran out after the request was sent/)
    }
  },
  {
    name: 'a job poll that hangs, then answers',
    faults: [['job', { kind: 'hang' }]],
    inputs: { 'request-timeout-seconds': '0.3' },
    check: (run) => expect(outcomes(run).succeeded).toEqual(SERVERS)
  },
  {
    name: 'latency on every route',
    faults: [
      ['projects', { kind: 'delay', ms: 150 }],
      ['submit', { kind: 'delay', ms: 150 }, { kind: 'delay', ms: 150 }, { kind: 'delay', ms: 150 }],
      ['job', { kind: 'delay', ms: 150 }, { kind: 'delay', ms: 150 }]
    ],
    check: (run) => expect(outcomes(run).succeeded).toEqual(SERVERS)
  },
  {
    name: 'a non-JSON answer to a restart request',
    faults: [['submit', { kind: 'respond', status: 200, body: '<html><body>Gateway</body></html>' }]],
    check: (run) => {
      const { pending, results } = outcomes(run)
      expect(pending).toEqual(SERVERS.slice(0, 2))
      expect(results[0].error_message).toMatch(/the response is not JSON: <html><body>Gateway/)
    }
  },
  {
    name: 'a truncated job document, then a good one',
    faults: [['job', { kind: 'respond', status: 200, body: '{"status":"RUNN' }]],
    inputs: { 'batch-size': '6' },
    check: (run) => {
      expect(outcomes(run).succeeded).toEqual(SERVERS)
      expect(run.stdout).toMatch(
        /the response is not JSON: \{"status":"RUNN \(X-Request-Id: \w+\); trying again next round/
      )
    }
  },
  {
    name: 'a huge job document (over 10 MiB), then a good one',
    faults: [
      ['job', { kind: 'respond', status: 200, body: `{"status":"RUNNING","pad":"${'x'.repeat(11 * 1024 * 1024)}"}` }]
    ],
    inputs: { 'batch-size': '6' },
    check: (run) => {
      expect(outcomes(run).succeeded).toEqual(SERVERS)
      expect(run.stdout).toMatch(/the response body is larger than 10485760 bytes/)
    }
  },
  {
    name: 'wrong-typed fields in a job document',
    faults: [
      [
        'job',
        { kind: 'respond', status: 200, body: { status: 5, entities: { sub_jobs: 'many' } } },
        { kind: 'respond', status: 200, body: [1, 2] }
      ]
    ],
    inputs: { 'batch-size': '6' },
    check: (run) => expect(outcomes(run).succeeded).toEqual(SERVERS)
  },
  {
    name: 'a job that never finishes',
    emulator: { jobDurationMs: 600_000 },
    inputs: { 'timeout-seconds': '1' },
    check: (run) => {
      expect(run.outputs.status).toBe('timed-out')
      expect(outcomes(run).pending).toEqual(SERVERS)
    }
  },
  {
    name: 'a job that flips between statuses before it finishes',
    faults: [
      ['job', jobDocument('RUNNING'), jobDocument('INIT'), jobDocument('PENDING_PAYMENT'), jobDocument('RUNNING')]
    ],
    inputs: { 'batch-size': '6' },
    check: (run) => expect(outcomes(run).succeeded).toEqual(SERVERS)
  },
  {
    name: 'a finished job whose sub-jobs omit servers or name strangers',
    emulator: { jobDurationMs: 60_000 },
    faults: [
      [
        'job',
        jobDocument(
          'FAIL',
          [
            subJob(SERVERS[0], 'SUCCESS'),
            subJob(SERVERS[1], 'FAIL', 'Ecs.0100'),
            subJob('99999999-0000-4000-8000-000000000000', 'FAIL', 'Ecs.0227')
          ],
          { error_code: 'Ecs.0611', fail_reason: 'Batch operation failed.' }
        )
      ]
    ],
    inputs: { 'batch-size': '6' },
    check: (run) => {
      const { succeeded, failed, results } = outcomes(run)
      expect(succeeded).toEqual([SERVERS[0]])
      expect(failed).toEqual(SERVERS.slice(1))
      expect(results[1].error_code).toBe('Ecs.0100')
      expect(results[2]).toMatchObject({ error_code: 'Ecs.0611', error_message: 'Batch operation failed.' })
      expect(run.stdout).toMatch(
        /reported 1 servers that were not in request 1; ignored: 99999999-0000-4000-8000-000000000000/
      )
    }
  },
  {
    name: 'a job ID that would change the request path',
    faults: [['submit', { kind: 'respond', status: 200, body: { job_id: '../../cloudservers/action' } }]],
    check: (run, emulator) => {
      expect(outcomes(run).pending).toEqual(SERVERS.slice(0, 2))
      expect(emulator.requests.every((r) => r.route !== 'unknown')).toBe(true)
    }
  },
  {
    name: 'a redirect answer is not followed',
    faults: [['submit', { kind: 'respond', status: 302, body: '', headers: { Location: 'http://127.0.0.1:9/steal' } }]],
    check: (run, emulator) => {
      expect(outcomes(run).pending).toEqual(SERVERS.slice(0, 2))
      expect(emulator.requests.filter((r) => r.route === 'submit')).toHaveLength(3)
    }
  },
  {
    name: 'a batch refused as a whole for one missing server',
    emulator: { rejectServers: { [SERVERS[4]]: { status: 404, code: 'Ecs.0114', reason: 'The ECS does not exist.' } } },
    inputs: { 'batch-size': '6' },
    check: (run) => {
      const { succeeded, failed, results } = outcomes(run)
      expect(failed).toEqual([SERVERS[4]])
      expect(succeeded).toEqual(SERVERS.filter((id) => id !== SERVERS[4]))
      expect(results[4]).toMatchObject({ error_code: 'Ecs.0114' })
    }
  },
  {
    name: 'servers in the wrong state or locked, refused as a whole batch',
    emulator: {
      rejectServers: {
        [SERVERS[0]]: { status: 400, code: 'Ecs.0100', reason: 'The ECS status does not meet requirements.' },
        [SERVERS[5]]: { status: 400, code: 'Ecs.0605', reason: 'ECS locked.' }
      }
    },
    inputs: { 'batch-size': '6' },
    check: (run) => {
      const { succeeded, results } = outcomes(run)
      expect(succeeded).toEqual(SERVERS.slice(1, 5))
      expect([results[0].error_code, results[5].error_code]).toEqual(['Ecs.0100', 'Ecs.0605'])
    }
  },
  {
    name: 'the project lookup fails once with HTTP 500, then answers',
    faults: [['projects', { kind: 'respond', status: 500, body: iamError('IAM.0006', 'Internal error') }]],
    check: (run) => expect(outcomes(run).succeeded).toEqual(SERVERS)
  },
  {
    name: 'the IAM endpoint refuses connections',
    inputs: { 'iam-endpoint': 'http://127.0.0.1:9', 'timeout-seconds': '2' },
    check: (run, emulator) => {
      const { failed, results } = outcomes(run)
      expect(failed).toEqual(SERVERS)
      expect(results[0].error_message).toMatch(
        /^Not submitted: Project lookup for region .* got no complete answer: .*ECONNREFUSED/
      )
      expect(emulator.requests).toHaveLength(0)
    }
  },
  {
    name: 'cancelled by SIGINT while a restart request is in flight',
    emulator: { jobDurationMs: 600_000 },
    faults: [['submit', { kind: 'pass' }, { kind: 'delay', ms: 60_000 }]],
    // Once the second restart request has arrived (and is held for a minute), the workflow is cancelled.
    signalWhen: (emulator) => ({
      ready: () => emulator.requests.filter((r) => r.route === 'submit').length >= 2,
      signal: 'SIGINT'
    }),
    check: (run) => {
      expect(run.exitCode).toBe(1)
      const { pending, failed, results } = outcomes(run)
      expect(pending).toEqual(SERVERS.slice(0, 4))
      expect(failed).toEqual(SERVERS.slice(4))
      expect(results[0].error_message).toMatch(/^Not confirmed: the run was cancelled while job \w+ was running/)
      expect(results[2].error_message).toMatch(
        /^Outcome unknown: .*cancelled while waiting for the answer after the request was sent/
      )
      expect(results[4].error_message).toBe('Not submitted: the run was cancelled first.')
      expect(run.stdout).toContain('Received SIGINT: stopping, and reporting what is known.')
      expect(run.stdout).toMatch(/::error::Cancelled \(SIGINT\)/)
      expect(run.summary).toContain('<h2>ECS batch restart')
    }
  }
]

describe('fault injection', () => {
  it.each(scenarios.map((scenario) => [scenario.name, scenario] as const))('%s', async (_, scenario) => {
    const emulator = await emulators.start({
      jobDurationMs: 50,
      credentials: { [ACCESS_KEY_ID]: { secretAccessKey: SECRET_KEY, securityToken: SECURITY_TOKEN } },
      ...scenario.emulator
    })
    for (const [route, ...faults] of scenario.faults ?? []) emulator.inject(route, ...faults)
    const run = await runAction(
      {
        'server-ids': SERVERS.join(','),
        region: DEFAULT_REGION,
        endpoint: emulator.url,
        'iam-endpoint': emulator.url,
        'access-key-id': ACCESS_KEY_ID,
        'secret-access-key': SECRET_KEY,
        'security-token': SECURITY_TOKEN,
        'batch-size': '2',
        // The emulator has no rate limit unless a scenario sets one: send batches back to back.
        'max-servers-per-minute': '1000000',
        'poll-interval-seconds': '0.05',
        'timeout-seconds': '20',
        ...scenario.inputs
      },
      { env: { RUNNER_DEBUG: '1' }, signalWhen: scenario.signalWhen?.(emulator) }
    )
    scenario.check(run, emulator)

    // Nothing is lost: the three lists are disjoint and cover exactly the input.
    const { succeeded, failed, pending, results } = outcomes(run)
    const all = [...succeeded, ...failed, ...pending]
    expect(new Set(all).size).toBe(all.length)
    expect([...all].sort()).toEqual([...SERVERS].sort())
    expect(results.map((r) => r.id)).toEqual(SERVERS)
    expect(run.summary).not.toBe('')

    // No double restarts.
    for (const id of SERVERS) expect(emulator.restartCount(id)).toBeLessThanOrEqual(1)

    // No secret and no signature anywhere but the masking commands.
    const signatures = emulator.requests.flatMap(
      (r) => /Signature=([0-9a-f]{64})/.exec(String(r.headers.authorization))?.[1] ?? []
    )
    const printed = printedOutsideMasks(run)
    for (const secret of [SECRET_KEY, SECURITY_TOKEN, ...signatures]) expect(printed).not.toContain(secret)
    expect(run.stdout.split('\n').slice(0, 2)).toEqual([`::add-mask::${SECRET_KEY}`, `::add-mask::${SECURITY_TOKEN}`])
  })

  it('is counted in the README figure', async () => {
    const readme = await readFile(resolve(__dirname, '../../README.md'), 'utf8')
    expect(readme).toContain(`${scenarios.length} fault scenarios`)
  })

  it('covers every kind of fault the emulator can inject', () => {
    const kinds = new Set(
      scenarios.flatMap((s) => (s.faults ?? []).flatMap(([, ...faults]) => faults.map((f) => f.kind)))
    )
    expect([...kinds].sort()).toEqual(['delay', 'hang', 'pass', 'reset', 'reset-after-processing', 'respond'])
  })
})
