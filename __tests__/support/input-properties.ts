/**
 * What the input property tests share: the cases per property, the check that a property held
 * for all its cases with both outcomes, what a proper rejection is, each parser's invariants, and
 * the look-alikes of valid values (tried first, then mutated). See the test files' headers for how
 * to replay a failure.
 */
import fc, { type Arbitrary } from 'fast-check'
import { expect } from 'vitest'
import { InputError } from '../../src/action/errors'
import * as arb from './arbitraries'
import { A, B, type SecondsLimits, words } from './arbitraries'

if (process.env.FC_SEED !== undefined) {
  fc.configureGlobal({ seed: Number(process.env.FC_SEED), ...(process.env.FC_PATH && { path: process.env.FC_PATH }) })
}

/** Cases per property; the fixed look-alikes (`examples`) are the first of them. */
export const RUNS = {
  splitServerIds: 3000,
  parseServerIdsValid: 500,
  parseServerIds: 2500,
  parsePowerType: 3000,
  parseBoolean: 3000,
  parseInteger: 2500,
  parseAmount: 500,
  parseSeconds: 3000,
  parseSecondsSubMillisecond: 500,
  parseEndpointValid: 500,
  parseEndpoint: 2500,
  parseEndpointUserInfo: 500,
  readInputs: 2000
}
export const TOTAL = Object.values(RUNS).reduce((sum, n) => sum + n, 0)
export const fmt = (n: number): string => n.toLocaleString('en-US')
export const show = (text: string): string => JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text)
export type Outcome = 'accepted' | 'rejected'

/**
 * Asserts `body` for `runs` cases (`examples` first); then, unless replaying one path, that at
 * least `share` of them were accepted and as many rejected, so that the property says something.
 */
export function holds<C>(runs: number, cases: Arbitrary<C>, body: (c: C) => Outcome, examples: C[] = [], share = 0.05) {
  const tally = { accepted: 0, rejected: 0 }
  const examplesAsTuples = examples.map((example): [C] => [example])
  fc.assert(
    fc.property(cases, (c) => {
      tally[body(c)]++
    }),
    { numRuns: runs, examples: examplesAsTuples }
  )
  if (process.env.FC_PATH !== undefined) return
  expect(tally.accepted + tally.rejected).toBe(runs)
  expect(Math.min(tally.accepted, tally.rejected), JSON.stringify(tally)).toBeGreaterThanOrEqual(runs * share)
}

/** Why `error` is not a proper rejection of input `name`, or undefined when it is. */
export function rejectionProblem(error: unknown, name: string): string | undefined {
  if (!(error instanceof InputError)) return `threw ${String(error).slice(0, 200)} instead of an InputError`
  if (error.input !== name) return `threw an InputError naming '${error.input}' instead of '${name}'`
  if (!error.message.startsWith(`Input '${name}': `)) return `threw ${show(error.message)} without the input prefix`
  // Not echoing a 10k-character value, nor carrying a raw line break (a log line starting with
  // '::' would be a workflow command).
  if (error.message.length > 2000) return `threw a ${fmt(error.message.length)}-character message`
  if (/[\r\n\0]/.test(error.message)) return `threw a message with a raw CR, LF or NUL: ${show(error.message)}`
  return undefined
}

/** One parser call: the input its errors must name, whether it must accept, and the invariants of its value. */
export interface Trial<T> {
  input: string
  valid: boolean
  parse: () => T
  check: (value: T) => string[]
}

export function outcome<T>({ input, valid, parse, check }: Trial<T>): Outcome {
  let value: T
  try {
    value = parse()
  } catch (error) {
    expect(rejectionProblem(error, input)).toBeUndefined()
    expect(valid, `rejected a valid value: ${String(error)}`).toBe(false)
    return 'rejected'
  }
  expect(check(value), `accepted as ${value instanceof URL ? value.href : JSON.stringify(value)}`).toEqual([])
  return 'accepted'
}

// ---------------------------------------------------------------------------------------------
// Invariants, one checker per parser; each returns the broken properties (none when valid)

/** Non-empty, lower-case, separator-free pieces of the input; no duplicates; nothing dropped. */
export function checkTokens(text: string, tokens: string[]): string[] {
  const problems = new Set(tokens).size === tokens.length ? [] : ['it has duplicates']
  let rest = text.toLowerCase()
  for (const token of [...tokens].sort((a, b) => b.length - a.length)) {
    if (token === '' || /[\s,]/.test(token)) problems.push(`${show(token)} is empty or holds a separator`)
    else if (token !== token.toLowerCase()) problems.push(`${show(token)} is not lower-case`)
    else if (!rest.includes(token)) problems.push(`${show(token)} is not in the input (case-insensitively)`)
    else rest = rest.split(token).join(' ')
  }
  if (problems.length === 0 && !/^[\s,]*$/.test(rest)) problems.push(`the input also held ${show(rest.trim())}`)
  return problems
}

export function checkServerIds(text: string, ids: string[]): string[] {
  const notUuids = ids.filter((id) => !arb.LOWER_UUID.test(id)).map((id) => `${show(id)} is not a lower-case UUID`)
  return [...checkTokens(text, ids), ...(ids.length === 0 ? ['no IDs'] : []), ...notUuids]
}

export function checkType(text: string, type: string): string[] {
  // Any case: ASCII, or a letter whose upper case is ASCII (U+017F 'ſ' upper-cases to 'S').
  const wanted = text === '' ? 'SOFT' : text.toUpperCase()
  return type !== 'SOFT' && type !== 'HARD' ? ['not SOFT or HARD'] : type === wanted ? [] : [`expected ${wanted}`]
}

