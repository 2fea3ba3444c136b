import { describe, expect, it } from 'vitest'
import { ApiClient, type ApiClientOptions, type ApiRequest, interpretResponse, isThrottling } from '../../src/cloud/api'
import { type Authenticator, accessKeyAuthenticator, anonymous, tokenAuthenticator } from '../../src/cloud/auth'
import { ApiError, TransportError, gatewayCode, parseErrorBody } from '../../src/cloud/errors'
import type { HttpRequest, HttpResponse, Transport } from '../../src/cloud/http'
import { DEFAULT_RETRY_POLICY, backoffDelayMs, parseRetryAfterMs, retryDelayMs } from '../../src/cloud/retry'
import { gatewayQuery, signRequest } from '../emulator/signature'

type Step = HttpResponse | TransportError

const json = (status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse => ({
  status,
  headers: { 'x-request-id': 'req-1', ...headers },
  body: JSON.stringify(body)
})

/** Answers from a script; the retry logic is pure, so no server is needed here. */
function scripted(steps: Step[]): Transport & { sent: HttpRequest[] } {
  const sent: HttpRequest[] = []
  return {
    sent,
    send(request) {
      sent.push(request)
      const step = steps.shift()
      if (step === undefined) throw new Error('script exhausted')
      return step instanceof TransportError ? Promise.reject(step) : Promise.resolve(step)
    },
    close() {}
  }
}

const passThrough: Authenticator = {
  authorize: (request) => Promise.resolve({ ...request, headers: { ...request.headers, Authorization: 'x' } }),
  renew: () => Promise.resolve(false)
}

function client(
  transport: Transport,
  signal = new AbortController().signal,
  authenticator = passThrough,
  extra: Partial<ApiClientOptions> = {}
) {
  const sleeps: number[] = []
  const logs: string[] = []
  const api = new ApiClient({
    transport,
    authenticator,
    retry: DEFAULT_RETRY_POLICY,
    clock: () => 1_700_000_000_000,
    sleep: (ms) => {
      sleeps.push(ms)
      return Promise.resolve()
    },
    random: () => 0.5,
    log: { info: (m) => logs.push(m), warning: (m) => logs.push(m), debug: () => {} },
    signal,
    ...extra
  })
  return { api, sleeps, logs }
}

const post: ApiRequest = {
  what: 'Restart batch 1 of 1',
  method: 'POST',
  endpoint: new URL('https://ecs.example.com'),
  path: '/v1/p/cloudservers/action',
  body: { reboot: { type: 'SOFT', servers: [{ id: 'a' }] } },
  projectId: 'p',
  idempotent: false
}
const get: ApiRequest = {
  ...post,
  what: 'Status of job j',
  method: 'GET',
  path: '/v1/p/jobs/j',
  body: undefined,
  idempotent: true
}

describe('ApiClient', () => {
  it('sends the body it built, with host, content type (the SDKs’ own) and project headers for the authenticator', async () => {
    const transport = scripted([json(200, { job_id: 'j' })])
    const { api } = client(transport)
    const response = await api.request({ ...post, query: { a: 'b c' } })
    expect(response).toEqual({
      status: 200,
      body: { job_id: 'j' },
      requestId: 'req-1',
      headers: { 'x-request-id': 'req-1' }
    })
    const [request] = transport.sent
    expect(request.url.href).toBe('https://ecs.example.com/v1/p/cloudservers/action?a=b%20c')
    expect(request.body).toBe('{"reboot":{"type":"SOFT","servers":[{"id":"a"}]}}')
    expect(request.headers).toEqual({
      Host: 'ecs.example.com',
      'Content-Type': 'application/json;charset=UTF-8',
      'X-Project-Id': 'p',
      Authorization: 'x'
    })
  })

  it('puts a query on the wire as it signs it (a space as %20), and the recorded request verifies', async () => {
    const transport = scripted([json(200, { servers: [] })])
    const key = { accessKeyId: 'AKWIRE', secretAccessKey: 'SKWIRE' }
    const { api } = client(transport, undefined, accessKeyAuthenticator(key))
    await api.request({ ...get, query: { name: 'web 01', tags: 'env=prod', note: 'a+b ü' } })
    const [sent] = transport.sent
    // What @actions/http-client puts in the request line: the URL string's path and query.
    const wire = new URL(sent.url.toString())
    expect(wire.search).toBe('?name=web%2001&tags=env%3Dprod&note=a%2Bb%20%C3%BC')
    // Read as the gateway reads it (RFC 3986, `+` a plus sign): the keys and values meant.
    const query = gatewayQuery(wire.search)
    expect(Object.fromEntries(query)).toEqual({ name: 'web 01', tags: 'env=prod', note: 'a+b ü' })
    const headers = Object.fromEntries(Object.entries(sent.headers).map(([name, value]) => [name.toLowerCase(), value]))
    const signedNames = /SignedHeaders=([^,]+),/.exec(headers.authorization)?.[1].split(';') ?? []
    const signed = Object.fromEntries(signedNames.map((name) => [name, headers[name]]))
    const expected = signRequest(
      { method: 'GET', path: wire.pathname, query, headers: signed, body: '' },
      key.accessKeyId,
      key.secretAccessKey
    )
    expect(headers.authorization).toBe(expected.authorization)
  })

  it('retries throttling, including a 202 with Common.0024, honouring Retry-After', async () => {
    const transport = scripted([
      json(
        429,
        { error_code: 'APIG.0308', error_msg: 'The throttling threshold has been reached.' },
        { 'retry-after': '3' }
      ),
      json(202, { error: { code: 'Common.0024', message: 'exceeds flow over limit' } }),
      json(503, { error: { code: 'Common.1503', message: 'Api flow control Error' } }),
      json(200, { job_id: 'j' })
    ])
    const { api, sleeps, logs } = client(transport)
    await expect(api.request(post)).resolves.toMatchObject({ body: { job_id: 'j' } })
    expect(transport.sent).toHaveLength(4)
    expect(sleeps).toEqual([
      3000,
      backoffDelayMs(2, DEFAULT_RETRY_POLICY, () => 0.5),
      backoffDelayMs(3, DEFAULT_RETRY_POLICY, () => 0.5)
    ])
    expect(logs[0]).toMatch(
      /^Restart batch 1 of 1 throttled \(.*APIG\.0308.*\); retrying in 3 s as Retry-After asks \(attempt 2 of 5\)/
    )
  })

  it('gives up on throttling after the bounded number of attempts', async () => {
    const throttled = json(429, { error_code: 'APIG.0308', error_msg: 'slow down' })
    const transport = scripted(Array.from({ length: 5 }, () => throttled))
    const { api, sleeps } = client(transport)
    await expect(api.request(post)).rejects.toMatchObject({ status: 429, code: 'APIG.0308' })
    expect(transport.sent).toHaveLength(DEFAULT_RETRY_POLICY.maxAttempts)
    expect(sleeps).toHaveLength(DEFAULT_RETRY_POLICY.maxAttempts - 1)
  })

  it.each([401, 403])('never retries HTTP %i, which could lock the access key', async (status) => {
    const transport = scripted([json(status, { error_code: 'APIG.0301', error_msg: 'verify aksk signature fail' })])
    const { api } = client(transport)
    await expect(api.request(get)).rejects.toThrow(
      /HTTP \d+, APIG\.0301: verify aksk signature fail \(X-Request-Id: req-1\)/
    )
    expect(transport.sent).toHaveLength(1)
  })

  it.each(['ENOTFOUND', 'CERT_HAS_EXPIRED', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'ERR_TLS_CERT_ALTNAME_INVALID'])(
    'does not retry %s, which asking again cannot mend',
    async (code) => {
      const failure = new TransportError(get.what, code, false, code)
      const transport = scripted([failure, json(200, {})])
      await expect(client(transport).api.request(get)).rejects.toBe(failure)
      expect(transport.sent).toHaveLength(1)
    }
  )

  it('fails a request that could not be signed as never sent, so a restart batch is reported, not lost', async () => {
    const transport = scripted([json(200, { job_id: 'j' })])
    const unsignable: Authenticator = {
      authorize: () => Promise.reject(new Error('the temporary access keys expired and renewing them failed')),
      renew: () => Promise.resolve(false)
    }
    const { api } = client(transport, undefined, unsignable)
    const failure = await api.request(post).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(TransportError)
    expect(failure).toMatchObject({ sent: false })
    expect((failure as TransportError).message).toBe(
      `${post.what} got no complete answer: the request could not be signed: the temporary access keys expired and renewing them failed`
    )
    expect(transport.sent).toHaveLength(0)
  })

  it('retries EAI_AGAIN, a resolver that is only slow', async () => {
    const transport = scripted([new TransportError(get.what, 'EAI_AGAIN', false, 'EAI_AGAIN'), json(200, {})])
    await expect(client(transport).api.request(get)).resolves.toMatchObject({ status: 200 })
    expect(transport.sent).toHaveLength(2)
  })

  it('retries a restart request only when it certainly did not leave this machine', async () => {
    const refused = new TransportError(post.what, 'ECONNREFUSED', false)
    const reset = new TransportError(post.what, 'ECONNRESET socket hang up', true)
    const first = scripted([refused, json(200, { job_id: 'j' })])
    await expect(client(first).api.request(post)).resolves.toMatchObject({ body: { job_id: 'j' } })
    const second = scripted([reset, json(200, { job_id: 'j' })])
    await expect(client(second).api.request(post)).rejects.toBe(reset)
    expect(second.sent).toHaveLength(1)
  })

  it('does not resend a restart request after a server error, but retries job polls', async () => {
    const failing = json(502, { error_code: 'APIG.0201', error_msg: 'Backend unavailable' })
    const postTransport = scripted([failing])
    await expect(client(postTransport).api.request(post)).rejects.toMatchObject({ status: 502 })
    expect(postTransport.sent).toHaveLength(1)
    const getTransport = scripted([
      failing,
      new TransportError(get.what, 'timeout', true),
      json(200, { status: 'RUNNING' })
    ])
    await expect(client(getTransport).api.request(get)).resolves.toMatchObject({ body: { status: 'RUNNING' } })
    expect(getTransport.sent).toHaveLength(3)
  })

  it('does not retry other client errors', async () => {
    const transport = scripted([json(400, { error: { code: 'Ecs.0005', message: 'Invalid parameter' } })])
    await expect(client(transport).api.request(get)).rejects.toMatchObject({ status: 400, code: 'Ecs.0005' })
    expect(transport.sent).toHaveLength(1)
  })
})

describe('ApiClient limits', () => {
  it('does not start a retry that would wait past giveUpAt, and says why', async () => {
    const throttled = json(429, { error_code: 'APIG.0308', error_msg: 'slow down' }, { 'retry-after': '30' })
    const transport = scripted([throttled])
    const { api, sleeps, logs } = client(transport)
    await expect(api.request({ ...post, giveUpAt: 1_700_000_000_000 + 10_000 })).rejects.toMatchObject({ status: 429 })
    expect(transport.sent).toHaveLength(1)
    expect(sleeps).toEqual([])
    expect(logs).toEqual([
      expect.stringMatching(/throttled .*; not retrying, since waiting 30 s would pass timeout-seconds$/)
    ])
  })

  it('names the limit giveUpAt stands for when the caller says it is not timeout-seconds', async () => {
    const throttled = json(429, { error_code: 'APIG.0308', error_msg: 'slow down' }, { 'retry-after': '30' })
    const giveUpLimit = (at: number) => `the limit at ${at}`
    const { api, logs } = client(scripted([throttled]), undefined, undefined, { giveUpLimit })
    await expect(api.request({ ...get, giveUpAt: 1_700_000_010_000 })).rejects.toMatchObject({ status: 429 })
    expect(logs).toEqual([
      expect.stringMatching(/throttled .*; not retrying, since waiting 30 s would pass the limit at 1700000010000$/)
    ])
  })

  it('sends nothing once the run is cancelled, and reports that as never sent', async () => {
    const controller = new AbortController()
    controller.abort('SIGINT')
    const transport = scripted([])
    const error = await client(transport, controller.signal)
      .api.request(post)
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TransportError)
    expect(error).toMatchObject({ sent: false, message: expect.stringMatching(/cancelled before it was sent/) })
    expect(transport.sent).toHaveLength(0)
  })

  it('stops retrying when cancelled during a backoff wait', async () => {
    const controller = new AbortController()
    const throttled = json(429, { error_code: 'APIG.0308', error_msg: 'slow down' })
    const transport = scripted([throttled, throttled])
    const { api } = client(transport, controller.signal)
    const waiting = api.request(post)
    controller.abort('SIGTERM')
    await expect(waiting).rejects.toMatchObject({ sent: false })
    expect(transport.sent).toHaveLength(1)
  })
})

