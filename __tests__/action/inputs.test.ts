import { describe, expect, it } from 'vitest'
import { InputErrors } from '../../src/action/errors'
import { readInputs } from '../../src/action/inputs'
import { parseEndpoint } from '../../src/action/inputs/endpoints'
import { splitServerIds } from '../../src/action/inputs/servers'
import { parseSeconds } from '../../src/action/inputs/values'
import { A, B, keyOf, problemsOf, source, valid } from '../support/input-source'

describe('server IDs', () => {
  it('splits on commas, spaces and newlines, lower-cases and drops duplicates in first-seen order', () => {
    expect(splitServerIds(` ${B},${A}\n${B.toUpperCase()}\t\r\n ${A} ,,`)).toEqual([B, A])
  })

  it('rejects names, path-like and malformed IDs, naming the entries', () => {
    const [problem] = problemsOf({ ...valid, 'server-ids': `${A}, web-01, ../../etc, ${A.slice(0, -1)}` })
    expect(problem).toContain("Input 'server-ids'")
    expect(problem).toContain('3 of 4 entries are not server IDs')
    expect(problem).toContain('"web-01"')
    expect(problem).toContain('"../../etc"')
  })

  it('rejects an empty list', () => {
    expect(problemsOf({ ...valid, 'server-ids': ' \n, ' })[0]).toMatch(/Input 'server-ids': no server IDs given/)
  })
})

