/**
 * A property test of readInputs as a whole, with fast-check: any set of inputs (every input of
 * action.yml and every HUAWEI_CLOUD_* fallback at once, valid, adversarial or unset) either gives
 * inputs that keep each parser's invariants and the documented precedence, or an InputErrors whose
 * problems each name an input that was read, with every secret masked and never echoed. Replay a
 * failure as inputs.property.test.ts says, with this file's name.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import fc, { type Arbitrary } from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { InputErrors } from '../../src/action/errors'
import { type ActionInputs, readInputs } from '../../src/action/inputs'
import { parseEndpoint } from '../../src/action/inputs/endpoints'
import { parsePowerType } from '../../src/action/inputs/operation'
import { parseServerIds } from '../../src/action/inputs/servers'
import type { InputSource } from '../../src/action/inputs/source'
import { MAX_BATCH_SIZE } from '../../src/action/inputs/timing'
import { parseAmount, parseBoolean, parseSeconds } from '../../src/action/inputs/values'
import { knownEndpoints } from '../../src/cloud/clouds'
import * as arb from '../support/arbitraries'
import { A, adversarial, words } from '../support/arbitraries'
import {
  BOOLEAN_LOOKALIKES,
  ENDPOINT_LOOKALIKES,
  INTEGER_LOOKALIKES,
  type Outcome,
  RUNS,
  SECONDS_LOOKALIKES,
  SERVER_ID_LOOKALIKES,
  TOTAL,
  TYPE_LOOKALIKES,
  checkBoolean,
  checkEndpoint,
  checkInteger,
  checkSeconds,
  checkServerIds,
  checkType,
  fmt,
  holds,
  rejectionProblem
} from '../support/input-properties'

const metadata = parse(readFileSync(resolve(__dirname, '../../action.yml'), 'utf8')) as {
  inputs: Record<string, { default?: string } | undefined>
}
const KNOWN_INPUTS = Object.keys(metadata.inputs)
const defaultOf = (input: string): string => metadata.inputs[input]?.default ?? ''
/** The documented environment fallbacks, in order of precedence after the input itself. */
const ENV_FALLBACKS: Record<string, string[]> = {
  region: ['HUAWEI_CLOUD_REGION'],
  'project-id': ['HUAWEI_CLOUD_PROJECT_ID', 'HUAWEICLOUD_SDK_PROJECT_ID'],
  'access-key-id': ['HUAWEI_CLOUD_ACCESS_KEY_ID', 'HUAWEICLOUD_SDK_AK'],
  'secret-access-key': ['HUAWEI_CLOUD_SECRET_ACCESS_KEY', 'HUAWEICLOUD_SDK_SK'],
  'security-token': ['HUAWEI_CLOUD_SECURITY_TOKEN', 'HUAWEICLOUD_SDK_SECURITY_TOKEN']
}
const SECRETS = ['secret-access-key', 'security-token', 'iam-password']
/** In every generated secret and nowhere else, so any echo of a secret can be spotted. */
const SECRET_MARKER = 'zSeCrEtz'
const TIMEOUT = { allowZero: false, min: 1, max: 6 * 60 * 60 }
const INTERVAL = { allowZero: false, max: 300 } // poll-interval-seconds and request-timeout-seconds
const REGIONS = words('ap-southeast-1 ap-southeast-3 cn-north-4 cn-east-3 la-south-2 af-south-1 eu-west-101')

