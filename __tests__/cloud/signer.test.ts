import { describe, expect, it } from 'vitest'
import {
  canonicalQuery,
  canonicalRequest,
  formatQuery,
  formatSdkDate,
  sha256Hex,
  sign,
  stringToSign,
  wireQueryPairs
} from '../../src/cloud/signer'

// Published vectors: ../shared/reference/ecs-api.md §7a (official signing guide and the Go SDK's tests).
describe('SDK-HMAC-SHA256 signing', () => {
  it('reproduces the official signing guide example (V1)', () => {
    const input = {
      method: 'GET',
      url: new URL(
        'https://service.region.example.com/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0'
      ),
      signedHeaders: {
        'Content-Type': 'application/json',
        Host: 'service.region.example.com',
        'X-Sdk-Date': '20191115T033655Z'
      },
      body: ''
    }
    const canonical = canonicalRequest(input)
    expect(canonical).toBe(
      [
        'GET',
        '/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs/',
        'limit=2&marker=13551d6b-755d-4757-b956-536f674975c0',
        'content-type:application/json',
        'host:service.region.example.com',
        'x-sdk-date:20191115T033655Z',
        '',
        'content-type;host;x-sdk-date',
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
      ].join('\n')
    )
    expect(sha256Hex(canonical)).toBe('b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a')
    const signature = sign(input, {
      accessKeyId: 'QTWAOYTTINDUT2QVKYUC',
      secretAccessKey: 'MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc'
    })
    expect(signature.authorization).toBe(
      'SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=content-type;host;x-sdk-date, Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe'
    )
  })

  const goKey = { accessKeyId: 'AccessKey', secretAccessKey: 'SecretKey' }

  it('reproduces the Go SDK GET vector with only x-sdk-date signed (V2)', () => {
    const { authorization } = sign(
      {
        method: 'GET',
        url: new URL('https://example.huaweicloud.com/path?limit=1'),
        signedHeaders: { 'X-Sdk-Date': '20060102T150405Z' },
        body: ''
      },
      goKey
    )
    expect(authorization).toBe(
      'SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624'
    )
  })

  it('reproduces the Go SDK POST vector, hashing the exact body bytes (V3)', () => {
    const body = '{"Name":"test","Id":1}\n'
    expect(sha256Hex(body)).toBe('a29d7b4c5efd1a22011d69fd7b7aee76fe51e4083c609244228de258afd61289')
    const input = {
      method: 'POST',
      url: new URL('https://example.huaweicloud.com/path?key=value'),
      signedHeaders: { 'X-Sdk-Date': '20060102T150405Z' },
      body
    }
    expect(sign(input, goKey).signature).toBe('cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59')
    // One byte less (no trailing newline) must give another signature.
    expect(sign({ ...input, body: body.trimEnd() }, goKey).signature).not.toBe(
      'cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59'
    )
  })

  it('builds the canonical query of the Go SDK test (V4): sorted, repeated keys, RFC 3986 encoding', () => {
    const params = new URLSearchParams()
    params.append('limit', '1')
    params.append('enable', 'true')
    params.append('test', '一 (&=?!#%.*)')
    params.append('path', '/tmp/123')
    for (const value of ['3', '1', '2']) params.append('multi', value)
    expect(canonicalQuery(params)).toBe(
      'enable=true&limit=1&multi=1&multi=2&multi=3&path=%2Ftmp%2F123&test=%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29'
    )
  })

  it('sorts raw keys and raw values of a repeated key before encoding, as both SDKs do', () => {
    // Encoded, `a%3A` sorts before `a0`; raw, `a0` sorts before `a:`.
    expect(
      canonicalQuery([
        ['a:', '2'],
        ['a0', '1']
      ])
    ).toBe('a0=1&a%3A=2')
    expect(
      canonicalQuery([
        ['k', 'x:'],
        ['k', 'x0'],
        ['k', 'x 1']
      ])
    ).toBe('k=x%201&k=x0&k=x%3A')
    // UTF-8 byte order (Go's sort.Strings): U+FF21 (EF BC A1) before U+1F600 (F0 9F 98 80).
    expect(
      canonicalQuery([
        ['😀', '1'],
        ['Ａ', '2']
      ])
    ).toBe('%EF%BC%A1=2&%F0%9F%98%80=1')
  })

  it('reads the query as the wire says it: %20 is a space, + a plus sign, a bad escape itself', () => {
    expect(wireQueryPairs('?name=web%2001&tag=a+b&flag&bad=%zz&=v')).toEqual([
      ['name', 'web 01'],
      ['tag', 'a+b'],
      ['flag', ''],
      ['bad', '%zz'],
      ['', 'v']
    ])
    const url = new URL('https://h/p?name=web+01')
    const signed = { method: 'GET', url, signedHeaders: { 'X-Sdk-Date': '20240102T030405Z' }, body: '' }
    expect(canonicalRequest(signed).split('\n')[2]).toBe('name=web%2B01')
    expect(formatQuery([['name', 'web 01+ü']])).toBe('name=web%2001%2B%C3%BC')
  })

  const derivedKey = { accessKeyId: 'AKEXAMPLE', secretAccessKey: 'SKEXAMPLE' }
  const project = '0123456789abcdef0123456789abcdef'
  const host = 'ecs.cn-north-4.myhuaweicloud.com'

  it('signs a batch restart as the derived vector D1 says', () => {
    const body =
      '{"reboot":{"type":"SOFT","servers":[{"id":"616fb98f-46ca-475e-917e-2563e5a8cd19"},{"id":"726fb98f-46ca-475e-917e-2563e5a8cd20"}]}}'
    const input = {
      method: 'POST',
      url: new URL(`https://${host}/v1/${project}/cloudservers/action`),
      signedHeaders: {
        'Content-Type': 'application/json',
        Host: host,
        'X-Project-Id': project,
        'X-Sdk-Date': '20240102T030405Z'
      },
      body
    }
    expect(sha256Hex(body)).toBe('63285bafd9b011fe108af4e685192fd3d93ebfd2290f39cf851e4ea1cb73b476')
    expect(stringToSign('20240102T030405Z', canonicalRequest(input)).split('\n')[2]).toBe(
      '755d1b09738c810ed2482d893b8c0d81b087dbe8449becda91026bde08bc53ff'
    )
    expect(sign(input, derivedKey).authorization).toBe(
      'SDK-HMAC-SHA256 Access=AKEXAMPLE, SignedHeaders=content-type;host;x-project-id;x-sdk-date, Signature=6de9cb60b7c26807a8de248a2908632ec2ebf8ea691294fd018435f11ee7fdef'
    )
  })

  it('signs a listing with a query and a security token as the derived vector D2 says', () => {
    const url = new URL(`https://${host}/v1/${project}/cloudservers/detail`)
    url.search = formatQuery([
      ['limit', '100'],
      ['offset', '1'],
      ['tags', 'env=prod'],
      ['name', 'web 01']
    ])
    expect(url.search).toBe('?limit=100&offset=1&tags=env%3Dprod&name=web%2001')
    const input = {
      method: 'GET',
      url,
      signedHeaders: {
        Host: host,
        'X-Project-Id': project,
        'X-Sdk-Date': '20240102T030405Z',
        'X-Security-Token': 'tok123'
      },
      body: ''
    }
    expect(canonicalRequest(input).split('\n')[2]).toBe('limit=100&name=web%2001&offset=1&tags=env%3Dprod')
    expect(stringToSign('20240102T030405Z', canonicalRequest(input)).split('\n')[2]).toBe(
      'c7b991c418bc1be56eadca532542b9d02c2af76636f0dd36f21c84b48c168b19'
    )
    expect(sign(input, derivedKey).authorization).toBe(
      'SDK-HMAC-SHA256 Access=AKEXAMPLE, SignedHeaders=host;x-project-id;x-sdk-date;x-security-token, Signature=95c307cea5ee3c325d39f586a5d3d5c8f63bce419aedaf74e25a028e66010964'
    )
  })

  it('encodes path segments and always ends the canonical URI with a slash', () => {
    const input = {
      method: 'get',
      url: new URL('https://h/v1/a%20b/c~d/'),
      signedHeaders: { 'x-sdk-date': '20240102T030405Z', '  X-Pad ': '  v  ' },
      body: ''
    }
    const lines = canonicalRequest(input).split('\n')
    expect(lines[0]).toBe('GET')
    expect(lines[1]).toBe('/v1/a%20b/c~d/')
    expect(lines).toContain('x-pad:v')
  })

  it('refuses to sign without x-sdk-date', () => {
    expect(() => sign({ method: 'GET', url: new URL('https://h/'), signedHeaders: {}, body: '' }, derivedKey)).toThrow(
      /x-sdk-date/
    )
  })

  it('formats X-Sdk-Date in UTC, to the second', () => {
    expect(formatSdkDate(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)))).toBe('20240102T030405Z')
  })
})