describe('interpretResponse', () => {
  it('turns a non-JSON body into an error that quotes a short piece of it', () => {
    const response = { status: 200, headers: {}, body: `<html>${'x'.repeat(500)}</html>` }
    expect(() => interpretResponse(response, 'Job poll', 0)).toThrow(/the response is not JSON: <html>x+…/)
  })

  it('accepts an empty 2xx body', () => {
    expect(interpretResponse({ status: 204, headers: {}, body: '' }, 'x', 0)).toEqual({
      status: 204,
      body: undefined,
      requestId: undefined,
      headers: {}
    })
  })

  it('says when an error answer has no details', () => {
    const error = (() => {
      try {
        interpretResponse({ status: 500, headers: { 'x-request-id': ['r1', 'r2'] }, body: '{}' }, 'Job poll', 0)
      } catch (caught) {
        return caught as ApiError
      }
    })()
    expect(error?.message).toBe('Job poll failed with HTTP 500, no error details in the response (X-Request-Id: r1)')
  })
})

describe('gateway codes', () => {
  it('gives one spelling for APIG. and APIGW. codes and leaves others alone', () => {
    expect(gatewayCode('APIGW.0308')).toBe('APIG.0308')
    expect(gatewayCode('APIG.0307')).toBe('APIG.0307')
    expect(gatewayCode('APIGW.0301')).toBe('APIG.0301')
    expect(gatewayCode('Ecs.0114')).toBe('Ecs.0114')
    expect(gatewayCode('XAPIGW.0308')).toBe('XAPIGW.0308')
    expect(gatewayCode(undefined)).toBeUndefined()
  })

  it.each(['APIG.0308', 'APIGW.0308'])('takes %s as throttling whatever the status, even a 2xx', async (code) => {
    const transport = scripted([json(202, { error_code: code, error_msg: 'busy' }), json(200, { job_id: 'j' })])
    const { api, sleeps } = client(transport)
    await expect(api.request(post)).resolves.toMatchObject({ body: { job_id: 'j' } })
    expect(sleeps).toHaveLength(1)
    expect(isThrottling(new ApiError(400, code, 'busy', undefined, 'x'))).toBe(true)
    expect(isThrottling(new ApiError(400, code.replace('0308', '0309'), 'other', undefined, 'x'))).toBe(false)
  })
})