/** How to generate each input readInputs is fuzzed with: valid, and adversarial. */
type Field = [valid: Arbitrary<string>, adversarial: Arbitrary<string>]
const field = (valid: Arbitrary<string>, lookalikes: string[]): Field => [valid, adversarial(valid, lookalikes)]
function secret(tag: string, multiLine: boolean): Field {
  const make = (inner: Arbitrary<string>, tail: Arbitrary<string>) =>
    fc.tuple(inner, tail).map(([a, b]) => `${a}${SECRET_MARKER}${tag}${b}`)
  const odd = make(arb.garbage(12), arb.garbage(12))
  const lines = fc.tuple(odd, arb.garbage(6)).map(([value, line]) => `${value}\n${line}`)
  return [
    make(arb.word(`${arb.ALNUM}/+=`, 0, 40), arb.word(arb.ALNUM, 1, 20)),
    fc.oneof({ weight: 19, arbitrary: odd }, { weight: multiLine ? 8 : 0, arbitrary: lines }, long(odd))
  ]
}
const long = (text: Arbitrary<string>) => ({ weight: 1, arbitrary: arb.long(text) })
const FIELDS: Record<string, Field> = {
  'server-ids': field(
    arb.validServerIds.map(({ text }) => text),
    SERVER_ID_LOOKALIKES
  ),
  type: field(arb.validType, TYPE_LOOKALIKES),
  region: field(fc.constantFrom(...REGIONS), [
    ...words('AP-SOUTHEAST-1 ap_southeast_1 apsoutheast1 ap-southeast-1.evil.com evil.com/x ap-southeast-1/../x'),
    ...words('../ %2e%2e -ap-1 ap--1 ap- 1ap-x ар-southeast-1 ap-southeast-１ ap-southeast-1# ap-southeast-1@evil'),
    ...words('ap.southeast-1 ap-south/east-1 evil.com-1 ap-southeast-1%2f.. ap-southeast-1:443 ap-southeast-1\nx')
  ]),
  'project-id': field(arb.word('0123456789abcdefABCDEF', 32, 32), [
    ...words('../jobs p/1 p%2F1 p.1 p?x p#x рroject ０ p\0 ap-southeast-1 0123456789abcdef0123456789abcde'),
    ...words('0123456789abcdef0123456789abcdef0 0123456789abcdeg0123456789abcdef 01234567-89ab-cdef-0123-456789abcdef'),
    'p 1'
  ]),
  'access-key-id': field(arb.word(arb.ALNUM, 1, 128), [
    ...words('AK+ AK/ ΑΚ AK\nX AK\0 ${{secrets.AK}}'),
    'AK EXAMPLE'
  ]),
  'secret-access-key': secret('k', false),
  'security-token': secret('t', true),
  endpoint: field(arb.validEndpoint, ENDPOINT_LOOKALIKES),
  'iam-endpoint': field(arb.validEndpoint, ENDPOINT_LOOKALIKES),
  'batch-size': field(arb.validInteger(1, MAX_BATCH_SIZE), INTEGER_LOOKALIKES),
  wait: field(arb.validBoolean, BOOLEAN_LOOKALIKES),
  'timeout-seconds': field(arb.validSeconds(TIMEOUT), SECONDS_LOOKALIKES),
  'poll-interval-seconds': field(arb.validSeconds(INTERVAL), SECONDS_LOOKALIKES),
  'request-timeout-seconds': field(arb.validSeconds(INTERVAL), SECONDS_LOOKALIKES),
  'fail-on-error': field(arb.validBoolean, BOOLEAN_LOOKALIKES)
}

interface InputsCase {
  /** Every input of action.yml, as the runner passes it. */
  inputs: Record<string, string>
  env: Record<string, string | undefined>
}
const weighted = <T>(...choices: [number, Arbitrary<T>][]) =>
  fc.oneof(...choices.map(([weight, arbitrary]) => ({ weight, arbitrary })))
const padded = (text: Arbitrary<string>) =>
  weighted(
    [9, text],
    [1, fc.tuple(fc.constantFrom(...arb.TRIMMED_AWAY), text, fc.constantFrom(' ', '\n', '\t')).map((p) => p.join(''))]
  )
const unset = weighted([7, fc.constant('')], [3, fc.constantFrom(...arb.TRIMMED_AWAY)])

/** Half the cases mostly valid (so readInputs often accepts), half wild. */
const inputsCase: Arbitrary<InputsCase> = fc.boolean().chain((wild) => {
  const bad = wild ? 35 : 3
  const inputArbitrary = (input: string): Arbitrary<string> => {
    // An input without a field gets its action.yml default, as the runner passes it, or (in wild
    // cases) garbage; a secret one, a secret.
    const odd = SECRETS.includes(input) ? secret('p', false)[1] : arb.garbage()
    if (!(input in FIELDS)) return weighted([7, fc.constant(defaultOf(input))], [wild ? 3 : 0, odd])
    const [valid, adversarial] = FIELDS[input]
    const blank = ['server-ids', 'access-key-id', 'secret-access-key'].includes(input) ? 15 : 45
    const good = !wild && input === 'region' ? fc.oneof(valid, fc.constantFrom(...REGIONS)) : valid
    return weighted([bad, adversarial], [blank, unset], [100 - bad - blank, padded(good)])
  }
  const envArbitrary = ([valid, adversarial]: Field): Arbitrary<string | undefined> =>
    weighted<string | undefined>(
      [45, fc.constant(undefined)],
      [10, fc.constantFrom(undefined, ...arb.TRIMMED_AWAY)],
      [wild ? 20 : 4, adversarial],
      [wild ? 25 : 41, padded(valid)]
    )
  const env = Object.entries(ENV_FALLBACKS).flatMap(([input, names]) =>
    names.map((name) => [name, envArbitrary(FIELDS[input])] as const)
  )
  return fc.record({
    inputs: fc.record(Object.fromEntries(KNOWN_INPUTS.map((input) => [input, inputArbitrary(input)]))),
    env: fc
      .record(Object.fromEntries(env))
      .map((vars) => ({ PATH: '/usr/bin', HUAWEI_CLOUD_ENDPOINT: 'http://x', ...vars }))
  })
})

