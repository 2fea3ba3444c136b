import { setTimeout as delay } from 'node:timers/promises'
import { describe, expect, it, onTestFinished } from 'vitest'
import { ApiClient } from '../../src/cloud/api'
import { type AccessKeyCredentials, accessKeyAuthenticator } from '../../src/cloud/auth'
import { EcsClient, lookupProjectId } from '../../src/cloud/ecs'
import { ApiError, TransportError } from '../../src/cloud/errors'
import { createHttpTransport } from '../../src/cloud/http'
import { DEFAULT_RETRY_POLICY } from '../../src/cloud/retry'
import { execute } from '../../src/engine/execute'
import { Ledger } from '../../src/engine/ledger'
import { planBatches } from '../../src/engine/plan'
import { DEFAULT_PROJECT_ID, DEFAULT_REGION, type EmulatorOptions, ecsError, gatewayError } from '../emulator'
import { EMULATOR_KEY, serverIds as ids, useEmulator } from '../support/fixtures'

const { accessKeyId, secretAccessKey } = EMULATOR_KEY
const operation = { kind: 'reboot' as const, type: 'SOFT' as const }
const emulators = useEmulator()

async function setup(
  options: EmulatorOptions = {},
  credentials: AccessKeyCredentials = { accessKeyId, secretAccessKey },
  timeoutMs = 5000,
  maxBodyBytes = 1024 * 1024
) {
  const emulator = await emulators.start(options)
  const transport = createHttpTransport({ timeoutMs, maxBodyBytes, userAgent: 'test' })
  const logs: string[] = []
  const api = new ApiClient({
    transport,
    authenticator: accessKeyAuthenticator(credentials),
    retry: { ...DEFAULT_RETRY_POLICY, baseDelayMs: 1, maxDelayMs: 5 },
    clock: () => Date.now(),
    sleep: (ms) => delay(ms),
    random: () => 0.5,
    log: { info: (m) => logs.push(m), warning: (m) => logs.push(m), debug: (m) => logs.push(m) },
    signal: new AbortController().signal
  })
  const endpoint = new URL(emulator.url)
  const ecs = new EcsClient(api, endpoint, DEFAULT_PROJECT_ID)
  onTestFinished(() => transport.close())
  return { emulator, api, ecs, endpoint, logs }
}