describe('parseErrorBody', () => {
  it('reads the three documented error shapes', () => {
    expect(parseErrorBody({ error: { code: 'Ecs.0114', message: 'The ECS does not exist.' } })).toEqual({
      code: 'Ecs.0114',
      message: 'The ECS does not exist.'
    })
    expect(parseErrorBody({ error_code: 'APIGW.0308', error_msg: 'throttled', request_id: 'r' })).toEqual({
      code: 'APIGW.0308',
      message: 'throttled'
    })
    expect(
      parseErrorBody({
        error: { code: 401, message: 'The request you have made requires authentication.', title: 'Unauthorized' }
      })
    ).toEqual({
      code: '401',
      message: 'The request you have made requires authentication.'
    })
    expect(parseErrorBody({ code: 'Common.0011', message: 'Failed to query system tasks.' })).toEqual({
      code: 'Common.0011',
      message: 'Failed to query system tasks.'
    })
    for (const body of [undefined, null, 'text', 3, { error: null }, { job_id: 'x' }]) {
      expect(parseErrorBody(body)).toEqual({ code: undefined, message: undefined })
    }
  })

  it('reads Nova faults: any single key holding a code and/or a message, named by the fault', () => {
    expect(parseErrorBody({ itemNotFound: { code: 404, message: 'Instance abc could not be found.' } })).toEqual({
      code: 'itemNotFound',
      message: 'Instance abc could not be found.'
    })
    for (const fault of ['badRequest', 'computeFault', 'forbidden', 'conflictingRequest', 'overLimit']) {
      expect(parseErrorBody({ [fault]: { code: 400, message: `${fault} happened` } })).toEqual({
        code: fault,
        message: `${fault} happened`
      })
    }
    expect(parseErrorBody({ overLimit: { code: 413, message: 'Rate limited', retryAfter: '5' } })).toEqual({
      code: 'overLimit',
      message: 'Rate limited'
    })
    expect(parseErrorBody({ badRequest: { message: 'no code' } })).toEqual({ code: 'badRequest', message: 'no code' })
    expect(parseErrorBody({ conflictingRequest: { code: 409 } })).toEqual({ code: 'conflictingRequest' })
    // A string code is kept; two keys, arrays, or objects without code/message are not faults.
    expect(parseErrorBody({ someFault: { code: 'X.1', message: 'm' } })).toEqual({ code: 'X.1', message: 'm' })
    for (const body of [
      { a: { message: 'm' }, b: { message: 'n' } },
      { servers: [{ message: 'm' }] },
      { server: { id: 'x', status: 'ACTIVE' } }
    ]) {
      expect(parseErrorBody(body)).toEqual({})
    }
  })

  it('unwraps a Nova fault JSON-encoded in the message of an ECS error', () => {
    const message = JSON.stringify({ badRequest: { code: 400, message: 'Invalid flavorRef provided.' } })
    expect(parseErrorBody({ error: { code: 'Ecs.1000', message } })).toEqual({
      code: 'Ecs.1000',
      message: 'badRequest: Invalid flavorRef provided.'
    })
    expect(parseErrorBody({ error: { code: 'Ecs.1000', message: '{not json' } })).toEqual({
      code: 'Ecs.1000',
      message: '{not json'
    })
  })

  it('turns a Nova 404 into an ApiError with the fault and its message', () => {
    const response = json(404, { itemNotFound: { code: 404, message: 'Instance x could not be found.' } })
    expect(() => interpretResponse(response, 'Status of server x', 0)).toThrow(
      'Status of server x failed with HTTP 404, itemNotFound: Instance x could not be found. (X-Request-Id: req-1)'
    )
  })
})