describe('readInputs', () => {
  it('applies the documented defaults', () => {
    const inputs = readInputs(source(valid))
    expect(inputs).toMatchObject({
      serverIds: [A],
      operation: { kind: 'reboot', type: 'SOFT' },
      batchSize: { count: 1000 },
      rolling: false,
      waitForTargetState: false,
      pauseMs: 0,
      maxFailures: { count: 0 },
      allowEmpty: false,
      skipInactive: false,
      dryRun: false,
      filters: { tags: [], name: undefined, statuses: [] },
      maxServersPerMinute: 1000,
      wait: true,
      timeoutMs: 600_000,
      pollIntervalMs: 5000,
      requestTimeoutMs: 30_000,
      failOnError: true,
      projectId: undefined,
      region: 'ap-southeast-1'
    })
    expect(inputs.endpoint.href).toBe('https://ecs.ap-southeast-1.myhuaweicloud.com/')
    expect(inputs.iamEndpoint?.href).toBe('https://iam.ap-southeast-1.myhuaweicloud.com/')
    expect(keyOf(inputs)).toEqual({ accessKeyId: 'AKEXAMPLE', secretAccessKey: 'secret/key+value' })
  })

  it('reads every input given explicitly', () => {
    const inputs = readInputs(
      source({
        ...valid,
        type: 'hard',
        'project-id': '0123456789ABCDEF0123456789ABCDEF',
        'security-token': 'tok',
        endpoint: 'http://127.0.0.1:8080',
        'iam-endpoint': 'http://localhost:9',
        'batch-size': '2',
        wait: 'FALSE',
        'timeout-seconds': '1.5',
        'poll-interval-seconds': '.25',
        'request-timeout-seconds': '2.5',
        'fail-on-error': 'False'
      })
    )
    expect(inputs).toMatchObject({
      operation: { type: 'HARD' },
      projectId: '0123456789abcdef0123456789abcdef',
      batchSize: { count: 2 },
      wait: false,
      timeoutMs: 1500,
      pollIntervalMs: 250,
      requestTimeoutMs: 2500,
      failOnError: false
    })
    expect(keyOf(inputs).securityToken).toBe('tok')
    expect(inputs.endpoint.origin).toBe('http://127.0.0.1:8080')
    expect(inputs.iamEndpoint?.origin).toBe('http://localhost:9')
  })

  it('lets explicit inputs win over HUAWEI_CLOUD_* and those over HUAWEICLOUD_SDK_*', () => {
    const env = {
      HUAWEI_CLOUD_REGION: 'cn-north-4',
      HUAWEI_CLOUD_ACCESS_KEY_ID: 'AKFROMACTION',
      HUAWEICLOUD_SDK_AK: 'AKFROMSDK',
      HUAWEICLOUD_SDK_SK: 'sk-from-sdk',
      HUAWEICLOUD_SDK_PROJECT_ID: 'a'.repeat(32),
      HUAWEICLOUD_SDK_SECURITY_TOKEN: 'sdk-token'
    }
    const fromEnv = readInputs(source({ 'server-ids': A }, env))
    expect(fromEnv.region).toBe('cn-north-4')
    expect(keyOf(fromEnv)).toEqual({
      accessKeyId: 'AKFROMACTION',
      secretAccessKey: 'sk-from-sdk',
      securityToken: 'sdk-token'
    })
    expect(fromEnv.projectId).toBe('a'.repeat(32))
    const explicit = readInputs(
      source({ ...valid, 'project-id': 'e'.repeat(32) }, { ...env, HUAWEI_CLOUD_PROJECT_ID: 'b'.repeat(32) })
    )
    expect(explicit.region).toBe('ap-southeast-1')
    expect(keyOf(explicit).accessKeyId).toBe('AKEXAMPLE')
    expect(keyOf(explicit).secretAccessKey).toBe('secret/key+value')
    expect(explicit.projectId).toBe('e'.repeat(32))
  })

  it('masks the secret key and security token the moment they are read, even when other inputs are invalid', () => {
    const src = source({ ...valid, 'security-token': 'token-value', type: 'nope' })
    expect(() => readInputs(src)).toThrow(InputErrors)
    expect(src.masked).toEqual(['secret/key+value', 'token-value'])
  })

  it('never repeats a secret in an error', () => {
    const problems = problemsOf({ ...valid, 'security-token': 'line1\nline2', 'access-key-id': 'has space' })
    expect(problems.join('\n')).not.toContain('line1')
    expect(problems.join('\n')).not.toContain('secret/key+value')
  })

  it('reports every invalid input at once, each naming the input and what is allowed', () => {
    const problems = problemsOf({
      'server-ids': A,
      type: 'gentle',
      'batch-size': '1001',
      wait: 'yes',
      'timeout-seconds': '-1',
      'poll-interval-seconds': '0',
      'fail-on-error': '1',
      endpoint: 'http://ecs.example.com'
    })
    expect(problems).toEqual([
      expect.stringMatching(/^Input 'type': "gentle" is not allowed; use SOFT .* or HARD/),
      expect.stringMatching(
        /^Input 'access-key-id': no credentials: give access-key-id and secret-access-key .* idp-id for GitHub OIDC, or iam-username/
      ),
      expect.stringMatching(/^Input 'region': required/),
      expect.stringMatching(/^Input 'endpoint': .* use https:\/\//),
      expect.stringMatching(/^Input 'batch-size': "1001" is not allowed; use a whole number from 1 to 1000/),
      expect.stringMatching(/^Input 'wait': "yes" is not allowed; use true or false/),
      expect.stringMatching(/^Input 'timeout-seconds': "-1" is not allowed/),
      expect.stringMatching(
        /^Input 'poll-interval-seconds': "0" is not allowed; use a number of seconds from 0\.001 to 300/
      ),
      expect.stringMatching(/^Input 'fail-on-error': "1" is not allowed/)
    ])
  })

  it.each(['abc', '1.5', '-3', '0', ' '])('rejects batch-size %j', (value) => {
    const problems = problemsOf({ ...valid, 'batch-size': value === ' ' ? 'x y' : value })
    expect(problems[0]).toMatch(/^Input 'batch-size'/)
  })

  it('needs no region when endpoint and project-id are given', () => {
    const inputs = readInputs(
      source({ ...valid, region: '', 'project-id': 'c'.repeat(32), endpoint: 'https://ecs.example.com' })
    )
    expect(inputs.region).toBeUndefined()
    expect(inputs.iamEndpoint).toBeUndefined()
  })

  it('rejects a region that could not be part of a host name', () => {
    expect(problemsOf({ ...valid, region: 'evil.com/x' })[0]).toMatch(
      /^Input 'region': "evil.com\/x" is not a region name/
    )
  })

  it('rejects a project ID that could change the request path', () => {
    expect(problemsOf({ ...valid, 'project-id': '../jobs' })[0]).toMatch(/^Input 'project-id'/)
  })

  it.each([
    ['a project name', 'ap-southeast-1', /got 14 characters, some of them not hexadecimal/],
    ['31 hex characters', 'a'.repeat(31), /must be 32 hexadecimal characters .*; got 31 characters$/],
    ['33 hex characters', 'a'.repeat(33), /got 33 characters$/],
    ['a UUID with dashes', '0123abcd-0123-abcd-0123-0123abcdef01', /some of them not hexadecimal/]
  ])('rejects %s as project-id before any request', (_, value, problem) => {
    const [message] = problemsOf({ ...valid, 'project-id': value })
    expect(message).toMatch(/^Input 'project-id': must be 32 hexadecimal characters/)
    expect(message).toMatch(problem)
  })
})

describe('parseEndpoint', () => {
  it.each([
    'https://ecs.example.com',
    'https://ecs.example.com:8443/',
    'http://127.0.0.5:80',
    'http://[::1]:1',
    'http://localhost'
  ])('accepts %s', (text) => {
    expect(parseEndpoint('endpoint', text).origin).toBe(new URL(text).origin)
  })

  it.each([
    ['http://10.0.0.1', /use https:\/\//],
    ['http://127.example.com', /use https:\/\//],
    ['ftp://host', /use https:\/\//],
    ['ecs.example.com', /is not a URL/],
    ['https://host/v1', /no path or query/],
    ['https://user:pw@host', /"https:\/\/\*\*\*@host" is not allowed: remove the user name and password/],
    ['https://host?x=1', /no path or query/]
  ])('rejects %s', (text, problem) => {
    expect(() => parseEndpoint('iam-endpoint', text)).toThrow(problem)
    expect(() => parseEndpoint('iam-endpoint', text)).toThrow(/^Input 'iam-endpoint'/)
  })
})

describe('user-info in URLs', () => {
  it.each([
    ['endpoint', 'https://svcacct:Pa55w0rd@ecs.example.com', 'https://***@ecs.example.com'],
    ['endpoint', 'http://usr9:pss7@host', 'http://***@host'],
    ['iam-endpoint', 'svcacct:Pa55w0rd@iam.example.com', '***@iam.example.com'],
    ['iam-endpoint', 'https://svcacct:Pa55w0rd@iam.example.com/v3', 'https://***@iam.example.com/v3'],
    ['endpoint', 'https://svcacct:p@ss w0rd/x@ecs.example.com', 'https://***@ecs.example.com']
  ])('never quotes the user name or password of %s %s', (name, url, shown) => {
    const messages = problemsOf({ ...valid, [name]: url })
    expect(messages).toHaveLength(1)
    expect(messages[0]).toContain(JSON.stringify(shown))
    for (const secret of ['svcacct', 'Pa55w0rd', 'usr9', 'pss7', 'p@ss', 'w0rd']) {
      expect(messages[0]).not.toContain(secret)
    }
  })

  it('hides user-info wherever an input is quoted back', () => {
    const url = 'https://admin:hunter2@example.com'
    for (const inputs of [
      { region: url },
      { cloud: url },
      { operation: url },
      { 'server-ids': url },
      { 'server-ids-file': url },
      { 'batch-size': url },
      { status: url },
      { wait: url }
    ] as Record<string, string>[]) {
      const [message] = problemsOf({ ...valid, ...inputs }, { GITHUB_WORKSPACE: '/ws' })
      expect(message, JSON.stringify(inputs)).toMatch(/^Input '/)
      expect(message, JSON.stringify(inputs)).not.toMatch(/admin|hunter2/)
    }
  })
})

describe('parseSeconds', () => {
  it('accepts decimals and zero where allowed', () => {
    expect(parseSeconds('t', '0', 5, { allowZero: true, max: 10 })).toBe(0)
    expect(parseSeconds('t', '0.05', 5, { allowZero: false, max: 10 })).toBe(50)
    expect(parseSeconds('t', '', 5, { allowZero: false, max: 10 })).toBe(5000)
  })

  it.each(['1e3', 'NaN', 'Infinity', '11', '5s', '-0'])('rejects %j', (text) => {
    expect(() => parseSeconds('t', text, 5, { allowZero: true, max: 10 })).toThrow(/^Input 't'/)
  })
})
