/**
 * Issue 12 item 7: the European site's ECS host is `.eu` (Terraform, the site's other services) or
 * `.com` (the SDKs' ECS tables). The default is tried first; only a host name that does not resolve
 * (nothing was sent) moves a request on to the other one, and the host that answers is kept.
 * Real DNS cannot be used here: the transport fails the name lookup for the hosts a test names.
 */
import { describe, expect, it, onTestFinished } from 'vitest'
import { ApiClient } from '../../src/cloud/api'
import { accessKeyAuthenticator } from '../../src/cloud/auth'
import { EcsClient } from '../../src/cloud/ecs'
import { ApiError, TransportError } from '../../src/cloud/errors'
import { HostFailover } from '../../src/cloud/failover'
import { type HttpRequest, type Transport, createHttpTransport } from '../../src/cloud/http'
import { DEFAULT_RETRY_POLICY } from '../../src/cloud/retry'
import { DEFAULT_PROJECT_ID } from '../emulator'
import { EMULATOR_KEY, serverIds, useEmulator } from '../support/fixtures'

const EU = new URL('https://ecs.eu-west-101.myhuaweicloud.eu')
const COM = new URL('https://ecs.eu-west-101.myhuaweicloud.com')
const operation = { kind: 'reboot' as const, type: 'SOFT' as const }

/** Fails the lookup of `unresolved` hosts as Node does (ENOTFOUND, never sent); answers the others. */
function dnsTransport(
  unresolved: string[],
  answer: (request: HttpRequest) => Promise<{ status: number; body: string }>,
  code = 'ENOTFOUND'
): Transport & { sent: HttpRequest[] } {
  const sent: HttpRequest[] = []
  return {
    sent,
    async send(request, what) {
      sent.push(request)
      if (unresolved.includes(request.url.hostname)) {
        throw new TransportError(what, `${code} getaddrinfo ${code} ${request.url.hostname}`, false, code)
      }
      const { status, body } = await answer(request)
      return { status, headers: { 'x-request-id': 'r' }, body }
    },
    close() {}
  }
}

const jobAnswer = () => Promise.resolve({ status: 200, body: JSON.stringify({ job_id: 'job1' }) })

function client(transport: Transport, candidates: URL[]) {
  const logs: string[] = []
  const log = { info: (m: string) => logs.push(m), warning: (m: string) => logs.push(`warning: ${m}`), debug() {} }
  const api = new ApiClient({
    transport,
    authenticator: accessKeyAuthenticator({ accessKeyId: 'AK', secretAccessKey: 'SK' }),
    retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: 2 },
    clock: () => 1_700_000_000_000,
    sleep: () => Promise.resolve(),
    random: () => 0.5,
    log,
    signal: new AbortController().signal
  })
  const ecs = new EcsClient(api, new HostFailover(candidates, log, 'ECS'), 'p')
  return { ecs, logs }
}

