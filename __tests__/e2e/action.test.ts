import { dirname } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DEFAULT_PROJECT_ID, DEFAULT_REGION, type EcsEmulator, type EmulatorOptions } from '../emulator'
import { EMULATOR_KEY, serverIds as ids, useEmulator } from '../support/fixtures'
import { type ActionRun, outcomes, runAction } from '../support/run-action'

// The bundled dist/index.js, run as the runner runs it, against the loopback emulator.

const { accessKeyId, secretAccessKey } = EMULATOR_KEY
const emulators = useEmulator()

function start(options: EmulatorOptions = {}): Promise<EcsEmulator> {
  return emulators.start({ jobDurationMs: 50, ...options })
}

function inputsFor(target: EcsEmulator, servers: string[], extra: Record<string, string> = {}): Record<string, string> {
  return {
    'server-ids': servers.join('\n'),
    region: DEFAULT_REGION,
    endpoint: target.url,
    'iam-endpoint': target.url,
    'access-key-id': accessKeyId,
    'secret-access-key': secretAccessKey,
    'poll-interval-seconds': '0.02',
    ...extra
  }
}

function decodeEntities(html: string): string {
  return html.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
}

/** The three lists are disjoint and together are exactly the deduplicated input. */
function expectAccounted(run: ActionRun, servers: string[]): void {
  const { succeeded, failed, pending, results } = outcomes(run)
  const all = [...succeeded, ...failed, ...pending]
  expect(new Set(all).size).toBe(all.length)
  expect([...all].sort()).toEqual([...servers].sort())
  expect(results.map((r) => r.id)).toEqual(servers)
}