/** One input set to a boundary or look-alike value, the others valid: tried first. */
const EDGES: InputsCase[] = [
  ...words('batch-size=0 batch-size=1 batch-size=1000 batch-size=1001 timeout-seconds=0 timeout-seconds=21600'),
  ...words('timeout-seconds=21600.001 type=ЅОFТ wait=FALSE wait=1 fail-on-error=no project-id=../jobs'),
  ...['poll-interval-seconds', 'request-timeout-seconds'].flatMap((input) => words(`${input}=0 ${input}=0.001`)),
  ...['poll-interval-seconds', 'request-timeout-seconds'].flatMap((input) => words(`${input}=300 ${input}=300.001`)),
  ...words(`region=ap-southeast-1.evil.com project-id=${'a'.repeat(64)} access-key-id=${'A'.repeat(129)}`),
  ...words('endpoint=http://127.0.0.1.evil.com endpoint=http://[::1]:8080 iam-endpoint=https://u:pw@iam.example.com'),
  ...[`server-ids=${A},${A.toUpperCase()}`, 'batch-size= 0012 ', 'type= hard\n', `security-token=t${SECRET_MARKER}\nx`]
].map((edge) => ({
  inputs: {
    ...Object.fromEntries(KNOWN_INPUTS.map((input) => [input, defaultOf(input)])),
    ...{ 'server-ids': A, region: 'ap-southeast-1', 'access-key-id': 'AK', 'secret-access-key': `k${SECRET_MARKER}` },
    [edge.slice(0, edge.indexOf('='))]: edge.slice(edge.indexOf('=') + 1)
  },
  env: {}
}))

/** The documented precedence: the input, then each environment variable; all trimmed. */
function effective(c: InputsCase, input: string): string {
  const candidates = [c.inputs[input], ...(ENV_FALLBACKS[input] ?? []).map((name) => c.env[name] ?? '')]
  return candidates.map((value) => value.trim()).find((value) => value !== '') ?? ''
}

/** The cloud's default endpoint for the region when `text` is blank. */
const endpointOf = (text: string, r: ActionInputs, service: 'ecs' | 'iam') =>
  text !== '' ? new URL(text).href : r.region && knownEndpoints(r.cloud, r.region)?.[service].href
const sameUrl = (url: URL | undefined, href: string | undefined) =>
  url?.href === href ? (url ? checkEndpoint(url.href, url) : []) : [`expected ${String(href)}`]

/** Each input readInputs hands to its own parser: the parser (throws when invalid), and what readInputs must make of it. */
const PARSED: Record<string, [parse: (text: string) => unknown, check: (text: string, r: ActionInputs) => string[]]> = {
  'server-ids': [
    (text) => text === '' || parseServerIds(text), // blank is fine: filters may select instead
    (text, r) =>
      text === '' ? (r.serverIds.length === 0 ? [] : ['IDs from nowhere']) : checkServerIds(text, r.serverIds)
  ],
  type: [(text) => parsePowerType(text), (text, r) => checkType(text, r.operation.type)],
  endpoint: [
    (text) => text === '' || parseEndpoint('endpoint', text),
    (text, r) => sameUrl(r.endpoint, endpointOf(text, r, 'ecs'))
  ],
  'iam-endpoint': [
    (text) => text === '' || parseEndpoint('iam-endpoint', text),
    (text, r) => sameUrl(r.iamEndpoint, endpointOf(text, r, 'iam'))
  ],
  'batch-size': [
    (text) => parseAmount('batch-size', text, 1, 1, MAX_BATCH_SIZE),
    (text, { batchSize: size }) =>
      'count' in size
        ? checkInteger(text, Number(defaultOf('batch-size')), 1, MAX_BATCH_SIZE, size.count)
        : text === `${size.percent}%` && size.percent >= 1 && size.percent <= 100
          ? []
          : [`became ${size.percent}%`]
  ],
  wait: [
    (text) => parseBoolean('wait', text, true),
    (text, r) => checkBoolean(text, defaultOf('wait') === 'true', r.wait)
  ],
  'fail-on-error': [
    (text) => parseBoolean('fail-on-error', text, true),
    (text, r) => checkBoolean(text, defaultOf('fail-on-error') === 'true', r.failOnError)
  ],
  ...Object.fromEntries(
    (
      [
        ['timeout-seconds', TIMEOUT, (r: ActionInputs) => r.timeoutMs],
        ['poll-interval-seconds', INTERVAL, (r: ActionInputs) => r.pollIntervalMs],
        ['request-timeout-seconds', INTERVAL, (r: ActionInputs) => r.requestTimeoutMs]
      ] as const
    ).map(([input, limits, ms]) => [
      input,
      [
        (text: string) => parseSeconds(input, text, 1, limits),
        (text: string, r: ActionInputs) => checkSeconds(text, Number(defaultOf(input)), limits, ms(r))
      ]
    ])
  )
}