describe('retry timing', () => {
  it('backs off exponentially with jitter, capped', () => {
    const policy = { maxAttempts: 10, baseDelayMs: 1000, maxDelayMs: 8000 }
    expect([1, 2, 3, 4, 5].map((n) => backoffDelayMs(n, policy, () => 0))).toEqual([500, 1000, 2000, 4000, 4000])
    expect([1, 2, 3, 4, 5].map((n) => backoffDelayMs(n, policy, () => 1))).toEqual([1000, 2000, 4000, 8000, 8000])
  })

  it('reads Retry-After as seconds or a date, and caps it', () => {
    const now = Date.parse('2024-01-02T03:04:05Z')
    expect(parseRetryAfterMs('2', now)).toBe(2000)
    expect(parseRetryAfterMs(' 0.5 ', now)).toBe(500)
    expect(parseRetryAfterMs('Tue, 02 Jan 2024 03:04:15 GMT', now)).toBe(10_000)
    expect(parseRetryAfterMs('Tue, 02 Jan 2024 03:04:00 GMT', now)).toBe(0)
    expect(parseRetryAfterMs('soon', now)).toBeUndefined()
    expect(parseRetryAfterMs(undefined, now)).toBeUndefined()
    expect(retryDelayMs(1, 3_600_000, DEFAULT_RETRY_POLICY, () => 0)).toBe(DEFAULT_RETRY_POLICY.maxDelayMs)
  })
})

