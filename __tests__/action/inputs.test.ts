import { describe, expect, it } from 'vitest'
import { InputErrors } from '../../src/action/errors'
import { type ActionInputs, readInputs } from '../../src/action/inputs'
import { parseEndpoint } from '../../src/action/inputs/endpoints'
import { splitServerIds } from '../../src/action/inputs/servers'
import type { InputSource } from '../../src/action/inputs/source'
import { parseSeconds, resolveAmount } from '../../src/action/inputs/values'
import type { AccessKeyCredentials } from '../../src/cloud/auth'

const A = '616fb98f-46ca-475e-917e-2563e5a8cd19'
const B = '726fb98f-46ca-475e-917e-2563e5a8cd20'

function source(
  inputs: Record<string, string>,
  env: Record<string, string> = {},
  files: Record<string, string> = {}
): InputSource & { masked: string[] } {
  const masked: string[] = []
  return {
    getInput: (name) => inputs[name] ?? '',
    env,
    maskSecret: (value) => masked.push(value),
    readFile: (path) =>
      files[path] ??
      ((): never => {
        throw Object.assign(new Error('missing'), { code: 'ENOENT' })
      })(),
    masked
  }
}

/** The access key the inputs configure (the tests below use that sign-in). */
function keyOf(inputs: ActionInputs): AccessKeyCredentials {
  if (inputs.auth.mode !== 'access-key') throw new Error(`signs in with ${inputs.auth.mode}`)
  return inputs.auth.credentials
}

const valid = {
  'server-ids': A,
  region: 'ap-southeast-1',
  'access-key-id': 'AKEXAMPLE',
  'secret-access-key': 'secret/key+value'
}

function problemsOf(inputs: Record<string, string>, env: Record<string, string> = {}): string[] {
  try {
    readInputs(source(inputs, env))
  } catch (error) {
    if (error instanceof InputErrors) return error.problems.map((p) => p.message)
    throw error
  }
  throw new Error('expected the inputs to be rejected')
}

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