describe('ECS client against the emulator', () => {
  it('submits a signed restart that the emulator verifies, and reads the job to the end', async () => {
    const { emulator, ecs } = await setup({
      jobDurationMs: 50,
      serverFailures: { [ids(2)[1]]: { code: 'Ecs.0100', reason: 'wrong state' } }
    })
    const answer = await ecs.submit(operation, ids(2), 'Restart batch 1 of 1')
    expect(answer).toMatchObject({ accepted: true, jobId: emulator.jobIds()[0] })
    const [request] = emulator.requests
    expect(request).toMatchObject({ route: 'submit', status: 200, signatureValid: true })
    expect(request.headers.authorization).toMatch(/SignedHeaders=content-type;host;x-project-id;x-sdk-date,/)
    expect(JSON.parse(request.body)).toEqual({ reboot: { type: 'SOFT', servers: ids(2).map((id) => ({ id })) } })
    await delay(60)
    const job = (await ecs.getJob(emulator.jobIds()[0])) as { status: string; entities: { sub_jobs: unknown[] } }
    expect(job.status).toBe('FAIL')
    expect(job.entities.sub_jobs).toHaveLength(2)
    expect(emulator.requests.every((r) => r.signatureValid)).toBe(true)
  })

  it('signs the security token of temporary credentials', async () => {
    const { ecs, emulator } = await setup(
      { credentials: { AKTEMPORARY: { secretAccessKey: 'temp-sk', securityToken: 'temp-token' } } },
      { accessKeyId: 'AKTEMPORARY', secretAccessKey: 'temp-sk', securityToken: 'temp-token' }
    )
    await expect(ecs.submit(operation, ids(1), 'x')).resolves.toMatchObject({ accepted: true })
    expect(emulator.requests[0].headers.authorization).toContain('x-security-token')
    expect(emulator.requests[0].headers['x-security-token']).toBe('temp-token')
  })

  it('fails a wrong secret key once with the code, message and request ID, and never retries it', async () => {
    const { ecs, emulator } = await setup({}, { accessKeyId, secretAccessKey: 'wrong' })
    const error = await ecs.submit(operation, ids(1), 'Restart batch 1 of 1').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect((error as ApiError).message).toMatch(
      /^Restart batch 1 of 1 failed with HTTP 401, APIG\.0301: Incorrect IAM authentication information: verify aksk signature fail \(X-Request-Id: [0-9a-f]+\)$/
    )
    expect(emulator.requests).toHaveLength(1)
    expect(emulator.restartCount(ids(1)[0])).toBe(0)
  })

  it('hands a throttled or busy restart straight back, unsent again, for the executor to wait and resend', async () => {
    const { ecs, emulator } = await setup()
    emulator.inject(
      'submit',
      {
        kind: 'respond',
        status: 429,
        body: gatewayError('APIG.0308', 'The throttling threshold has been reached.'),
        headers: { 'Retry-After': '0' }
      },
      { kind: 'respond', status: 202, body: ecsError('Common.0024', 'exceeds flow over limit') },
      { kind: 'respond', status: 501, body: ecsError('Ecs.0603', 'Other commands are being executed.') }
    )
    for (const [status, code] of [
      [429, 'APIG.0308'],
      [202, 'Common.0024'],
      [501, 'Ecs.0603']
    ] as const) {
      await expect(ecs.submit(operation, ids(3), 'Restart batch 1 of 1')).rejects.toMatchObject({ status, code })
    }
    expect(emulator.requests.map((r) => r.status)).toEqual([429, 202, 501])
    expect(ids(3).map((id) => emulator.restartCount(id))).toEqual([0, 0, 0])
    await expect(ecs.submit(operation, ids(3), 'Restart batch 1 of 1')).resolves.toMatchObject({ accepted: true })
    expect(ids(3).map((id) => emulator.restartCount(id))).toEqual([1, 1, 1])
  })

  it.each(['reset', 'reset-after-processing'] as const)(
    'does not resend a restart after a %s: the outcome is unknown',
    async (kind) => {
      const { ecs, emulator } = await setup()
      emulator.inject('submit', { kind })
      const error = await ecs.submit(operation, ids(2), 'Restart batch 1 of 1').catch((e: unknown) => e)
      expect(error).toBeInstanceOf(TransportError)
      expect((error as TransportError).sent).toBe(true)
      expect(emulator.requests.filter((r) => r.route === 'submit')).toHaveLength(1)
      expect(emulator.restartCount(ids(2)[0])).toBe(kind === 'reset' ? 0 : 1)
    }
  )

  it('times out a hung request instead of hanging the step', async () => {
    const { ecs, emulator } = await setup({}, undefined, 200)
    emulator.inject('submit', { kind: 'hang' })
    const error = await ecs.submit(operation, ids(1), 'Restart batch 1 of 1').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TransportError)
    expect((error as TransportError).message).toMatch(
      /got no complete answer: request-timeout-seconds \(0.2 s\) ran out/
    )
    expect(emulator.requests).toHaveLength(1)
  })

  it('retries a job poll after a reset, a hang and a 500', async () => {
    const { ecs, emulator } = await setup({}, undefined, 200)
    await ecs.submit(operation, ids(1), 'x')
    emulator.inject(
      'job',
      { kind: 'reset' },
      { kind: 'hang' },
      { kind: 'respond', status: 500, body: ecsError('Common.0001', 'System exception') }
    )
    await expect(ecs.getJob(emulator.jobIds()[0])).resolves.toMatchObject({ job_id: emulator.jobIds()[0] })
    expect(emulator.requests.filter((r) => r.route === 'job')).toHaveLength(4)
  })

  it('reports a restart answered without a job ID, or with one unsafe for a URL, as not accepted', async () => {
    const { ecs, emulator } = await setup()
    emulator.inject(
      'submit',
      { kind: 'respond', status: 204 },
      { kind: 'respond', status: 200, body: { job_id: '../../x' } }
    )
    await expect(ecs.submit(operation, ids(1), 'x')).resolves.toMatchObject({
      accepted: false,
      problem: 'the cloud answered HTTP 204 without a job_id'
    })
    await expect(ecs.submit(operation, ids(1), 'x')).resolves.toMatchObject({
      accepted: false,
      problem: 'the cloud answered with a malformed job_id "../../x"'
    })
  })

  it('refuses non-JSON and oversize answers with a clear error', async () => {
    const { ecs, emulator } = await setup({}, undefined, 5000, 1000)
    emulator.inject('submit', { kind: 'respond', status: 200, body: '<html>gateway</html>' })
    await expect(ecs.submit(operation, ids(1), 'x')).rejects.toThrow(/the response is not JSON: <html>gateway<\/html>/)
    emulator.inject('submit', { kind: 'respond', status: 200, body: { job_id: 'a'.repeat(5000) } })
    await expect(ecs.submit(operation, ids(1), 'x')).rejects.toThrow(/larger than 1000 bytes/)
  })

  it('counts a refused connection as never sent', async () => {
    const { ecs, emulator } = await setup()
    await emulator.close()
    const error = await ecs.submit(operation, ids(1), 'x').catch((e: unknown) => e)
    expect(error).toMatchObject({ sent: false })
    expect((error as Error).message).toMatch(/ECONNREFUSED/)
  })

  it('looks the project up by region name, and explains a missing one', async () => {
    const { api, endpoint, emulator } = await setup({
      projects: { [DEFAULT_REGION]: DEFAULT_PROJECT_ID, 'eu-west-0': 'p2' }
    })
    await expect(lookupProjectId(api, endpoint, DEFAULT_REGION)).resolves.toBe(DEFAULT_PROJECT_ID)
    expect(emulator.requests[0]).toMatchObject({ route: 'projects', signatureValid: true })
    expect(emulator.requests[0].query.get('name')).toBe(DEFAULT_REGION)
    await expect(lookupProjectId(api, endpoint, 'cn-north-4')).rejects.toThrow(
      /no project is named 'cn-north-4'; check 'region', or set 'project-id'/
    )
  })

  it('lists every server page by page with marker, once each, and reads a server state', async () => {
    const inventory = ids(2100).map((id, i) => ({
      id,
      name: `srv-${i}`,
      tags: [`n=${i}`],
      enterpriseProjectId: i < 5 ? 'ep' : undefined
    }))
    const { ecs, emulator } = await setup({ inventory })
    const listed = await ecs.listServers(undefined)
    expect(listed.map((s) => s.id)).toEqual(inventory.map((s) => s.id))
    expect(listed[7]).toEqual({ id: inventory[7].id, name: 'srv-7', status: 'ACTIVE', tags: ['n=7'] })
    expect(emulator.requests.map((r) => [r.query.get('marker'), r.query.get('limit'), r.query.get('offset')])).toEqual([
      [null, '1000', null],
      [inventory[999].id, '1000', null],
      [inventory[1999].id, '1000', null]
    ])
    expect((await ecs.listServers('ep')).map((s) => s.id)).toEqual(inventory.slice(0, 5).map((s) => s.id))
    expect(emulator.requests.at(-1)?.query.get('enterprise_project_id')).toBe('ep')
    await expect(ecs.getServerStatus(inventory[0].id)).resolves.toEqual({ status: 'ACTIVE', taskState: null })
    await expect(ecs.getServerStatus(ids(1, 9999)[0])).resolves.toBeNull()
  })

  it('lists every server that existed throughout while servers are created and deleted between pages', async () => {
    const inventory = ids(3500).map((id, i) => ({ id, name: `srv-${i}` }))
    // After each page: the 40 servers listed first are deleted, then 25 new ones are created.
    const { ecs, emulator } = await setup({ inventory, churnWhileListing: { delete: 40, create: 25 } })
    const listed = new Set((await ecs.listServers(undefined)).map((s) => s.id))
    expect(inventory.filter((s) => !listed.has(s.id))).toEqual([])
    expect(emulator.requests.filter((r) => r.route === 'list')).toHaveLength(4)
  })

  it('stops with a clear error when the paging does not advance, instead of looping', async () => {
    const { ecs, emulator } = await setup()
    const page = (from: number) => ({
      servers: ids(1000, from).map((id) => ({ id, name: id, status: 'ACTIVE', tags: [] }))
    })
    // Page 3 ends with the same server as page 1: the marker would go round in a circle.
    emulator.inject(
      'list',
      { kind: 'respond', status: 200, body: page(0) },
      { kind: 'respond', status: 200, body: page(1000) },
      { kind: 'respond', status: 200, body: page(0) }
    )
    await expect(ecs.listServers(undefined)).rejects.toThrow(
      `Listing servers stopped after page 3: it ends with server ${ids(1000)[999]} like page 1, so the cloud's paging does not advance. Select with server-ids instead, or try again.`
    )
    expect(emulator.requests.filter((r) => r.route === 'list')).toHaveLength(3)
    emulator.inject('list', {
      kind: 'respond',
      status: 200,
      body: { servers: [...page(0).servers.slice(1), { name: 'no id' }] }
    })
    await expect(ecs.listServers(undefined)).rejects.toThrow(
      'Listing servers stopped after page 1: its last server has no ID to continue from.'
    )
  })

  it('counts a server once when the listing moves and shows it on two pages', async () => {
    const { ecs, emulator } = await setup()
    const page = (from: number, count: number) => ({
      servers: ids(count, from).map((id) => ({ id, name: id, status: 'ACTIVE', tags: [] }))
    })
    // Page 1 is full (1,000); page 2 repeats its last server, as a list that shifted would.
    emulator.inject(
      'list',
      { kind: 'respond', status: 200, body: page(0, 1000) },
      { kind: 'respond', status: 200, body: page(999, 5) }
    )
    const listed = await ecs.listServers(undefined)
    expect(listed).toHaveLength(1004)
    expect(new Set(listed.map((s) => s.id)).size).toBe(1004)
  })

  it('reads listings defensively: entries without an ID are dropped, odd fields defaulted', async () => {
    const { ecs, emulator } = await setup()
    emulator.inject('list', {
      kind: 'respond',
      status: 200,
      body: { servers: [{ id: 'ABC', name: 5, status: null, tags: ['a=b', 7] }, { name: 'no id' }, null] }
    })
    await expect(ecs.listServers(undefined)).resolves.toEqual([
      { id: 'abc', name: '', status: 'UNKNOWN', tags: ['a=b'] }
    ])
    emulator.inject(
      'server',
      { kind: 'respond', status: 200, body: { server: {} } },
      { kind: 'respond', status: 500, body: {} },
      { kind: 'respond', status: 200, body: { server: { status: 'ACTIVE', 'OS-EXT-STS:task_state': 'powering-off' } } },
      { kind: 'respond', status: 200, body: { server: { status: 'SHUTOFF', 'OS-EXT-STS:task_state': '' } } },
      { kind: 'respond', status: 200, body: { server: { status: 'SHUTOFF', 'OS-EXT-STS:task_state': 7 } } }
    )
    await expect(ecs.getServerStatus('x')).resolves.toEqual({ status: 'UNKNOWN', taskState: null })
    await expect(ecs.getServerStatus('x')).resolves.toEqual({ status: 'ACTIVE', taskState: 'powering-off' })
    await expect(ecs.getServerStatus('x')).resolves.toEqual({ status: 'SHUTOFF', taskState: null })
    await expect(ecs.getServerStatus('x')).resolves.toEqual({ status: 'SHUTOFF', taskState: '7' })
  })

  it('runs a whole plan against the emulator: every server restarted exactly once', async () => {
    const servers = ids(2500)
    const failing = servers[1234]
    const { ecs, emulator } = await setup({
      jobDurationMs: 30,
      serverFailures: { [failing]: { code: 'Ecs.0100', reason: 'wrong state' } }
    })
    const ledger = new Ledger(servers)
    const runs = await execute(
      planBatches(servers, 1000),
      {
        operation,
        wait: true,
        deadline: Date.now() + 10_000,
        pollIntervalMs: 20,
        maxServersPerMinute: 1_000_000,
        waitForTargetState: false,
        pauseMs: 0,
        maxFailures: 0
      },
      {
        ecs,
        ledger,
        log: { info() {}, warning() {}, debug() {} },
        clock: () => Date.now(),
        sleep: (ms) => delay(ms),
        random: () => 0.5,
        signal: new AbortController().signal
      }
    )
    expect(runs.map((r) => r.status)).toEqual(['SUCCESS', 'FAIL', 'SUCCESS'])
    const results = [...ledger.results().values()]
    expect(results.filter((r) => r.outcome === 'succeeded')).toHaveLength(2499)
    expect(results.find((r) => r.id === failing)).toMatchObject({ outcome: 'failed', error_code: 'Ecs.0100' })
    expect(servers.every((id) => emulator.restartCount(id) === 1)).toBe(true)
    expect(emulator.requests.every((r) => r.signatureValid)).toBe(true)
  })
})
