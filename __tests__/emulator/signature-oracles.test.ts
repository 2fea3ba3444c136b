/**
 * The emulator's AK/SK verifier against two oracles that owe nothing to it: the signing vectors
 * published with the spec (/work/shared/reference/ecs-api.md §7a) and Huawei's official Node SDK signer.
 */
import { AKSKSigner } from '@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner'
import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core/auth/BasicCredentials'
import type { IncomingMessage } from 'node:http'
import { createHash } from 'node:crypto'
import { stringify } from 'node:querystring'
import { describe, expect, it } from 'vitest'
import { DEFAULT_PROJECT_ID, type EmulatorCredential } from '.'
import {
  canonicalQueryString,
  canonicalRequest,
  parseSdkDate,
  signRequest,
  SignatureVerifier,
  stringToSign,
  type SignedRequest
} from './signature'
import { DEFAULT_KEY, rebootBody, SUBMIT_PATH, useEmulators } from '../support/emulator-calls'

const startEmulator = useEmulators()

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex')

interface Vector {
  method: string
  url: string
  headers: Record<string, string>
  body: string
  ak: string
  sk: string
  securityToken?: string
  authorization: string
}

/** The request of a vector as the verifier sees it: header names lower case, as node:http gives them. */
function verify(vector: Vector): { ok: boolean; message: string } {
  const url = new URL(vector.url)
  const headers = Object.fromEntries(Object.entries(vector.headers).map(([name, value]) => [name.toLowerCase(), value]))
  const req = { method: vector.method, headers: { ...headers, authorization: vector.authorization } }
  const credential: EmulatorCredential = { secretAccessKey: vector.sk, securityToken: vector.securityToken }
  const now = parseSdkDate(headers['x-sdk-date']) ?? Number.NaN
  const verifier = new SignatureVerifier({ [vector.ak]: credential }, () => now)
  return verifier.verify(req as unknown as IncomingMessage, url, vector.body, vector.authorization)
}

function signedRequest(vector: Vector): SignedRequest {
  const url = new URL(vector.url)
  return {
    method: vector.method,
    path: url.pathname,
    query: url.searchParams,
    headers: vector.headers,
    body: vector.body
  }
}

const V1: Vector = {
  method: 'GET',
  url: 'https://service.region.example.com/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0',
  headers: {
    'Content-Type': 'application/json',
    Host: 'service.region.example.com',
    'X-Sdk-Date': '20191115T033655Z'
  },
  body: '',
  ak: 'QTWAOYTTINDUT2QVKYUC',
  sk: 'MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc',
  authorization:
    'SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=content-type;host;x-sdk-date, Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe'
}

const DERIVED = { ak: 'AKEXAMPLE', sk: 'SKEXAMPLE', project: '0123456789abcdef0123456789abcdef' }
const DERIVED_HEADERS = {
  Host: 'ecs.cn-north-4.myhuaweicloud.com',
  'X-Project-Id': DERIVED.project,
  'X-Sdk-Date': '20240102T030405Z'
}
const D1: Vector = {
  method: 'POST',
  url: `https://ecs.cn-north-4.myhuaweicloud.com/v1/${DERIVED.project}/cloudservers/action`,
  headers: { 'Content-Type': 'application/json', ...DERIVED_HEADERS },
  body: '{"reboot":{"type":"SOFT","servers":[{"id":"616fb98f-46ca-475e-917e-2563e5a8cd19"},{"id":"726fb98f-46ca-475e-917e-2563e5a8cd20"}]}}',
  ak: DERIVED.ak,
  sk: DERIVED.sk,
  authorization:
    'SDK-HMAC-SHA256 Access=AKEXAMPLE, SignedHeaders=content-type;host;x-project-id;x-sdk-date, Signature=6de9cb60b7c26807a8de248a2908632ec2ebf8ea691294fd018435f11ee7fdef'
}
const D2: Vector = {
  method: 'GET',
  url: `https://ecs.cn-north-4.myhuaweicloud.com/v1/${DERIVED.project}/cloudservers/detail?limit=100&offset=1&tags=env%3Dprod&name=web%2001`,
  headers: { ...DERIVED_HEADERS, 'X-Security-Token': 'tok123' },
  body: '',
  ak: DERIVED.ak,
  sk: DERIVED.sk,
  securityToken: 'tok123',
  authorization:
    'SDK-HMAC-SHA256 Access=AKEXAMPLE, SignedHeaders=host;x-project-id;x-sdk-date;x-security-token, Signature=95c307cea5ee3c325d39f586a5d3d5c8f63bce419aedaf74e25a028e66010964'
}