describe('ECS host failover for a default endpoint', () => {
  it('uses the default host when it resolves, and says so once', async () => {
    const transport = dnsTransport([], jobAnswer)
    const { ecs, logs } = client(transport, [EU, COM])
    await ecs.submit(operation, serverIds(1), 'Restart batch 1 of 2')
    await ecs.submit(operation, serverIds(1, 1), 'Restart batch 2 of 2')
    expect(transport.sent.map((r) => r.url.host)).toEqual([EU.host, EU.host])
    expect(logs).toEqual([`ECS host ${EU.host} answered; using it for the rest of the run.`])
  })

  it('moves a restart to the other host when the default does not resolve, signed for that host, and stays there', async () => {
    const transport = dnsTransport([EU.hostname], jobAnswer)
    const { ecs, logs } = client(transport, [EU, COM])
    await expect(ecs.submit(operation, serverIds(1), 'Restart batch 1 of 2')).resolves.toMatchObject({
      accepted: true,
      jobId: 'job1'
    })
    await ecs.getJob('job1')
    // One attempt on .eu (a name that does not exist is not asked for again), then .com for good.
    expect(transport.sent.map((r) => r.url.host)).toEqual([EU.host, COM.host, COM.host])
    expect(transport.sent.slice(1).every((r) => r.headers.Host === COM.host)).toBe(true)
    expect(transport.sent[1].headers.Authorization).toMatch(/SignedHeaders=content-type;host;x-project-id;x-sdk-date,/)
    expect(ecs.endpoint.host).toBe(COM.host)
    expect(logs).toEqual([
      `warning: ECS host ${EU.host} does not resolve (ENOTFOUND), so nothing was sent to it; trying ${COM.host}.`,
      `ECS host ${COM.host} answered (after ${EU.host} did not resolve); using it for the rest of the run.`
    ])
  })

  it('fails over on EAI_AGAIN too, but never on an answer or a failure after the name resolved', async () => {
    const again = dnsTransport([EU.hostname], jobAnswer, 'EAI_AGAIN')
    await client(again, [EU, COM]).ecs.submit(operation, serverIds(1), 'x')
    expect(again.sent.at(-1)?.url.host).toBe(COM.host)

    const refused = dnsTransport([], () => Promise.resolve({ status: 403, body: '{"error_code":"APIG.0301"}' }))
    const first = client(refused, [EU, COM])
    await expect(first.ecs.submit(operation, serverIds(1), 'x')).rejects.toBeInstanceOf(ApiError)
    expect(refused.sent.map((r) => r.url.host)).toEqual([EU.host])

    const reset: Transport & { sent: HttpRequest[] } = {
      sent: [],
      send(request, what) {
        this.sent.push(request)
        return Promise.reject(new TransportError(what, 'ECONNRESET socket hang up', true, 'ECONNRESET'))
      },
      close() {}
    }
    await expect(client(reset, [EU, COM]).ecs.submit(operation, serverIds(1), 'x')).rejects.toThrow(/ECONNRESET/)
    expect(reset.sent.map((r) => r.url.host)).toEqual([EU.host])
  })

  it('keeps a host once it answered: a later lookup failure is an error, not a move', async () => {
    let down = false
    const transport = dnsTransport([], jobAnswer)
    const send = transport.send.bind(transport)
    transport.send = (request, what) =>
      down ? Promise.reject(new TransportError(what, 'ENOTFOUND', false, 'ENOTFOUND')) : send(request, what)
    const { ecs } = client(transport, [EU, COM])
    await ecs.getJob('job1')
    down = true
    await expect(ecs.getJob('job1')).rejects.toThrow(/ENOTFOUND/)
    expect(ecs.endpoint.host).toBe(EU.host)
  })

  it('names every host tried when none resolves, as never sent', async () => {
    const transport = dnsTransport([EU.hostname, COM.hostname], jobAnswer)
    const { ecs } = client(transport, [EU, COM])
    const error = await ecs.submit(operation, serverIds(1), 'Restart batch 1 of 1').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TransportError)
    expect((error as TransportError).sent).toBe(false)
    expect((error as TransportError).message).toBe(
      `Restart batch 1 of 1 got no complete answer: no ECS host resolves (${EU.host}, ${COM.host}; last: ENOTFOUND getaddrinfo ENOTFOUND ${COM.hostname}); set 'endpoint' to your region's ECS endpoint`
    )
  })

  it('moves concurrent requests on together, skipping no host', async () => {
    const third = new URL('https://ecs.third.example')
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    const transport = dnsTransport([EU.hostname], async () => {
      await gate
      return { status: 200, body: '{"status":"RUNNING"}' }
    })
    const { ecs } = client(transport, [EU, COM, third])
    const polls = Promise.all([ecs.getJob('a'), ecs.getJob('b'), ecs.getJob('c')])
    await new Promise((resolve) => setImmediate(resolve))
    release()
    await polls
    expect(new Set(transport.sent.filter((r) => r.url.host !== EU.host).map((r) => r.url.host))).toEqual(
      new Set([COM.host])
    )
  })
})

describe('ECS host failover against the emulator', () => {
  const emulators = useEmulator()

  it('reaches the emulator through the second host after the first one does not resolve; the signature verifies', async () => {
    const emulator = await emulators.start({ inventory: [{ id: serverIds(1)[0], name: 'web-1' }] })
    const real = createHttpTransport({ timeoutMs: 5000, maxBodyBytes: 1 << 20, userAgent: 'test' })
    onTestFinished(() => real.close())
    // `ecs.invalid` (RFC 2606) is failed here, before any lookup, rather than asked of real DNS.
    const transport: Transport = {
      send: (request, what, signal) =>
        request.url.hostname === 'ecs.invalid'
          ? Promise.reject(new TransportError(what, 'ENOTFOUND getaddrinfo ENOTFOUND ecs.invalid', false, 'ENOTFOUND'))
          : real.send(request, what, signal),
      close() {}
    }
    const logs: string[] = []
    const log = { info: (m: string) => logs.push(m), warning: (m: string) => logs.push(m), debug() {} }
    const api = new ApiClient({
      transport,
      authenticator: accessKeyAuthenticator(EMULATOR_KEY),
      retry: { ...DEFAULT_RETRY_POLICY, baseDelayMs: 1, maxDelayMs: 2 },
      clock: () => Date.now(),
      sleep: () => Promise.resolve(),
      random: () => 0.5,
      log,
      signal: new AbortController().signal
    })
    const hosts = new HostFailover([new URL('https://ecs.invalid'), new URL(emulator.url)], log, 'ECS')
    const ecs = new EcsClient(api, hosts, DEFAULT_PROJECT_ID)
    expect((await ecs.listServers(undefined)).map((s) => s.id)).toEqual(serverIds(1))
    await expect(ecs.submit(operation, serverIds(1), 'Restart batch 1 of 1')).resolves.toMatchObject({ accepted: true })
    expect(emulator.requests.map((r) => [r.route, r.signatureValid])).toEqual([
      ['list', true],
      ['submit', true]
    ])
    expect(logs.at(-1)).toBe(
      `ECS host ${new URL(emulator.url).host} answered (after ecs.invalid did not resolve); using it for the rest of the run.`
    )
  })
})