describe('selection and rolling inputs', () => {
  const base = { ...valid, 'server-ids': '' }

  it('selects by filters alone, and needs some selection', () => {
    const inputs = readInputs(source({ ...base, tags: 'app=web\nenv=prod', name: 'web-*', status: 'active' }))
    expect(inputs.serverIds).toEqual([])
    expect(inputs.filters).toEqual({
      tags: [
        { key: 'app', value: 'web' },
        { key: 'env', value: 'prod' }
      ],
      name: 'web-*',
      statuses: ['ACTIVE']
    })
    expect(problemsOf(base)[0]).toMatch(
      /^Input 'server-ids': no servers selected; .* server-ids-file, or select by tags, name or status/
    )
  })

  it('reads tags as key=value (exact), key= (bare or empty value) and key alone (any value)', () => {
    const inputs = readInputs(source({ ...base, tags: 'canary, team=\n app = web , note=a=b' }))
    expect(inputs.filters.tags).toEqual([
      { key: 'canary', value: undefined },
      { key: 'team', value: '' },
      { key: 'app', value: 'web' },
      { key: 'note', value: 'a=b' }
    ])
  })

  it.each(['PAUSED', 'SUSPENDED', 'SOFT_DELETED', 'DELETED', 'shelved_offloaded', 'unknown'])(
    'accepts the documented server state %s in status',
    (state) => {
      expect(readInputs(source({ ...base, status: state })).filters.statuses).toEqual([state.toUpperCase()])
    }
  )

  it('reads server-ids-file relative to the workspace, combined with server-ids', () => {
    const inputs = readInputs(
      source(
        { ...valid, 'server-ids-file': 'fleet/ids.txt' },
        { GITHUB_WORKSPACE: '/ws' },
        { '/ws/fleet/ids.txt': `${B}\n${A}\n` }
      )
    )
    expect(inputs.serverIds).toEqual([A, B])
  })

  it.each([
    ['/etc/passwd', /not a path inside the workspace/],
    ['../outside.txt', /not a path inside the workspace/],
    ['missing.txt', /"missing.txt" cannot be read \(ENOENT\)/]
  ])('rejects server-ids-file %s', (path, problem) => {
    const [message] = problemsOf({ ...valid, 'server-ids-file': path }, { GITHUB_WORKSPACE: '/ws' })
    expect(message).toMatch(/^Input 'server-ids-file': /)
    expect(message).toMatch(problem)
  })

  it('reads # comments and blank lines in server-ids-file', () => {
    const file = `# web tier\n${A}  # web-1\n\n   \n# ${B} retired\n${B.toUpperCase()},${A}# again\n`
    const inputs = readInputs(
      source({ ...valid, 'server-ids': '', 'server-ids-file': 'ids' }, { GITHUB_WORKSPACE: '/ws' }, { '/ws/ids': file })
    )
    expect(inputs.serverIds).toEqual([A, B])
  })

  it.each(['0', '0.5', '0.999'])('refuses timeout-seconds %j: the run needs at least a second', (value) => {
    expect(problemsOf({ ...valid, 'timeout-seconds': value })[0]).toBe(
      `Input 'timeout-seconds': "${value}" is not allowed; use a number of seconds from 1 to 21600 (decimals allowed)`
    )
  })

  it.each(['batch-size', 'max-failures'])('mentions the percentage form in %s errors', (name) => {
    for (const value of ['many', '2000000', '150%']) {
      expect(problemsOf({ ...valid, [name]: value })[0]).toMatch(
        new RegExp(`^Input '${name}': .* or a percentage of the selected servers from 1% to 100% \\(e\\.g\\. 25%\\)$`)
      )
    }
  })

  it('names the file when its IDs are invalid', () => {
    const [message] = (() => {
      try {
        readInputs(source({ ...valid, 'server-ids-file': 'ids' }, { GITHUB_WORKSPACE: '/ws' }, { '/ws/ids': 'web-1' }))
      } catch (error) {
        return (error as InputErrors).problems.map((p) => p.message)
      }
      return []
    })()
    expect(message).toMatch(/^Input 'server-ids-file': 1 of 1 entries are not server IDs: "web-1"/)
  })

  it('says when server-ids looks cut off by the runner', () => {
    const [message] = problemsOf({ ...valid, 'server-ids': `${A}, ${B.slice(0, 20)}` })
    expect(message).toMatch(
      /The last entry looks cut off: one input holds at most 128 KiB \(about 3,500 IDs\); use server-ids-file/
    )
    expect(problemsOf({ ...valid, 'server-ids': `${A}, web-01` })[0]).not.toMatch(/cut off/)
  })

  it('reads operations, percentages, rolling settings and switches', () => {
    const inputs = readInputs(
      source({
        ...valid,
        operation: 'STOP',
        'batch-size': '25%',
        rolling: 'true',
        'pause-seconds': '1.5',
        'max-failures': '10%',
        'enterprise-project-id': 'all_granted_eps',
        'allow-empty': 'true',
        'skip-inactive': 'true',
        'dry-run': 'true'
      })
    )
    expect(inputs).toMatchObject({
      operation: { kind: 'stop', type: 'SOFT' },
      batchSize: { percent: 25 },
      rolling: true,
      waitForTargetState: true,
      pauseMs: 1500,
      maxFailures: { percent: 10 },
      enterpriseProjectId: 'all_granted_eps',
      allowEmpty: true,
      skipInactive: true,
      dryRun: true
    })
    expect(readInputs(source({ ...valid, 'wait-for-active': 'auto' })).waitForTargetState).toBe(false)
    expect(readInputs(source({ ...valid, 'wait-for-active': 'true' })).waitForTargetState).toBe(true)
    expect(readInputs(source({ ...valid, rolling: 'true', 'wait-for-active': 'false' })).waitForTargetState).toBe(false)
  })

  it.each([
    [{ operation: 'restart' }, /^Input 'operation': "restart" is not allowed; use reboot, start or stop/],
    [
      { 'batch-size': '0%' },
      /^Input 'batch-size': "0%" is not allowed; use a whole number from 1 to 1000, or a percentage of the selected servers from 1% to 100% \(e\.g\. 25%\)/
    ],
    [{ 'batch-size': '101%' }, /^Input 'batch-size'/],
    [{ 'max-failures': '-1' }, /^Input 'max-failures'/],
    [{ 'pause-seconds': 'soon' }, /^Input 'pause-seconds'/],
    [{ 'wait-for-active': 'maybe' }, /^Input 'wait-for-active'/],
    [{ rolling: 'true', wait: 'false' }, /^Input 'rolling': needs wait: true/],
    [{ 'wait-for-active': 'true', wait: 'false' }, /^Input 'wait-for-active': needs wait: true/],
    [{ 'enterprise-project-id': '../x' }, /^Input 'enterprise-project-id'/],
    [{ tags: '=prod' }, /^Input 'tags': "=prod" is not a tag; write key=value, key= \(no value\) or key alone/],
    [{ tags: 'my env=prod' }, /^Input 'tags'/],
    [{ status: 'RUNNING' }, /^Input 'status'/]
  ])('rejects %j', (inputs, problem) => {
    expect(problemsOf({ ...valid, ...inputs })[0]).toMatch(problem)
  })

  it('resolves percentages against the selection, within bounds', () => {
    expect(resolveAmount({ percent: 25 }, 10, 'up', 1, 1000)).toBe(3)
    expect(resolveAmount({ percent: 1 }, 10, 'up', 1, 1000)).toBe(1)
    expect(resolveAmount({ percent: 100 }, 50_000, 'up', 1, 1000)).toBe(1000)
    expect(resolveAmount({ percent: 10 }, 25, 'down', 0, 100)).toBe(2)
    expect(resolveAmount({ count: 7 }, 25, 'down', 0, 100)).toBe(7)
  })
})