export function checkBoolean(text: string, fallback: boolean, value: boolean): string[] {
  if (text === '') return value === fallback ? [] : [`expected the fallback ${String(fallback)}`]
  if (!/^(true|false)$/i.test(text)) return ['only true or false, in any case, may be accepted']
  return value === (text.toLowerCase() === 'true') ? [] : ['it is the opposite of the text']
}

export function checkInteger(text: string, fallback: number, min: number, max: number, value: number): string[] {
  if (text === '') return value === fallback ? [] : [`expected the fallback ${fallback}`]
  return [
    ...(/^[0-9]+$/.test(text) ? [] : ['the text is not plain ASCII digits']),
    ...(Number.isInteger(value) ? [] : ['not a whole number']),
    ...(value >= min && value <= max ? [] : [`outside [${min}, ${max}]`]),
    ...(value === Number(text) ? [] : [`not Number(text) = ${Number(text)}`])
  ]
}

export const DECIMAL = /^([0-9]+(\.[0-9]*)?|\.[0-9]+)$/

export function checkSeconds(
  text: string,
  fallbackSeconds: number,
  { allowZero, max, min }: SecondsLimits,
  ms: number
) {
  if (text === '') return ms === fallbackSeconds * 1000 ? [] : [`expected the fallback ${fallbackSeconds * 1000} ms`]
  return [
    ...(DECIMAL.test(text) ? [] : ['the text is not a plain decimal']),
    ...(Number.isInteger(ms) ? [] : ['not whole milliseconds']),
    ...(ms === Math.round(Number(text) * 1000) ? [] : ['not Math.round(Number(text) * 1000)']),
    ...((allowZero ? ms >= 0 : ms > 0) ? [] : [allowZero ? 'below 0 ms' : 'not above 0 ms']),
    ...(min === undefined || ms >= min * 1000 ? [] : [`below ${min} s`]),
    ...(ms <= max * 1000 ? [] : [`above ${max * 1000} ms`])
  ]
}

export function checkEndpoint(text: string, url: URL): string[] {
  const loopback = /^(localhost|\[::1\]|127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.test(url.hostname)
  return [
    ...(url.protocol === 'https:' || (url.protocol === 'http:' && loopback) ? [] : ['not https nor loopback http']),
    ...(url.hostname === '' ? ['no host'] : []),
    ...(url.username !== '' || url.password !== '' ? ['it has credentials'] : []),
    ...(url.pathname !== '/' || url.search !== '' || url.hash !== '' ? ['it has a path, query or fragment'] : []),
    ...(url.href === new URL(text).href ? [] : [`it is not the URL the text names (${new URL(text).href})`])
  ]
}

// ---------------------------------------------------------------------------------------------
// Look-alikes of valid values: each tried first, as an example, then mutated by `adversarial`

export const SERVER_ID_LOOKALIKES = [
  ...[A, `${A},${A.toUpperCase()}`, `${A}\r\n${B}\r\n`, `{${A}}`, `urn:uuid:${A}`, A.replace(/-/g, ''), `-${A}`],
  ...['%2D', '_', '\u2010', '\u2212'].map((dash) => A.replace(/-/g, dash)),
  ...[`../${A}`, `${A}/..`, A.slice(0, -1), `${A}0`, A.replace('f', 'g'), `${A}\u00a0${B}`, `${A}\u0085${B}`],
  ...[`${A};${B}`, `${A}|${B}`, `["${A}"]`, ' \n, ', ...words('web-01 * all null undefined [] ,,,')],
  Array.from({ length: 300 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`).join(',')
]
export const TYPE_LOOKALIKES = [
  ...words('SOFT HARD soft hard Soft hArD ЅОFТ НАRD ѕoft ſoft ſOFT S0FT SOFTWARE SOF S HARD,SOFT reboot'),
  ...['', 'SOFT HARD', '\u202eDRAH', ...words('FORCE true 0 null %53OFT ＳＯＦＴ ﬅ')]
]
export const BOOLEAN_LOOKALIKES = [
  ...words('true false TRUE False tRuE 1 0 yes no on off y t f true. truе fаlse ｔｒｕｅ "true" \'false\''),
  ...['', '\u202eeurt', ...words('null undefined NaN !false truefalse true,false İtrue')]
]
export const INTEGER_LOOKALIKES = [
  ...words('1 2 1000 0 1001 007 0000000000001 -0 +1 -1 1e3 1E3 0x10 0o7 0b1 1.0 1. .5 1_000 1,000'),
  ...words('Infinity -Infinity NaN １２ ١٢ 𝟙𝟚 ½ ² 2147483647 2147483648 9007199254740991 9007199254740993'),
  ...['1 000', '9'.repeat(400), ...words('null true [] 5e-324 0.0')]
]
export const SECONDS_LOOKALIKES = words(
  '0 0.0 .0 0. 1 1.5 .25 5. 300 300.0 300.0001 300.0000000000000001 21600 21600.0001 21601 0.001 0.0005 ' +
    '0.0004 0.00049 .0001 0.0000001 1e3 1E-3 -0 -1 +1 0x10 Infinity NaN 1.5.2 . .. 1,5 １ ١ 5s 5ms PT5S ' +
    `00001.5000 ${'1'.repeat(400)} 0.${'0'.repeat(10_000)}1 1.${'9'.repeat(10_000)}`
)
export const ENDPOINT_LOOKALIKES = [
  ...words('https://ecs.ap-southeast-1.myhuaweicloud.com http://127.0.0.1:8080 http://[::1]:1 http://localhost'),
  ...words('javascript:alert(1) javascript://localhost/%0aalert(1) file:///etc/passwd data:text/plain,x'),
  ...words('blob:https://host/0 https:host https:/host https:///host //host host HTTPS://ECS.EXAMPLE.COM'),
  ...['', 'https://exa mple.com', 'https://ho\nst', `https://${'a'.repeat(10_001)}.com`]
]