describe('published signing vectors', () => {
  it('V1 (official signing guide): the canonical request, its hash and the signature', () => {
    const canonical = canonicalRequest(signedRequest(V1))
    expect(canonical.split('\n')).toEqual([
      'GET',
      '/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs/',
      'limit=2&marker=13551d6b-755d-4757-b956-536f674975c0',
      'content-type:application/json',
      'host:service.region.example.com',
      'x-sdk-date:20191115T033655Z',
      '',
      'content-type;host;x-sdk-date',
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    ])
    expect(sha256(canonical)).toBe('b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a')
    expect(signRequest(signedRequest(V1), V1.ak, V1.sk).authorization).toBe(V1.authorization)
  })

  it('V2 and V3 (Go SDK): only x-sdk-date signed, an empty body and a body with a trailing newline', () => {
    const go = { ak: 'AccessKey', sk: 'SecretKey', date: { 'X-Sdk-Date': '20060102T150405Z' } }
    const v2 = { method: 'GET', path: '/path', query: new URLSearchParams('limit=1'), headers: go.date, body: '' }
    expect(signRequest(v2, go.ak, go.sk).authorization).toBe(
      'SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624'
    )
    expect(canonicalRequest(v2).split('\n')[1]).toBe('/path/')
    const body = '{"Name":"test","Id":1}\n'
    expect(sha256(body)).toBe('a29d7b4c5efd1a22011d69fd7b7aee76fe51e4083c609244228de258afd61289')
    const v3 = { method: 'POST', path: '/path', query: new URLSearchParams('key=value'), headers: go.date, body }
    expect(signRequest(v3, go.ak, go.sk).authorization).toBe(
      'SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59'
    )
  })

  it('V4 (Go SDK): the canonical query string sorts keys and repeated values, and encodes RFC 3986', () => {
    const query = new URLSearchParams([
      ['limit', '1'],
      ['enable', 'true'],
      ['test', '一 (&=?!#%.*)'],
      ['path', '/tmp/123'],
      ['multi', '3'],
      ['multi', '1'],
      ['multi', '2']
    ])
    expect(canonicalQueryString(query)).toBe(
      'enable=true&limit=1&multi=1&multi=2&multi=3&path=%2Ftmp%2F123&test=%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29'
    )
  })

  it('D1 and D2 (derived): the string-to-sign hash lines and signatures, a security token and a query', () => {
    const hashLine = (vector: Vector): string | undefined => {
      const request = signedRequest(vector)
      return stringToSign(vector.headers['X-Sdk-Date'], canonicalRequest(request)).split('\n')[2]
    }
    expect(sha256(D1.body)).toBe('63285bafd9b011fe108af4e685192fd3d93ebfd2290f39cf851e4ea1cb73b476')
    expect(hashLine(D1)).toBe('755d1b09738c810ed2482d893b8c0d81b087dbe8449becda91026bde08bc53ff')
    expect(signRequest(signedRequest(D1), D1.ak, D1.sk).authorization).toBe(D1.authorization)
    expect(canonicalQueryString(new URL(D2.url).searchParams)).toBe('limit=100&name=web%2001&offset=1&tags=env%3Dprod')
    expect(hashLine(D2)).toBe('c7b991c418bc1be56eadca532542b9d02c2af76636f0dd36f21c84b48c168b19')
    expect(signRequest(signedRequest(D2), D2.ak, D2.sk).authorization).toBe(D2.authorization)
  })

  it.each([
    ['V1', V1],
    ['D1', D1],
    ['D2', D2]
  ])('the verifier accepts %s as published, and not with one character of its signature changed', (_, vector) => {
    expect(verify(vector)).toEqual({ ok: true, message: '', by: 'signature' })
    const last = vector.authorization.slice(-1)
    const changed = vector.authorization.slice(0, -1) + (last === '0' ? '1' : '0')
    expect(verify({ ...vector, authorization: changed }).ok).toBe(false)
    expect(verify({ ...vector, body: `${vector.body} ` }).ok).toBe(false)
  })
})