describe('signing in', () => {
  const noKeys = { 'server-ids': A, region: 'ap-southeast-1' }

  it('signs in with GitHub OIDC when idp-id is given, with a default audience', () => {
    expect(readInputs(source({ ...noKeys, 'idp-id': 'idp-github' })).auth).toEqual({
      mode: 'oidc',
      idpId: 'idp-github',
      audience: 'huaweicloud'
    })
    expect(readInputs(source({ ...noKeys, 'idp-id': 'idp-github', 'oidc-audience': 'my-client' })).auth).toMatchObject({
      audience: 'my-client'
    })
  })

  it('signs in with an IAM password, masking it at once', () => {
    const src = source({ ...noKeys, 'iam-username': 'deployer', 'iam-password': 'pa55 word', 'iam-domain': 'acme' })
    expect(readInputs(src).auth).toEqual({
      mode: 'password',
      username: 'deployer',
      password: 'pa55 word',
      domain: 'acme'
    })
    expect(src.masked).toEqual(['pa55 word'])
  })

  it.each([
    [
      { 'idp-id': 'idp', 'access-key-id': 'AK', 'secret-access-key': 'SK' },
      /only one way to sign in may be configured, but these are: access-key-id\/secret-access-key, idp-id \(OIDC\)/
    ],
    [{ 'idp-id': 'idp', 'iam-username': 'u' }, /only one way to sign in/],
    [
      { 'iam-username': 'u', 'iam-password': 'p' },
      /^Input 'iam-username': a password sign-in needs .*; missing: iam-domain/
    ],
    [{ 'idp-id': '../x' }, /^Input 'idp-id': must be the identity provider ID/],
    [{ 'idp-id': 'idp', 'oidc-audience': 'two words' }, /^Input 'oidc-audience'/],
    [{}, /^Input 'access-key-id': no credentials/]
  ])('rejects %j', (inputs, problem) => {
    expect(problemsOf({ ...noKeys, ...inputs })[0]).toMatch(problem)
  })

  it.each([
    [
      { 'access-key-id': 'AK', 'secret-access-key': 'SK', 'iam-username': 'u' },
      'access-key-id',
      ['access-key-id/secret-access-key', 'iam-username/iam-password']
    ],
    [
      { 'secret-access-key': 'SK', 'iam-password': 'p' },
      'secret-access-key',
      ['access-key-id/secret-access-key', 'iam-username/iam-password']
    ],
    [{ 'idp-id': 'idp', 'iam-password': 'p' }, 'idp-id', ['idp-id (OIDC)', 'iam-username/iam-password']]
  ])('names the sign-in inputs actually given when several are: %j', (inputs, input, ways) => {
    const [message] = problemsOf({ ...noKeys, ...inputs })
    expect(message).toBe(
      `Input '${input}': only one way to sign in may be configured, but these are: ${ways.join(', ')}; remove all but one`
    )
  })

  it('prefers an explicit sign-in over keys left in the environment by an earlier step', () => {
    const inputs = readInputs(
      source({ ...noKeys, 'idp-id': 'idp' }, { HUAWEI_CLOUD_ACCESS_KEY_ID: 'AK', HUAWEI_CLOUD_SECRET_ACCESS_KEY: 'SK' })
    )
    expect(inputs.auth.mode).toBe('oidc')
  })

  it('builds endpoints from the cloud preset', () => {
    const eu = readInputs(source({ ...valid, cloud: 'huaweicloud-eu', region: 'eu-west-101' }))
    expect([eu.endpoint.href, eu.iamEndpoint?.href]).toEqual([
      'https://ecs.eu-west-101.myhuaweicloud.eu/',
      'https://iam.eu-west-101.myhuaweicloud.eu/'
    ])
    // The SDKs' ECS host for the European site, tried only when the default does not resolve.
    expect(eu.endpointAlternatives.map((url) => url.href)).toEqual(['https://ecs.eu-west-101.myhuaweicloud.com/'])
    const given = readInputs(
      source({ ...valid, cloud: 'huaweicloud-eu', region: 'eu-west-101', endpoint: 'https://ecs.example.eu' })
    )
    expect([given.endpoint.href, given.endpointAlternatives]).toEqual(['https://ecs.example.eu/', []])
    expect(readInputs(source(valid)).endpointAlternatives).toEqual([])
    // Regions without an IAM entry in the SDKs' tables use the global IAM host, as the SDKs do.
    for (const region of ['af-north-1', 'ap-southeast-5', 'cn-north-11', 'cn-south-4', 'cn-southwest-3']) {
      expect(readInputs(source({ ...valid, region })).iamEndpoint?.href).toBe('https://iam.myhuaweicloud.com/')
    }
    expect(readInputs(source({ ...valid, region: 'cn-north-12' })).iamEndpoint?.href).toBe(
      'https://iam.cn-north-12.myhuaweicloud.com/'
    )
    const swiss = readInputs(source({ ...valid, cloud: 'OTC', region: 'eu-ch2' }))
    expect([swiss.endpoint.href, swiss.iamEndpoint?.href]).toEqual([
      'https://ecs.eu-ch2.sc.otc.t-systems.com/',
      'https://iam-pub.eu-ch2.sc.otc.t-systems.com/'
    ])
    const germany = readInputs(source({ ...valid, cloud: 'otc', region: 'eu-de' }))
    expect(germany.iamEndpoint?.href).toBe('https://iam.eu-de.otc.t-systems.com/')
  })

  it('signs in by GitHub OIDC at the global IAM host on Huawei Cloud, the site or cloud IAM host elsewhere, iam-endpoint first', () => {
    const oidc = { 'server-ids': A, region: 'ap-southeast-1', 'idp-id': 'github' }
    const global = readInputs(source(oidc))
    expect([global.oidcIamEndpoint?.href, global.iamEndpoint?.href]).toEqual([
      'https://iam.myhuaweicloud.com/',
      'https://iam.ap-southeast-1.myhuaweicloud.com/'
    ])
    const eu = readInputs(source({ ...oidc, cloud: 'huaweicloud-eu', region: 'eu-west-101' }))
    expect(eu.oidcIamEndpoint?.href).toBe('https://iam.eu-west-101.myhuaweicloud.eu/')
    const otc = readInputs(source({ ...oidc, cloud: 'otc', region: 'eu-nl' }))
    expect(otc.oidcIamEndpoint?.href).toBe('https://iam.eu-nl.otc.t-systems.com/')
    const explicit = readInputs(source({ ...oidc, 'iam-endpoint': 'https://iam.example.com' }))
    expect([explicit.oidcIamEndpoint?.href, explicit.iamEndpoint?.href]).toEqual([
      'https://iam.example.com/',
      'https://iam.example.com/'
    ])
  })

  it.each([
    [{ cloud: 'aws' }, /^Input 'cloud': "aws" is not allowed; use huaweicloud, huaweicloud-eu, otc/],
    [
      { cloud: 'otc', region: 'eu-west-101' },
      /^Input 'region': "eu-west-101" is not among the Open Telekom Cloud regions this action knows \(eu-de, eu-nl, eu-ch2\)/
    ],
    [{ region: 'eu-west-101' }, /It is the European site: set cloud: huaweicloud-eu\./],
    [{ region: 'xx-nowhere-9' }, /For another region, set endpoint and iam-endpoint\./]
  ])('rejects %j, naming the regions the cloud knows', (inputs, problem) => {
    expect(problemsOf({ ...valid, ...inputs })[0]).toMatch(problem)
  })

  it('accepts a region it does not know when no default endpoint is needed', () => {
    const inputs = readInputs(
      source(
        { ...valid, region: '', endpoint: 'https://ecs.example.com', 'project-id': 'd'.repeat(32) },
        { HUAWEI_CLOUD_REGION: 'xx-new-1' }
      )
    )
    expect(inputs.region).toBe('xx-new-1')
    expect(inputs.iamEndpoint).toBeUndefined()
  })

  it('accepts any region when both endpoints are given', () => {
    const inputs = readInputs(
      source({
        ...valid,
        region: 'xx-new-1',
        endpoint: 'https://ecs.example.com',
        'iam-endpoint': 'https://iam.example.com'
      })
    )
    expect(inputs.region).toBe('xx-new-1')
  })
})