function checkActionInputs(c: InputsCase, r: ActionInputs): string[] {
  const problems = Object.entries(PARSED).flatMap(([input, [, check]]) =>
    check(c.inputs[input].trim(), r).map((problem) => `${input}: ${problem}`)
  )
  const expect = (ok: boolean, problem: string) => ok || problems.push(problem)
  const region = effective(c, 'region') || undefined
  expect(r.region === region, `region: expected ${String(region)}`)
  expect(r.region === undefined || /^[a-z][a-z0-9]*(-[a-z0-9]+)+$/.test(r.region), 'region: not a host name part')
  const projectId = effective(c, 'project-id').toLowerCase() || undefined
  expect(r.projectId === projectId, `projectId: expected ${String(projectId)}`)
  expect(r.projectId === undefined || /^[0-9a-f]{32}$/.test(r.projectId), 'projectId: not 32 lower-case hex digits')
  expect(r.projectId !== undefined || r.iamEndpoint !== undefined, 'no project ID and no IAM endpoint to look it up')
  if (r.auth.mode === 'oidc') expect(r.auth.idpId === c.inputs['idp-id'].trim(), 'idpId is not the idp-id given')
  else if (r.auth.mode === 'password') expect(r.auth.username === c.inputs['iam-username'].trim(), 'wrong username')
  else {
    const { accessKeyId, secretAccessKey, securityToken } = r.auth.credentials
    expect(accessKeyId === effective(c, 'access-key-id'), 'accessKeyId is not the (trimmed) key given')
    expect(/^[A-Za-z0-9]{1,128}$/.test(accessKeyId), 'accessKeyId is not letters and digits')
    expect(secretAccessKey !== '' && secretAccessKey === effective(c, 'secret-access-key'), 'wrong secretAccessKey')
    const token = effective(c, 'security-token')
    const tokenOk = token === '' ? !('securityToken' in r.auth.credentials) : securityToken === token
    expect(tokenOk, 'securityToken is not the (trimmed) token given, or is there though none was')
    expect(!/[\r\n\0]/.test(securityToken ?? ''), 'securityToken is not one line')
  }
  return problems
}

function readInputsOutcome(c: InputsCase): Outcome {
  const masked: string[] = []
  const asked = new Set<string>()
  const source: InputSource = {
    getInput: (input) => (asked.add(input), c.inputs[input] ?? ''),
    env: c.env,
    maskSecret: (value) => masked.push(value),
    readFile: () => {
      throw Object.assign(new Error('no files in this test'), { code: 'ENOENT' })
    }
  }
  const secrets = SECRETS.map((input) => effective(c, input)).filter((value) => value !== '')
  let messages: string[] = []
  let result: ActionInputs | undefined
  try {
    result = readInputs(source)
  } catch (error) {
    if (!(error instanceof InputErrors)) throw error
    messages = [error.message, ...error.problems.map((problem) => problem.message)]
    expect(error.problems.length).toBeGreaterThan(0)
    const known = (input: string) => KNOWN_INPUTS.includes(input) && asked.has(input)
    const wrong = error.problems.map((p) => (known(p.input) ? rejectionProblem(p, p.input) : `named '${p.input}'`))
    expect(wrong.filter((problem) => problem !== undefined)).toEqual([])
    const invalid = Object.keys(PARSED).filter((input) => throws(() => PARSED[input][0](c.inputs[input].trim())))
    const named = new Set(error.problems.map((problem) => problem.input))
    expect(
      invalid.filter((input) => !named.has(input)),
      'invalid inputs not reported'
    ).toEqual([])
  }
  expect(
    secrets.filter((value) => !masked.includes(value)),
    'secrets never masked'
  ).toEqual([])
  const leaks = messages.filter((m) => m.includes(SECRET_MARKER) || secrets.some((value) => m.includes(value)))
  expect(leaks, 'messages with a secret in them').toEqual([])
  if (result === undefined) return 'rejected'
  expect(checkActionInputs(c, result)).toEqual([])
  return 'accepted'
}

function throws(run: () => unknown): boolean {
  try {
    run()
    return false
  } catch {
    return true
  }
}

describe('readInputs, property-tested', () => {
  it(`readInputs: ${fmt(RUNS.readInputs)} adversarial input sets (every input and HUAWEI_CLOUD_* fallback at once)`, () => {
    holds(RUNS.readInputs, inputsCase, readInputsOutcome, EDGES)
  })
})

describe('property test summary', () => {
  it(`total: ${fmt(TOTAL)} adversarial inputs in ${Object.keys(RUNS).length} properties`, () => {
    // Each property checks that all its planned cases ran; this one holds the README to the total.
    expect(readFileSync(resolve(__dirname, '../../README.md'), 'utf8')).toContain(`${fmt(TOTAL)} adversarial inputs`)
  })
})