describe("requests signed by Huawei's official Node SDK signer", () => {
  const credential = new BasicCredentials().withAk(DEFAULT_KEY.accessKeyId).withSk(DEFAULT_KEY.secretAccessKey)

  /** Signs with `AKSKSigner.sign` and sends what it signed (fetch sets the Host the SDK signed). */
  async function sdkCall(
    url: string,
    path: string,
    options: {
      method: string
      headers: Record<string, string>
      query?: Record<string, string | string[]>
      data?: object
      /** A body sent instead of the one signed. */
      sendBody?: string
      /** Puts the query on the wire with URLSearchParams (a space as `+`) instead of as the SDK does. */
      plusForSpace?: boolean
    }
  ): Promise<{ response: Response; authorization: string }> {
    const endpoint = new URL(path, url).href
    const request = {
      endpoint,
      method: options.method,
      headers: options.headers,
      queryParams: options.query,
      data: options.data
    }
    // Built first: the SDK sorts the arrays it is given in place. The SDK's own wire form is
    // `querystring.stringify` (a space as %20).
    const wire = new URL(endpoint)
    if (options.plusForSpace !== true) wire.search = stringify(options.query ?? {})
    else {
      for (const [key, values] of Object.entries(options.query ?? {})) {
        for (const value of [values].flat()) wire.searchParams.append(key, value)
      }
    }
    const signed = AKSKSigner.sign(request, credential) as Record<string, string>
    const { host: _host, ...headers } = signed
    const body = options.sendBody ?? (options.data === undefined ? undefined : JSON.stringify(options.data))
    if (body !== undefined && !('Content-Type' in headers)) headers['Content-Type'] = 'application/json'
    const response = await fetch(wire, { method: options.method, headers, body })
    return { response, authorization: signed.Authorization }
  }

  it('accepts a batch reboot the SDK signed with content-type, host, x-project-id and x-sdk-date', async () => {
    const emulator = await startEmulator()
    const data = JSON.parse(rebootBody(['srv-a', 'srv-b'])) as object
    const { response, authorization } = await sdkCall(emulator.url, SUBMIT_PATH, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Project-Id': DEFAULT_PROJECT_ID },
      data
    })
    expect(authorization).toContain(' SignedHeaders=content-type;host;x-project-id;x-sdk-date, ')
    expect(response.status).toBe(200)
    expect(emulator.restartCount('srv-a')).toBe(1)
    expect(emulator.requests[0]).toMatchObject({ route: 'submit', status: 200, signatureValid: true })
  })

  it('accepts one whose content-type is sent but not signed, as the Go SDK sends them', async () => {
    const emulator = await startEmulator()
    const { response, authorization } = await sdkCall(emulator.url, SUBMIT_PATH, {
      method: 'POST',
      headers: { 'X-Project-Id': DEFAULT_PROJECT_ID },
      data: JSON.parse(rebootBody(['srv-a'])) as object
    })
    expect(authorization).toContain(' SignedHeaders=host;x-project-id;x-sdk-date, ')
    expect(emulator.requests[0].headers['content-type']).toBe('application/json')
    expect(response.status).toBe(200)
    expect(emulator.restartCount('srv-a')).toBe(1)
  })

  it('accepts a GET with a query to canonicalise: spaces, `=`, unicode and a repeated key', async () => {
    const emulator = await startEmulator({ inventory: [{ id: 'srv-1', name: 'web 01' }] })
    const { response } = await sdkCall(emulator.url, `/v1/${DEFAULT_PROJECT_ID}/cloudservers/detail`, {
      method: 'GET',
      headers: { 'X-Project-Id': DEFAULT_PROJECT_ID },
      query: { limit: '10', offset: '1', name: 'web 01', tags: 'env=prod', note: 'ü/*', multi: ['b', 'a'] }
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ count: 1 })
    expect(emulator.requests[0]).toMatchObject({ route: 'list', signatureValid: true })
    expect(emulator.requests[0].query.getAll('multi')).toEqual(['b', 'a'])
  })

  it('reads `+` in a query as a plus sign: a space signed as %20 but sent as `+` fails', async () => {
    const emulator = await startEmulator({ inventory: [{ id: 'srv-1', name: 'web 01' }] })
    const { response } = await sdkCall(emulator.url, `/v1/${DEFAULT_PROJECT_ID}/cloudservers/detail`, {
      method: 'GET',
      headers: { 'X-Project-Id': DEFAULT_PROJECT_ID },
      query: { name: 'web 01' },
      plusForSpace: true
    })
    expect(response.status).toBe(401)
    expect(emulator.requests[0]).toMatchObject({ route: 'list', signatureValid: false })
  })

  it('rejects what the SDK signed once the body is changed on the way', async () => {
    const emulator = await startEmulator()
    const { response } = await sdkCall(emulator.url, SUBMIT_PATH, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Project-Id': DEFAULT_PROJECT_ID },
      data: JSON.parse(rebootBody(['srv-a'])) as object,
      sendBody: rebootBody(['srv-b'])
    })
    expect(response.status).toBe(401)
    expect(emulator.restartCount('srv-a') + emulator.restartCount('srv-b')).toBe(0)
  })
})