describe('the bundled action', () => {
  it('restarts servers in batches, waits, and reports every server (some failing)', async () => {
    const servers = ids(25)
    const target = await start({
      serverFailures: { [servers[7]]: { code: 'Ecs.0100', reason: 'The ECS status does not meet requirements.' } }
    })
    const run = await runAction(
      inputsFor(target, [...servers, servers[3].toUpperCase()], { 'batch-size': '10', type: 'hard' })
    )
    expect(run.exitCode).toBe(1)
    expect(run.outputs.status).toBe('failed')
    const { succeeded, failed, jobs, results } = outcomes(run)
    expect(failed).toEqual([servers[7]])
    expect(succeeded).toHaveLength(24)
    expect(jobs).toEqual(target.jobIds())
    expect(jobs).toHaveLength(3)
    expect(results[7]).toEqual({
      id: servers[7],
      outcome: 'failed',
      job_id: jobs[0],
      error_code: 'Ecs.0100',
      error_message: 'The ECS status does not meet requirements.'
    })
    expectAccounted(run, servers)
    expect(dirname(run.outputs['results-file'])).toBe(run.runnerTemp)
    expect(run.resultsFile).toBe(run.outputs.results)

    // The project was looked up by region, and every request carried a valid signature.
    expect(target.requests[0]).toMatchObject({ route: 'projects', signatureValid: true })
    expect(target.requests.every((r) => r.signatureValid)).toBe(true)
    const submits = target.requests.filter((r) => r.route === 'submit')
    expect(
      submits.map((r) => (JSON.parse(r.body) as { reboot: { type: string; servers: unknown[] } }).reboot.servers.length)
    ).toEqual([10, 10, 5])
    expect(submits.every((r) => r.body.includes('"type":"HARD"'))).toBe(true)
    expect(servers.every((id) => target.restartCount(id) === 1)).toBe(true)

    // Logs: a line per batch with its job ID, progress per poll round, a group per batch, an annotation.
    expect(run.stdout).toContain(`Restart batch 1 of 3: 10 servers accepted, job ${jobs[0]}`)
    expect(run.stdout).toMatch(/Poll round \d+ \([\d.]+ s\): 24 succeeded, 1 failed, 0 running; 3 of 3 jobs finished/)
    expect(run.stdout).toContain(`::group::Batch 1: job ${jobs[0]}, FAIL, 9 succeeded, 1 failed, 0 pending`)
    expect(run.stdout).toContain(`${servers[7]} failed Ecs.0100 The ECS status does not meet requirements.`)
    expect(run.stdout).toMatch(/::error title=Batch 1%3A FAIL::1 of 10 servers failed/)
    expect(run.stdout).toContain('::error::ECS batch restart failed: see the job summary')

    // Summary: heading, counts, batch rows and the failed server.
    expect(run.summary).toContain('<h2>ECS batch restart: ❌ failed</h2>')
    expect(run.summary).toContain('HARD restart of 25 servers in 3 batches')
    expect(run.summary).toContain('<tr><td>25</td><td>24</td><td>1</td><td>0</td><td>0</td></tr>')
    expect(run.summary).toContain(
      `<tr><td>1</td><td>3</td><td>${jobs[2]}</td><td>5</td><td>5</td><td>0</td><td>0</td><td>0</td><td>SUCCESS</td></tr>`
    )
    expect(run.summary).toContain(`<tr><td>${servers[7]}</td><td>${jobs[0]}</td><td>Ecs.0100</td>`)
  })

  it('succeeds with exit code 0 and takes credentials and project from the environment', async () => {
    const servers = ids(3)
    const target = await start()
    const run = await runAction(
      { 'server-ids': servers.join(','), endpoint: target.url, 'poll-interval-seconds': '0.02' },
      {
        env: {
          HUAWEI_CLOUD_ACCESS_KEY_ID: accessKeyId,
          HUAWEICLOUD_SDK_SK: secretAccessKey,
          HUAWEI_CLOUD_PROJECT_ID: DEFAULT_PROJECT_ID,
          GITHUB_SERVER_URL: 'https://github.com',
          GITHUB_REPOSITORY: 'octo/fleet',
          GITHUB_RUN_ID: '4242'
        }
      }
    )
    expect(run.exitCode).toBe(0)
    expect(run.outputs.status).toBe('succeeded')
    expect(outcomes(run).succeeded).toEqual(servers)
    expect(target.requests.some((r) => r.route === 'projects')).toBe(false)
    expect(run.summary).toContain('<a href="https://github.com/octo/fleet/actions/runs/4242">Workflow run</a>')
    expectAccounted(run, servers)
  })

  it('keeps batches within max-servers-per-minute, and says when every request goes at once', async () => {
    const servers = ids(1)
    const target = await start()
    const single = await runAction(inputsFor(target, servers, { 'max-servers-per-minute': '1', wait: 'false' }))
    expect(single.stdout).toContain(
      'batches of up to 1, at 1 servers/min: every request goes at once, then waiting for the jobs (timeout-seconds 600 s)'
    )
    expect(single.outputs.status).toBe('submitted')
  })

  it('fails a plan that cannot be sent within timeout-seconds before the first request, naming the time it needs', async () => {
    // The issue's case: 3,000 servers at the default pace (1,000 a minute) with 30 s.
    const servers = ids(3000)
    const target = await start()
    const run = await runAction(
      inputsFor(target, servers, { 'timeout-seconds': '30', 'project-id': DEFAULT_PROJECT_ID })
    )
    expect(run.exitCode).toBe(1)
    expect(target.requests.filter((r) => r.route === 'submit')).toHaveLength(0)
    const error = run.stdout.match(/^::error::(The plan cannot finish within timeout-seconds.*)$/m)?.[1] ?? ''
    expect(error).toMatch(
      /^The plan cannot finish within timeout-seconds \(30 s\): at max-servers-per-minute 1,000, sending all 3,000 servers takes at least 2 min 3 s, before any waiting for the jobs\. Nothing was restarted\. Raise timeout-seconds above 12\d \(plus the time the jobs take\), raise max-servers-per-minute if your account's quota allows, or select fewer servers\.$/
    )
    expect(decodeEntities(run.summary)).toContain(`<strong>Error:</strong> ${error}`)
    const { failed, results } = outcomes(run)
    expect(failed).toEqual(servers)
    expect(new Set(results.map((r) => r.error_message))).toEqual(new Set([`Not submitted: ${error}`]))
    expect(outcomes(run).plan).toHaveLength(3)
  })

  it('reports timed-out with the unfinished servers pending', async () => {
    const servers = ids(4)
    const target = await start({ jobDurationMs: 60_000 })
    const run = await runAction(
      inputsFor(target, servers, { 'project-id': DEFAULT_PROJECT_ID, 'timeout-seconds': '1', 'batch-size': '2' })
    )
    expect(run.exitCode).toBe(1)
    expect(run.outputs.status).toBe('timed-out')
    const { pending, results } = outcomes(run)
    expect(pending).toEqual(servers)
    expect(results[0].error_message).toMatch(
      /^Not confirmed: job \w+ had not finished when timeout-seconds ran out \(last status (INIT|RUNNING)\)\.$/
    )
    expect(run.summary).toContain('⏱️ timed out')
    expectAccounted(run, servers)
  })

  it('with wait: false submits and leaves the servers pending, with status submitted', async () => {
    const servers = ids(3)
    const target = await start()
    const run = await runAction(inputsFor(target, servers, { wait: 'false', 'project-id': DEFAULT_PROJECT_ID }))
    expect(run.exitCode).toBe(0)
    expect(run.outputs.status).toBe('submitted')
    expect(outcomes(run).pending).toEqual(servers)
    expect(target.requests.some((r) => r.route === 'job')).toBe(false)
  })

  it('with fail-on-error: false reports failures without failing the step', async () => {
    const servers = ids(2)
    const target = await start({ serverFailures: { [servers[0]]: { code: 'Ecs.0605', reason: 'ECS locked.' } } })
    const run = await runAction(inputsFor(target, servers, { 'fail-on-error': 'false' }))
    expect(run.exitCode).toBe(0)
    expect(run.outputs.status).toBe('failed')
    expect(outcomes(run).failed).toEqual([servers[0]])
  })

  it.each([
    [{ type: 'REBOOT' }, /Input 'type': "REBOOT" is not allowed; use SOFT .* or HARD/],
    [{ 'server-ids': 'web-01, ../etc/passwd' }, /Input 'server-ids': 2 of 2 entries are not server IDs/],
    [{ 'server-ids': '' }, /Input 'server-ids': no servers selected/],
    [{ 'batch-size': '1001' }, /Input 'batch-size': "1001" is not allowed; use a whole number from 1 to 1000/],
    [{ 'batch-size': 'ten' }, /Input 'batch-size'/],
    [{ 'timeout-seconds': '-5' }, /Input 'timeout-seconds'/],
    [
      { 'timeout-seconds': '0' },
      /Input 'timeout-seconds': "0" is not allowed; use a number of seconds from 1 to 21600/
    ],
    [{ 'project-id': 'ap-southeast-1' }, /Input 'project-id': must be 32 hexadecimal characters/],
    [{ 'poll-interval-seconds': 'fast' }, /Input 'poll-interval-seconds'/],
    [{ endpoint: 'http://ecs.example.com' }, /Input 'endpoint': .*use https:\/\//],
    [{ 'secret-access-key': '' }, /Input 'secret-access-key': required/],
    [
      { 'health-gate': 'elb', 'max-unavailable-per-pool': '0' },
      /Input 'max-unavailable-per-pool': "0" is not allowed; use a whole number from 1 to 1000, or a percentage/
    ],
    [
      { 'health-gate': 'elb', 'as-protection': 'standby' },
      /Input 'as-protection': standby needs as-group-ids: the scaling groups whose servers go to standby/
    ],
    [{ 'health-gate': 'elb', 'drain-seconds': '-1' }, /Input 'drain-seconds': "-1" is not allowed/],
    [{ 'health-gate': 'alb' }, /Input 'health-gate': "alb" is not allowed; use none or elb/]
  ])('rejects bad input %j with a message naming it, and makes no request', async (bad, message) => {
    const servers = ids(2)
    const target = await start()
    const run = await runAction({ ...inputsFor(target, servers), ...bad })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(message)
    expect(decodeEntities(run.summary)).toMatch(message)
    expect(target.requests).toHaveLength(0)
    expect(run.outputs.status).toBe('failed')
    if (!('server-ids' in bad)) {
      expect(outcomes(run).failed).toEqual(servers)
      expectAccounted(run, servers)
    }
  })

  it.each(['https://svcacct:Pa55w0rd@ecs.example.com', 'http://svcacct:Pa55w0rd@127.0.0.1:8080'])(
    'refuses an endpoint with user-info (%s) without ever showing it',
    async (endpoint) => {
      const servers = ids(2)
      const target = await start()
      const run = await runAction({ ...inputsFor(target, servers), endpoint, 'iam-endpoint': endpoint })
      expect(run.exitCode).toBe(1)
      expect(target.requests).toHaveLength(0)
      expect(run.stdout).toContain(`Input 'endpoint': "${endpoint.replace('svcacct:Pa55w0rd', '***')}" is not allowed`)
      // Two problems: the summary shows them as a list.
      expect(run.summary).toMatch(
        /<strong>Error:<\/strong> 2 inputs are invalid:<\/p>\n<ul>\n<li>Input &#39;endpoint&#39;/
      )
      for (const text of [run.stdout, run.stderr, run.summary, JSON.stringify(run.outputs)]) {
        expect(text).not.toMatch(/svcacct|Pa55w0rd/)
      }
    }
  )

  it('fails every server as not submitted when the credentials are refused, and never shows a secret', async () => {
    const servers = ids(3)
    const token = 'token-that-must-stay-hidden'
    const wrongKey = 'wrong-secret-key-that-must-stay-hidden'
    const target = await start({ credentials: { [accessKeyId]: { secretAccessKey, securityToken: token } } })
    const run = await runAction(
      inputsFor(target, servers, {
        'secret-access-key': wrongKey,
        'security-token': token,
        'project-id': DEFAULT_PROJECT_ID,
        'batch-size': '1'
      }),
      { env: { RUNNER_DEBUG: '1' } }
    )
    expect(run.exitCode).toBe(1)
    // Only the first batch is tried: repeated authentication failures would lock the key.
    expect(target.requests).toHaveLength(1)
    expect(target.requests[0].status).toBe(401)
    const { failed, results } = outcomes(run)
    expect(failed).toEqual(servers)
    expect(results[0].error_code).toBe('APIG.0301')
    expect(results[0].error_message).toMatch(
      /HTTP 401, APIG\.0301: .*verify aksk signature fail \(X-Request-Id: [0-9a-f]+\)/
    )
    expect(results[1].error_message).toMatch(/^Not submitted: request 1 was refused/)
    expect(run.stdout).toContain('::debug::POST /v1/')

    // The secrets are masked before anything else is printed, and appear nowhere else.
    const lines = run.stdout.split('\n')
    expect(lines.slice(0, 2)).toEqual([`::add-mask::${wrongKey}`, `::add-mask::${token}`])
    for (const secret of [wrongKey, token]) {
      expect(lines.slice(2).join('\n')).not.toContain(secret)
      expect(run.stderr).not.toContain(secret)
      expect(run.summary).not.toContain(secret)
      expect(JSON.stringify(run.outputs)).not.toContain(secret)
    }
  })

  it('keeps pending the servers of a restart whose answer was lost, without resending it', async () => {
    const servers = ids(4)
    const target = await start()
    target.inject('submit', { kind: 'reset-after-processing' })
    const run = await runAction(inputsFor(target, servers, { 'project-id': DEFAULT_PROJECT_ID, 'batch-size': '2' }))
    expect(run.outputs.status).toBe('timed-out')
    const { pending, succeeded, results } = outcomes(run)
    expect(pending).toEqual(servers.slice(0, 2))
    expect(succeeded).toEqual(servers.slice(2))
    expect(results[0].error_message).toMatch(
      /^Outcome unknown: .* not sent again, since that could restart them twice\./
    )
    expect(servers.every((id) => target.restartCount(id) === 1)).toBe(true)
    expect(target.requests.filter((r) => r.route === 'submit')).toHaveLength(2)
  })

  it('fails clearly when the project lookup finds nothing', async () => {
    const servers = ids(1)
    const target = await start()
    const run = await runAction(inputsFor(target, servers, { region: 'cn-north-4' }))
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(
      /::error::Project lookup for region cn-north-4 failed with HTTP 200, no project is named 'cn-north-4'/
    )
    expect(outcomes(run).results[0]).toMatchObject({
      outcome: 'failed',
      error_message: expect.stringMatching(/^Not submitted: Project lookup/) as unknown
    })
    expect(target.requests.filter((r) => r.route === 'submit')).toHaveLength(0)
  })
})