describe('token sign-in', () => {
  it('sends the token without signing, and renews it once when the cloud says it expired', async () => {
    let issued = 0
    const authenticator = tokenAuthenticator(() => Promise.resolve(`token-${++issued}`), 'token-0')
    const expired = json(401, { error_code: 'APIG.0307', error_msg: 'The token must be updated.' })
    const transport = scripted([expired, json(200, { status: 'RUNNING' }), expired, expired])
    const { api, logs } = client(transport, new AbortController().signal, authenticator)
    await expect(api.request(get)).resolves.toMatchObject({ body: { status: 'RUNNING' } })
    expect(transport.sent.map((r) => r.headers['X-Auth-Token'])).toEqual(['token-0', 'token-1'])
    expect(transport.sent[0].headers.Authorization).toBeUndefined()
    expect(logs).toContain('Status of job j: the token had expired; signed in again and retrying once')
    // Only once per run: a second expiry is an error like any other 401.
    await expect(api.request(get)).rejects.toMatchObject({ status: 401, code: 'APIG.0307' })
    expect(issued).toBe(1)
  })

  it.each(['APIG.0307', 'APIGW.0307'])('renews the token on %s, either spelling of the gateway code', async (code) => {
    let issued = 0
    const authenticator = tokenAuthenticator(() => Promise.resolve(`token-${++issued}`), 'token-0')
    const transport = scripted([json(401, { error_code: code, error_msg: 'expired' }), json(200, { status: 'INIT' })])
    const { api } = client(transport, new AbortController().signal, authenticator)
    await expect(api.request(get)).resolves.toMatchObject({ status: 200 })
    expect(transport.sent.map((r) => r.headers['X-Auth-Token'])).toEqual(['token-0', 'token-1'])
  })

  it('renews once for all the requests that found the token expired at the same time', async () => {
    let issued = 0
    const authenticator = tokenAuthenticator(() => Promise.resolve(`token-${++issued}`), 'token-0')
    const expired = json(401, { error_code: 'APIG.0307', error_msg: 'The token must be updated.' })
    const sent: HttpRequest[] = []
    const transport: Transport = {
      send(request) {
        sent.push(request)
        return Promise.resolve(
          request.headers['X-Auth-Token'] === 'token-0' ? expired : json(200, { status: 'RUNNING' })
        )
      },
      close() {}
    }
    const { api } = client(transport, new AbortController().signal, authenticator)
    const results = await Promise.all([api.request(get), api.request(get), api.request(get)])
    expect(results.map((r) => r.status)).toEqual([200, 200, 200])
    expect(issued).toBe(1)
    expect(sent.map((r) => r.headers['X-Auth-Token']).sort()).toEqual([
      'token-0',
      'token-0',
      'token-0',
      'token-1',
      'token-1',
      'token-1'
    ])
  })

  it('keeps the old token when renewing fails, so the run goes on reporting, not crashing', async () => {
    const authenticator = tokenAuthenticator(() => Promise.reject(new Error('IAM unreachable')), 'token-0')
    const expired = json(401, { error_code: 'APIG.0307', error_msg: 'The token must be updated.' })
    const transport = scripted([expired, expired])
    const { api } = client(transport, new AbortController().signal, authenticator)
    await expect(api.request(get)).rejects.toMatchObject({ status: 401, code: 'APIG.0307' })
    await expect(api.request(get)).rejects.toMatchObject({ code: 'APIG.0307' })
    expect(transport.sent.map((r) => r.headers['X-Auth-Token'])).toEqual(['token-0', 'token-0'])
  })

  it('never renews signed requests or anonymous ones', async () => {
    const request = { method: 'GET' as const, url: new URL('https://h/x'), headers: { Host: 'h' }, body: '' }
    await expect(anonymous.renew(request)).resolves.toBe(false)
    await expect(accessKeyAuthenticator({ accessKeyId: 'AK', secretAccessKey: 'SK' }).renew(request)).resolves.toBe(
      false
    )
    await expect(anonymous.authorize(request, new Date())).resolves.toBe(request)
  })
})
