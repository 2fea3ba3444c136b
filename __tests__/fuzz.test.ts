/**
 * Property-style fuzzing of every input parser. Each case is a random or adversarial string
 * (blank, 10k+ characters, RTL and zero-width marks, emoji, NUL, CR/LF, homoglyphs, full-width
 * digits, URL-encoding, look-alikes of valid values and valid values themselves). For each one
 * the parser must either accept it and return a value that keeps the parser's invariants, or
 * reject it with an InputError naming the right input — never throw anything else.
 *
 * The generator is a seeded PRNG, so every run tries exactly the same strings; a failure lists
 * the offending inputs, which can be pasted into a unit test.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { InputError, InputErrors } from '../src/action/errors'
import { type ActionInputs, readInputs } from '../src/action/inputs'
import { parseEndpoint } from '../src/action/inputs/endpoints'
import { parsePowerType } from '../src/action/inputs/operation'
import { parseServerIds, splitServerIds } from '../src/action/inputs/servers'
import type { InputSource } from '../src/action/inputs/source'
import { MAX_BATCH_SIZE } from '../src/action/inputs/timing'
import { parseAmount, parseBoolean, parseInteger, parseSeconds } from '../src/action/inputs/values'
import { knownEndpoints } from '../src/cloud/clouds'

const SEED = 0x5eed1e55

const CASES = {
  splitServerIds: 3000,
  parseServerIds: 3000,
  parsePowerType: 3000,
  parseBoolean: 3000,
  parseInteger: 3000,
  parseSeconds: 3000,
  parseSecondsSubMillisecond: 500,
  parseEndpoint: 3000,
  readInputs: 2000
} as const
const TOTAL = Object.values(CASES).reduce((sum, n) => sum + n, 0)

const fmt = (n: number): string => n.toLocaleString('en-US')

// ---------------------------------------------------------------------------------------------
// Seeded randomness

/** mulberry32: tiny, fast and good enough to pick test cases. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

class Random {
  private readonly next: () => number

  constructor(label: string) {
    // Each test has its own stream, so adding or reordering tests changes no other test's cases.
    let hash = SEED
    for (const char of label) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193)
    this.next = mulberry32(hash)
  }

  float(): number {
    return this.next()
  }

  /** Whole number in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  chance(probability: number): boolean {
    return this.next() < probability
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]
  }
}

// ---------------------------------------------------------------------------------------------
// Adversarial building blocks

/** Blank to String.prototype.trim, so an input of these counts as not set. */
const TRIMMED_AWAY = ['', ' ', '   ', '\t', '\n', '\r\n', ' \n\t ', '\u00a0', '\u3000', '\u2028', '\ufeff']
/** Also looks blank, but is not whitespace. */
const BLANKS = [...TRIMMED_AWAY, '\u200b', '\u200e\u200f', '\0']

const WEIRD_CHARS = [
  '\0',
  '\t',
  '\n',
  '\r',
  '\r\n',
  '\v',
  '\f',
  ' ',
  '\u0085', // next line, not JS whitespace
  '\u00a0',
  '\u1680',
  '\u2003',
  '\u2028',
  '\u2029',
  '\u3000',
  '\ufeff',
  '\u200b', // zero-width space, not JS whitespace
  '\u200c',
  '\u200d',
  '\u2060',
  '\u200e', // left-to-right mark
  '\u200f', // right-to-left mark
  '\u202e', // right-to-left override
  '\u2066',
  '\u0301', // combining acute
  '💥',
  '👨‍👩‍👧',
  '🇺🇳',
  '\ud800', // lone surrogates
  '\udfff',
  'İ',
  'ı',
  'ſ',
  'ß',
  'K', // Kelvin sign
  'Σ',
  'ﬅ',
  'а', // Cyrillic
  'е',
  'о',
  'Ѕ',
  'Т',
  'Н',
  '１', // full-width
  '٣', // Arabic-Indic
  '𝟙',
  '½',
  '\\',
  '/',
  '%',
  '%00',
  '%2e',
  '%2F',
  '..',
  '../',
  '"',
  "'",
  '`',
  '${{',
  '}}',
  '[',
  ']',
  '<',
  '>',
  '@',
  ':',
  '?',
  '#',
  '&',
  ',',
  ';',
  '.',
  '-',
  '_',
  '+',
  'e',
  'E',
  'x',
  '0',
  '9'
]

const HOMOGLYPHS: Record<string, string> = {
  a: 'а',
  c: 'с',
  e: 'е',
  o: 'о',
  p: 'р',
  x: 'х',
  A: 'А',
  B: 'В',
  E: 'Е',
  H: 'Н',
  O: 'О',
  P: 'Р',
  S: 'Ѕ',
  T: 'Т',
  s: 'ѕ',
  '-': '\u2010'
}

const WRAPPERS: readonly (readonly [string, string])[] = [
  [' ', ''],
  ['', ' '],
  ['\n', '\n'],
  ['\t', ''],
  ['{', '}'],
  ['[', ']'],
  ['"', '"'],
  ["'", "'"],
  ['\u200b', ''],
  ['', '\0'],
  ['\u202e', ''],
  ['\ufeff', ''],
  ['', '\r\n'],
  ['../', ''],
  ['%2e%2e/', '']
]

function randomChar(r: Random): string {
  const kind = r.int(0, 9)
  if (kind < 4) return r.pick(WEIRD_CHARS)
  if (kind < 7) return String.fromCharCode(r.int(0x20, 0x7e))
  if (kind < 8) return String.fromCharCode(r.int(0, 0x1f))
  if (kind < 9) return String.fromCharCode(r.int(0x80, 0xffff)) // includes lone surrogates
  return String.fromCodePoint(r.int(0x10000, 0x10ffff))
}

function garbage(r: Random, maxLength = 24): string {
  let text = ''
  for (let n = r.int(0, maxLength); n > 0; n--) text += randomChar(r)
  return text
}

/** At least 10,000 characters of `unit` (or garbage), maybe with something odd in the middle. */
function long(r: Random, unit: string): string {
  const piece = unit === '' ? garbage(r, 8) || 'x' : unit
  const text = piece.repeat(Math.ceil((10_000 + r.int(0, 2000)) / piece.length))
  if (!r.chance(0.5)) return text
  const at = r.int(0, text.length)
  return text.slice(0, at) + randomChar(r) + text.slice(at)
}

function mutate(r: Random, text: string): string {
  const at = r.int(0, text.length)
  const index = Math.min(at, Math.max(0, text.length - 1))
  switch (r.int(0, 11)) {
    case 0:
      return text.slice(0, at) + randomChar(r) + text.slice(at)
    case 1:
      return text.slice(0, index) + text.slice(index + 1)
    case 2:
      return text.slice(0, index) + randomChar(r) + text.slice(index + 1)
    case 3: {
      const char = text.charAt(index)
      const swapped = char === char.toUpperCase() ? char.toLowerCase() : char.toUpperCase()
      return text.slice(0, index) + swapped + text.slice(index + 1)
    }
    case 4:
      return r.chance(0.5) ? text.toUpperCase() : text.toLowerCase()
    case 5: {
      const [before, after] = r.pick(WRAPPERS)
      return before + text + after
    }
    case 6: {
      // Percent-encode one character.
      const char = text.charAt(index)
      if (char === '') return '%'
      const bytes = [...Buffer.from(char, 'utf8')] // a lone surrogate encodes as U+FFFD
      const encoded = bytes.map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('')
      return text.slice(0, index) + encoded + text.slice(index + 1)
    }
    case 7:
      return text + r.pick([',', ' ', '\n', ';', '', '/', '.']) + text
    case 8: {
      const positions = Array.from(text).flatMap((char, i) => (char in HOMOGLYPHS ? [i] : []))
      if (positions.length === 0) return text + 'е'
      const chars = Array.from(text)
      const i = r.pick(positions)
      chars[i] = HOMOGLYPHS[chars[i]]
      return chars.join('')
    }
    case 9:
      return text.replace(/[0-9]/g, (digit) => (r.chance(0.5) ? String.fromCharCode(0xff10 + Number(digit)) : digit))
    case 10:
      return text.slice(0, index)
    default:
      return r.chance(0.5) ? garbage(r, 4) + text : text + garbage(r, 4)
  }
}

/** A generated case; `expected` is set when the text was built to be valid and must be accepted as that. */
interface Case<T> {
  text: string
  expected?: { value: T }
}

/**
 * The first cases are the fixed adversarial list, in order (so each is always tried); then a mix of
 * blanks, valid values, fixed look-alikes, mutations of both, random garbage and 10k+ strings.
 */
function fuzzCase<T>(r: Random, index: number, fixed: readonly string[], valid: (r: Random) => Case<T>): Case<T> {
  if (index < fixed.length) return { text: fixed[index] }
  const roll = r.float()
  if (roll < 0.07) return { text: r.pick(BLANKS) }
  if (roll < 0.3) return valid(r)
  if (roll < 0.42) return { text: r.pick(fixed) }
  if (roll < 0.8) {
    let text = r.chance(0.6) ? valid(r).text : r.pick(fixed)
    for (let n = r.int(1, 3); n > 0; n--) text = mutate(r, text)
    return { text }
  }
  if (roll < 0.96) return { text: garbage(r) }
  return { text: long(r, r.chance(0.5) ? valid(r).text : '') }
}

// ---------------------------------------------------------------------------------------------
// Checking outcomes

function show(text: string): string {
  return text.length > 60 ? `${JSON.stringify(text.slice(0, 60))}…(${fmt(text.length)} chars)` : JSON.stringify(text)
}

function showValue(value: unknown): string {
  if (value instanceof URL) return `URL ${value.href}`
  const json = JSON.stringify(value) as string | undefined
  return json === undefined ? String(value) : json.length > 100 ? `${json.slice(0, 100)}…` : json
}

/** Why `error` is not a proper rejection of input `name`, or undefined when it is. */
function rejectionProblem(error: unknown, name: string): string | undefined {
  if (!(error instanceof InputError)) {
    const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
    return `threw ${what.slice(0, 200)} instead of an InputError`
  }
  if (error.input !== name) return `threw an InputError naming '${error.input}' instead of '${name}'`
  if (!error.message.startsWith(`Input '${name}': `)) return `threw ${show(error.message)} without the input prefix`
  // Inputs are shown quoted and cut short; a message must not echo a 10k-character value,
  // nor carry a raw line break (a log line starting with '::' would be a workflow command).
  if (error.message.length > 2000) return `threw a ${fmt(error.message.length)}-character message`
  if (/[\r\n\0]/.test(error.message)) return `threw a message with a raw CR, LF or NUL: ${show(error.message)}`
  return undefined
}

class Tally {
  accepted = 0
  rejected = 0
  readonly violations: string[] = []

  constructor(readonly planned: number) {}

  /** Runs one case: a rejection must be a proper InputError, an acceptance must pass `check`. */
  run<T>(label: string, name: string, mustAccept: boolean, parse: () => T, check: (value: T) => string[]): void {
    let value: T
    try {
      value = parse()
    } catch (error) {
      this.rejected++
      const problem = rejectionProblem(error, name)
      if (problem !== undefined) this.violations.push(`${label} ${problem}`)
      else if (mustAccept) this.violations.push(`${label} rejected a valid value: ${(error as Error).message}`)
      return
    }
    this.accepted++
    for (const problem of check(value)) this.violations.push(`${label} accepted → ${showValue(value)}, but ${problem}`)
  }

  /** Every property held; both the accept and the reject paths were exercised. */
  verify(): void {
    expect(this.accepted + this.rejected).toBe(this.planned)
    expect(
      this.violations.slice(0, 12),
      `${fmt(this.violations.length)} of ${fmt(this.planned)} cases broke a property`
    ).toEqual([])
    expect(this.accepted, 'accepted cases').toBeGreaterThanOrEqual(this.planned * 0.05)
    expect(this.rejected, 'rejected cases').toBeGreaterThanOrEqual(this.planned * 0.05)
  }
}

// ---------------------------------------------------------------------------------------------
// Invariants, one checker per parser; each returns the broken properties (none when valid)

const LOWER_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const SEPARATOR = /[\s,]/

/** What every token list must satisfy, whether or not the tokens are UUIDs. */
function checkTokens(text: string, tokens: string[]): string[] {
  const problems: string[] = []
  if (!Array.isArray(tokens)) return ['the result is not an array']
  if (new Set(tokens).size !== tokens.length) problems.push('it has duplicates')
  let rest = text.toLowerCase()
  for (const token of [...tokens].sort((a, b) => b.length - a.length)) {
    if (typeof token !== 'string' || token === '') problems.push(`${showValue(token)} is not a non-empty string`)
    else if (SEPARATOR.test(token)) problems.push(`${show(token)} contains a separator`)
    else if (token !== token.toLowerCase()) problems.push(`${show(token)} is not lower-case`)
    else if (!rest.includes(token)) problems.push(`${show(token)} does not appear in the input (case-insensitively)`)
    else rest = rest.split(token).join(' ')
  }
  // Nothing but the tokens and separators: no entry was silently dropped.
  if (problems.length === 0 && !/^[\s,]*$/.test(rest)) problems.push(`the input also held ${show(rest.trim())}`)
  return problems
}

function checkServerIds(text: string, ids: string[], expected?: { value: string[] }): string[] {
  const problems = checkTokens(text, ids)
  if (ids.length === 0) problems.push('no IDs')
  for (const id of ids) if (!LOWER_UUID.test(id)) problems.push(`${show(id)} is not a lower-case UUID`)
  if (expected && JSON.stringify(ids) !== JSON.stringify(expected.value)) {
    problems.push(`expected ${showValue(expected.value)}`)
  }
  return problems
}

function checkType(text: string, type: string): string[] {
  if (type !== 'SOFT' && type !== 'HARD') return ['not SOFT or HARD']
  // Any case: ASCII, or a letter whose upper case is ASCII (U+017F 'ſ' upper-cases to 'S').
  const wanted = text === '' ? 'SOFT' : text.toUpperCase()
  return type === wanted ? [] : [`expected ${wanted}`]
}

function checkBoolean(text: string, fallback: boolean, value: boolean): string[] {
  if (typeof value !== 'boolean') return ['not a boolean']
  if (text === '') return value === fallback ? [] : [`expected the fallback ${String(fallback)}`]
  if (!/^(true|false)$/i.test(text)) return ['only true or false, in any case, may be accepted']
  return value === (text.toLowerCase() === 'true') ? [] : ['it is the opposite of the text']
}

function checkInteger(text: string, fallback: number, min: number, max: number, value: number): string[] {
  if (text === '') return value === fallback ? [] : [`expected the fallback ${fallback}`]
  const problems: string[] = []
  if (!/^[0-9]+$/.test(text)) problems.push('the text is not plain ASCII digits')
  if (!Number.isInteger(value)) problems.push('not a whole number')
  if (!(value >= min && value <= max)) problems.push(`outside [${min}, ${max}]`)
  if (value !== Number(text)) problems.push(`not Number(text) = ${Number(text)}`)
  return problems
}

interface SecondsLimits {
  allowZero: boolean
  max: number
}

function checkSeconds(text: string, fallbackSeconds: number, limits: SecondsLimits, ms: number): string[] {
  if (text === '') return ms === fallbackSeconds * 1000 ? [] : [`expected the fallback ${fallbackSeconds * 1000} ms`]
  const problems: string[] = []
  if (!/^([0-9]+(\.[0-9]*)?|\.[0-9]+)$/.test(text)) problems.push('the text is not a plain decimal')
  if (!Number.isInteger(ms)) problems.push('not whole milliseconds')
  if (ms !== Math.round(Number(text) * 1000)) problems.push(`not Math.round(Number(text) * 1000)`)
  if (limits.allowZero ? !(ms >= 0) : !(ms > 0)) {
    problems.push(limits.allowZero ? 'below 0 ms' : 'not above 0 ms although zero is not allowed')
  }
  if (!(ms <= limits.max * 1000)) problems.push(`above ${limits.max * 1000} ms`)
  return problems
}

function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
}

function checkEndpoint(text: string, url: URL, expected?: { value: string }): string[] {
  if (!(url instanceof URL)) return ['not a URL']
  const problems: string[] = []
  if (!(url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname)))) {
    problems.push(`protocol ${url.protocol} with host ${show(url.hostname)} is neither https nor loopback http`)
  }
  if (url.hostname === '') problems.push('no host')
  if (url.username !== '' || url.password !== '') problems.push('it has credentials')
  if (url.pathname !== '/') problems.push(`it has the path ${show(url.pathname)}`)
  if (url.search !== '') problems.push(`it has the query ${show(url.search)}`)
  if (url.hash !== '') problems.push(`it has the fragment ${show(url.hash)}`)
  if (url.href !== new URL(text).href) problems.push(`it is not the URL the text names (${new URL(text).href})`)
  if (expected && url.href !== expected.value) problems.push(`expected ${expected.value}`)
  return problems
}

// ---------------------------------------------------------------------------------------------
// Generators of valid values

const HEX = '0123456789abcdef'
const A = '616fb98f-46ca-475e-917e-2563e5a8cd19'
const B = '726fb98f-46ca-475e-917e-2563e5a8cd20'
const numbered = (i: number): string => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`

function randomCase(r: Random, text: string): string {
  return Array.from(text, (char) => (r.chance(0.5) ? char.toUpperCase() : char.toLowerCase())).join('')
}

function uuid(r: Random): string {
  const hex = (n: number): string => word(r, HEX, n, n)
  return `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`
}

function validServerIds(r: Random): Case<string[]> {
  const ids: string[] = []
  const count = r.chance(0.05) ? r.int(100, 400) : r.int(1, 12)
  for (let i = 0; i < count; i++) ids.push(ids.length > 0 && r.chance(0.15) ? r.pick(ids) : uuid(r))
  const shown = ids.map((id) => (r.chance(0.3) ? randomCase(r, id) : id))
  const separators = [',', ' ', '\n', '\t', '\r\n', ', ', ' ,\n', ',,', ' \t ']
  let text = shown.map((id, i) => (i === 0 ? id : r.pick(separators) + id)).join('')
  if (r.chance(0.2)) text = r.pick(separators) + text
  if (r.chance(0.2)) text += r.pick(separators)
  return { text, expected: { value: [...new Set(ids)] } }
}

function validType(r: Random): Case<string> {
  if (r.chance(0.1)) return { text: '', expected: { value: 'SOFT' } }
  const type = r.pick(['SOFT', 'HARD'])
  return { text: randomCase(r, type), expected: { value: type } }
}

function validBoolean(r: Random): Case<boolean> {
  const value = r.chance(0.5)
  return { text: randomCase(r, String(value)), expected: { value } }
}

function validInteger(r: Random, min: number, max: number): Case<number> {
  const top = Math.min(max, min + 1_000_000)
  const value = r.chance(0.3) ? r.pick([min, max, top]) : r.int(min, top)
  const zeros = r.chance(0.1) ? '0'.repeat(r.int(1, 5)) : ''
  return { text: zeros + String(value), expected: { value } }
}

function validSeconds(r: Random, limits: SecondsLimits): Case<number> {
  const whole = r.int(0, limits.max)
  const digits = whole === limits.max ? '' : Array.from({ length: r.int(0, 3) }, () => String(r.int(0, 9))).join('')
  let text = r.pick([`${whole}`, `${whole}.${digits}`, digits === '' ? `${whole}.` : `.${digits}`])
  if (r.chance(0.1)) text = `0${text}`
  if (!limits.allowZero && Math.round(Number(text) * 1000) === 0) text = '0.001'
  return { text, expected: { value: Math.round(Number(text) * 1000) } }
}

function octet(r: Random): number {
  return r.int(0, 255)
}

function validEndpoint(r: Random): Case<string> {
  let text: string
  if (r.chance(0.3)) {
    const host = r.pick([`127.${octet(r)}.${octet(r)}.${octet(r)}`, randomCase(r, 'localhost'), '[::1]'])
    text = `${r.pick(['http', 'HTTP', 'https'])}://${host}`
  } else {
    const label = (): string => word(r, 'abcdefghijklmnopqrstuvwxyz0123456789', 1, 10)
    const host = r.pick([
      `ecs.${r.pick(['ap-southeast-1', 'cn-north-4', 'la-south-2'])}.myhuaweicloud.com`,
      `${label()}.${label()}.com`,
      `${label()}-${label()}.example`,
      `${r.int(1, 126)}.${octet(r)}.${octet(r)}.${octet(r)}`,
      `[2001:db8::${r.int(1, 0xffff).toString(16)}]`
    ])
    text = `${r.pick(['https', 'HTTPS', 'Https'])}://${r.chance(0.2) ? host.toUpperCase() : host}`
  }
  if (r.chance(0.4)) text += `:${r.int(1, 65535)}`
  if (r.chance(0.4)) text += '/'
  return { text, expected: { value: new URL(text).href } }
}

// ---------------------------------------------------------------------------------------------
// Fixed adversarial look-alikes

const FIXED_SERVER_IDS = [
  A,
  A.toUpperCase(),
  `${A},${A.toUpperCase()}`,
  `${A}\r\n${B}\r\n`,
  `{${A}}`,
  `urn:uuid:${A}`,
  A.replace(/-/g, ''),
  A.replace(/-/g, '%2D'),
  A.replace(/-/g, '_'),
  A.replace(/-/g, '\u2010'),
  A.replace(/-/g, '\u2212'),
  `../${A}`,
  `%2e%2e/${A}`,
  `${A}/..`,
  `-${A}`,
  A.slice(0, -1),
  `${A}0`,
  A.replace('f', 'g'),
  A.replace('6', '６'),
  A.replace('a', 'а'),
  A.replace('e', 'е'),
  `${A.slice(0, 8)}\u200b${A.slice(8)}`,
  `${A}\0`,
  `\u202e${A}`,
  `\u200e${A}\u200f`,
  `${A}\u00a0${B}`,
  `${A}\ufeff${B}\u2028`,
  `${A}\u0085${B}`,
  `${A};${B}`,
  `${A}|${B}`,
  `${A}💥`,
  'web-01',
  '*',
  'all',
  'null',
  'undefined',
  '[]',
  `["${A}"]`,
  ' \n, ',
  ',,,',
  Array.from({ length: 300 }, (_, i) => numbered(i)).join(','),
  ', '.repeat(5001),
  'a'.repeat(10_001),
  `${A} `.repeat(400)
]

const FIXED_TYPES = [
  'SOFT',
  'HARD',
  'soft',
  'hard',
  'Soft',
  'hArD',
  '',
  ' SOFT',
  'SOFT ',
  'SOFT\n',
  '\tHARD',
  'SOFT\0',
  'ЅОFТ', // Cyrillic S, O, T
  'НАRD', // Cyrillic H, A
  'ѕoft',
  'ſoft', // U+017F upper-cases to 'S'
  'ſOFT',
  'SOFT\u200b',
  '\u200bSOFT',
  '\u202eDRAH',
  'S0FT',
  'SOFTWARE',
  'SOF',
  'S',
  'HARD,SOFT',
  'SOFT HARD',
  'reboot',
  'FORCE',
  'true',
  '0',
  'null',
  '%53OFT',
  'ＳＯＦＴ',
  'ﬅ',
  'SOFT'.repeat(2600),
  'soft'.padEnd(10_004, ' ')
]

const FIXED_BOOLEANS = [
  'true',
  'false',
  'TRUE',
  'False',
  'tRuE',
  '',
  ' true',
  'true ',
  'true\n',
  'TRUE\0',
  '1',
  '0',
  'yes',
  'no',
  'on',
  'off',
  'y',
  't',
  'f',
  'true.',
  'truе', // Cyrillic e
  'fаlse', // Cyrillic a
  'ｔｒｕｅ',
  'true\u200b',
  '\ufefftrue',
  '\u202eeurt',
  '"true"',
  "'false'",
  'null',
  'undefined',
  'NaN',
  '!false',
  'truefalse',
  'true,false',
  'İtrue',
  'TRUE'.repeat(2501)
]

const FIXED_INTEGERS = [
  '1',
  '2',
  '1000',
  '0',
  '1001',
  '007',
  '0000000000001',
  '-0',
  '+1',
  '-1',
  '1e3',
  '1E3',
  '0x10',
  '0o7',
  '0b1',
  '1.0',
  '1.',
  '.5',
  '1_000',
  '1,000',
  '1 000',
  'Infinity',
  '-Infinity',
  'NaN',
  '１２',
  '١٢',
  '𝟙𝟚',
  '½',
  '²',
  ' 5',
  '5 ',
  '5\n',
  '\t5',
  '5\0',
  '\u200b5',
  '5\u202e',
  '2147483647',
  '2147483648',
  '9007199254740991',
  '9007199254740993',
  '9'.repeat(400),
  '9'.repeat(10_001),
  `${'0'.repeat(10_000)}1`,
  'null',
  'true',
  '[]',
  '5e-324',
  '0.0'
]

const FIXED_SECONDS = [
  '0',
  '0.0',
  '.0',
  '0.',
  '1',
  '1.5',
  '.25',
  '5.',
  '300',
  '300.0',
  '300.0001',
  '300.0000000000000001',
  '21600',
  '21600.0001',
  '21601',
  '0.001',
  '0.0005',
  '0.0004',
  '0.00049',
  '.0001',
  '0.0000001',
  '1e3',
  '1E-3',
  '-0',
  '-1',
  '+1',
  '0x10',
  'Infinity',
  'NaN',
  '1.5.2',
  '.',
  '..',
  '1,5',
  '1 5',
  ' 1',
  '1 ',
  '1\n',
  '１',
  '١',
  '5s',
  '5ms',
  'PT5S',
  '00001.5000',
  '1'.repeat(400),
  '9'.repeat(10_001),
  `0.${'0'.repeat(10_000)}1`,
  `1.${'9'.repeat(10_000)}`
]

const FIXED_ENDPOINTS = [
  'https://ecs.ap-southeast-1.myhuaweicloud.com',
  'http://127.0.0.1:8080',
  'http://[::1]:1',
  'http://localhost',
  'http://127.0.0.1.evil.com',
  'http://localhost.evil.com',
  'http://localhost.',
  'http://[::ffff:127.0.0.1]',
  'http://[::ffff:7f00:1]',
  'http://[0:0:0:0:0:0:0:1]',
  'http://0x7f.1',
  'http://2130706433',
  'http://127.1',
  'http://0177.0.0.1',
  'http://127.0.0.256',
  'http://LOCALHOST',
  'http://localhost%2eevil.com',
  'http://127.0.0.1%2fevil',
  'http://evil.com#@127.0.0.1',
  'http://127.0.0.1@evil.com',
  'http://evil.com\\@127.0.0.1',
  'http://10.0.0.1',
  'http://127.example.com',
  'http://0.0.0.0',
  'javascript:alert(1)',
  'javascript://localhost/%0aalert(1)',
  'file:///',
  'file:///etc/passwd',
  'file://localhost/',
  'data:text/plain,x',
  'blob:https://host/0',
  'ftp://host',
  'ws://localhost',
  'wss://host',
  'https://user:pw@host',
  'https://user@host',
  'https://:@host',
  'https://:pw@host',
  'https://host/../',
  'https://host/..',
  'https://host/%2e%2e',
  'https://host/%2e%2e/',
  'https://host/..%2f',
  'https://host/v1',
  'https://host?',
  'https://host#',
  'https://host?x=1',
  'https://host#frag',
  'https://host:65536',
  'https://host:0',
  'https://host:',
  'https:host',
  'https:/host',
  'https:///host',
  '//host',
  'host',
  'ecs.ap-southeast-1.myhuaweicloud.com',
  'HTTPS://ECS.EXAMPLE.COM',
  'https://ecs.example.com.',
  'https://аpple.com',
  'https://💥.com',
  'https://host\t',
  ' https://host',
  'https://ho\nst',
  'https://[::1]',
  'https://[::1',
  'https://256.256.256.256',
  'https://host%00',
  'https://exa mple.com',
  'https://host:443',
  'http://localhost:80',
  'http://127.0.0.1:8080/path',
  'http://127.0.0.1/?',
  'http://[::1]/#',
  'https://\u202eexample.com',
  'https://\u200bexample.com',
  'https://example.com\0',
  '',
  ' ',
  `https://${'a'.repeat(10_001)}.com`,
  `https://host/${'a'.repeat(10_001)}`
]

// ---------------------------------------------------------------------------------------------
// The parsers, one by one

describe(`input parsers under fuzzing (seed 0x${SEED.toString(16)})`, () => {
  it(`splitServerIds: ${fmt(CASES.splitServerIds)} adversarial strings`, () => {
    const r = new Random('splitServerIds')
    const tally = new Tally(CASES.splitServerIds)
    let nonEmpty = 0
    for (let i = 0; i < CASES.splitServerIds; i++) {
      const { text } = fuzzCase(r, i, FIXED_SERVER_IDS, validServerIds)
      tally.run(
        `splitServerIds(${show(text)})`,
        'server-ids',
        true,
        () => splitServerIds(text),
        (tokens) => {
          if (tokens.length > 0) nonEmpty++
          return checkTokens(text, tokens)
        }
      )
    }
    // It never rejects; both empty and non-empty lists were produced.
    expect(tally.violations.slice(0, 12), `${fmt(tally.violations.length)} cases broke a property`).toEqual([])
    expect(tally.rejected).toBe(0)
    expect(nonEmpty).toBeGreaterThan(CASES.splitServerIds * 0.5)
    expect(nonEmpty).toBeLessThan(CASES.splitServerIds)
  })

  it(`parseServerIds: ${fmt(CASES.parseServerIds)} adversarial strings`, () => {
    const r = new Random('parseServerIds')
    const tally = new Tally(CASES.parseServerIds)
    for (let i = 0; i < CASES.parseServerIds; i++) {
      const { text, expected } = fuzzCase(r, i, FIXED_SERVER_IDS, validServerIds)
      tally.run(
        `parseServerIds(${show(text)})`,
        'server-ids',
        expected !== undefined,
        () => parseServerIds(text),
        (ids) => checkServerIds(text, ids, expected)
      )
    }
    tally.verify()
  })

  it(`parsePowerType: ${fmt(CASES.parsePowerType)} adversarial strings`, () => {
    const r = new Random('parsePowerType')
    const tally = new Tally(CASES.parsePowerType)
    for (let i = 0; i < CASES.parsePowerType; i++) {
      const { text } = fuzzCase(r, i, FIXED_TYPES, validType)
      tally.run(
        `parsePowerType(${show(text)})`,
        'type',
        text === '' || /^(soft|hard)$/i.test(text),
        () => parsePowerType(text),
        (type) => checkType(text, type)
      )
    }
    tally.verify()
  })

  it(`parseBoolean: ${fmt(CASES.parseBoolean)} adversarial strings`, () => {
    const r = new Random('parseBoolean')
    const tally = new Tally(CASES.parseBoolean)
    for (let i = 0; i < CASES.parseBoolean; i++) {
      const { text } = fuzzCase(r, i, FIXED_BOOLEANS, validBoolean)
      const name = r.pick(['wait', 'fail-on-error', 'some-new-flag'])
      const fallback = r.chance(0.5)
      tally.run(
        `parseBoolean(${name}, ${show(text)}, ${String(fallback)})`,
        name,
        text === '' || /^(true|false)$/i.test(text),
        () => parseBoolean(name, text, fallback),
        (value) => checkBoolean(text, fallback, value)
      )
    }
    tally.verify()
  })

  it(`parseInteger: ${fmt(CASES.parseInteger)} adversarial strings`, () => {
    const r = new Random('parseInteger')
    const tally = new Tally(CASES.parseInteger)
    const ranges: readonly (readonly [number, number])[] = [
      [1, MAX_BATCH_SIZE],
      [1, MAX_BATCH_SIZE],
      [0, 10],
      [5, 5],
      [1, 2 ** 31 - 1],
      [0, Number.MAX_SAFE_INTEGER]
    ]
    for (let i = 0; i < CASES.parseInteger; i++) {
      const [min, max] = r.pick(ranges)
      const { text } = fuzzCase(r, i, FIXED_INTEGERS, (g) => validInteger(g, min, max))
      const name = r.pick(['batch-size', 'some-new-count'])
      const fallback = r.int(min, Math.min(max, 1000))
      const inRange = /^[0-9]+$/.test(text) && Number(text) >= min && Number(text) <= max
      tally.run(
        `parseInteger(${name}, ${show(text)}, ${fallback}, ${min}, ${max})`,
        name,
        text === '' || inRange,
        () => parseInteger(name, text, fallback, min, max),
        (value) => checkInteger(text, fallback, min, max, value)
      )
    }
    tally.verify()
  })

  it(`parseSeconds: ${fmt(CASES.parseSeconds)} adversarial strings`, () => {
    const r = new Random('parseSeconds')
    const tally = new Tally(CASES.parseSeconds)
    const variants: readonly (readonly [string, number, SecondsLimits])[] = [
      ['timeout-seconds', 600, { allowZero: true, max: 6 * 60 * 60 }],
      ['poll-interval-seconds', 5, { allowZero: false, max: 300 }],
      ['request-timeout-seconds', 30, { allowZero: false, max: 300 }],
      ['some-new-delay', 1, { allowZero: true, max: 10 }],
      ['some-new-period', 1, { allowZero: false, max: 1 }]
    ]
    for (let i = 0; i < CASES.parseSeconds; i++) {
      const [name, fallback, limits] = r.pick(variants)
      const { text } = fuzzCase(r, i, FIXED_SECONDS, (g) => validSeconds(g, limits))
      const seconds = /^([0-9]+(\.[0-9]*)?|\.[0-9]+)$/.test(text) ? Number(text) : Number.NaN
      const ms = Math.round(seconds * 1000)
      const valid = (limits.allowZero ? ms >= 0 : ms > 0) && seconds <= limits.max
      tally.run(
        `parseSeconds(${name}, ${show(text)}, ${fallback}, ${showValue(limits)})`,
        name,
        text === '' || valid,
        () => parseSeconds(name, text, fallback, limits),
        (value) => checkSeconds(text, fallback, limits, value)
      )
    }
    tally.verify()
  })

  // Found by this fuzzer: values below half a millisecond used to pass the "above 0" check and
  // then round to 0 ms (a poll loop without pause, or requests that time out at once).
  it(`parseSeconds: ${fmt(CASES.parseSecondsSubMillisecond)} sub-millisecond strings never become 0 ms where zero is not allowed`, () => {
    const r = new Random('parseSecondsSubMillisecond')
    const tally = new Tally(CASES.parseSecondsSubMillisecond)
    const fixed = ['0.0004', '.0001', '0.0000001', '0.00049', '0.0004999999', '0.0005', '0.001', '.0000', '0']
    const zeros = (min: number, max: number): string => '0'.repeat(r.int(min, max))
    for (let i = 0; i < CASES.parseSecondsSubMillisecond; i++) {
      const [name, limits] = r.pick([
        ['poll-interval-seconds', { allowZero: false, max: 300 }],
        ['request-timeout-seconds', { allowZero: false, max: 300 }],
        ['some-new-period', { allowZero: false, max: 1 }]
      ] as const)
      const text =
        i < fixed.length
          ? fixed[i]
          : r.pick([
              `0.${zeros(3, 8)}${word(r, '123456789', 1, 5)}`,
              `.${zeros(3, 8)}${word(r, '0123456789', 1, 5)}`,
              `0.000${word(r, '56789', 1, 1)}${word(r, '0123456789', 0, 4)}`,
              `0.00${word(r, '123456789', 1, 3)}`,
              r.pick(['0', '0.', '.0', `0.${zeros(1, 12)}`])
            ])
      const valid = Math.round(Number(text) * 1000) > 0
      tally.run(
        `parseSeconds(${name}, ${show(text)}, 5, ${showValue(limits)})`,
        name,
        valid,
        () => parseSeconds(name, text, 5, limits),
        (value) => checkSeconds(text, 5, limits, value)
      )
    }
    tally.verify()
  })

  it(`parseEndpoint: ${fmt(CASES.parseEndpoint)} adversarial strings`, () => {
    const r = new Random('parseEndpoint')
    const tally = new Tally(CASES.parseEndpoint)
    for (let i = 0; i < CASES.parseEndpoint; i++) {
      const { text, expected } = fuzzCase(r, i, FIXED_ENDPOINTS, validEndpoint)
      const name = r.pick(['endpoint', 'iam-endpoint'])
      tally.run(
        `parseEndpoint(${name}, ${show(text)})`,
        name,
        expected !== undefined,
        () => parseEndpoint(name, text),
        (url) => checkEndpoint(text, url, expected)
      )
    }
    tally.verify()
  })
})

// ---------------------------------------------------------------------------------------------
// readInputs: every input and environment fallback at once

interface ActionMetadata {
  inputs: Record<string, { default?: string } | undefined>
}
const metadata = parse(readFileSync(resolve(__dirname, '..', 'action.yml'), 'utf8')) as ActionMetadata
const KNOWN_INPUTS = new Set(Object.keys(metadata.inputs))
const defaultOf = (name: string): string => metadata.inputs[name]?.default ?? ''

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

const MAX_TIMEOUT_SECONDS = 6 * 60 * 60
const MAX_POLL_INTERVAL_SECONDS = 300
const MAX_REQUEST_TIMEOUT_SECONDS = 300

const REGIONS = [
  'ap-southeast-1',
  'ap-southeast-3',
  'cn-north-4',
  'cn-east-3',
  'la-south-2',
  'af-south-1',
  'eu-west-101'
]
const FIXED_REGIONS = [
  'AP-SOUTHEAST-1',
  'ap_southeast_1',
  'apsoutheast1',
  'ap-southeast-1.evil.com',
  'evil.com/x',
  'ap-southeast-1/../x',
  '../',
  '%2e%2e',
  'ap-southeast-1\n',
  'ap-southeast-1\0',
  'ap-southeast-1\nx',
  '-ap-1',
  'ap--1',
  'ap-',
  '1ap-x',
  'ар-southeast-1',
  'ap-southeast-１',
  'ap-southeast-1\u200b',
  'ap-southeast-1#',
  'ap-southeast-1@evil',
  'ap-southeast-1/x',
  'ap.southeast-1',
  'ap-south/east-1',
  'evil.com-1',
  'ap-southeast-1%2f..',
  'ap-southeast-1:443',
  `${'a'.repeat(10_001)}-1`
]
const FIXED_PROJECT_IDS = [
  '../jobs',
  'p/1',
  'p%2F1',
  'a'.repeat(65),
  'p 1',
  'p.1',
  'p?x',
  'p#x',
  'рroject',
  '０',
  '\u200bp'
]
const FIXED_ACCESS_KEYS = ['AK EXAMPLE', 'AK+', 'AK/', 'A'.repeat(129), 'ΑΚ', 'AK\nX', 'AK\0', '${{ secrets.AK }}']

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
function word(r: Random, alphabet: string, min: number, max: number): string {
  return Array.from({ length: r.int(min, max) }, () => alphabet.charAt(r.int(0, alphabet.length - 1))).join('')
}

interface Field {
  valid(r: Random): string
  adversarial(r: Random): string
}

const anyIndex = Number.POSITIVE_INFINITY
const fromParser = <T>(fixed: readonly string[], valid: (r: Random) => Case<T>): Field => ({
  valid: (r) => valid(r).text,
  adversarial: (r) => fuzzCase(r, anyIndex, fixed, valid).text
})
const fromList = (valid: (r: Random) => string, fixed: readonly string[]): Field => ({
  valid,
  adversarial: (r) => fuzzCase(r, anyIndex, fixed, (g) => ({ text: valid(g) })).text
})

function secretField(serial: () => number, multiLine: boolean): Field {
  const secret = (r: Random, odd: boolean): string => {
    const inner = odd ? garbage(r, 12) : word(r, `${ALNUM}/+=`, 0, 40)
    const value = `${inner}${SECRET_MARKER}${serial()}${odd ? garbage(r, 12) : word(r, ALNUM, 1, 20)}`
    if (odd && multiLine && r.chance(0.3)) return `${value}\n${garbage(r, 6)}`
    return odd && r.chance(0.05) ? long(r, value) : value
  }
  return { valid: (r) => secret(r, false), adversarial: (r) => secret(r, true) }
}

function inputFields(): Record<string, Field> {
  let serial = 0
  const next = (): number => ++serial
  return {
    'server-ids': fromParser(FIXED_SERVER_IDS, validServerIds),
    type: fromParser(FIXED_TYPES, validType),
    region: fromList((r) => r.pick(REGIONS), FIXED_REGIONS),
    'project-id': fromList((r) => word(r, `${ALNUM}-_`, 1, 64), FIXED_PROJECT_IDS),
    'access-key-id': fromList((r) => word(r, ALNUM, 1, 128), FIXED_ACCESS_KEYS),
    'secret-access-key': secretField(next, false),
    'security-token': secretField(next, true),
    endpoint: fromParser(FIXED_ENDPOINTS, validEndpoint),
    'iam-endpoint': fromParser(FIXED_ENDPOINTS, validEndpoint),
    'batch-size': fromParser(FIXED_INTEGERS, (r) => validInteger(r, 1, MAX_BATCH_SIZE)),
    wait: fromParser(FIXED_BOOLEANS, validBoolean),
    'timeout-seconds': fromParser(FIXED_SECONDS, (r) => validSeconds(r, { allowZero: true, max: MAX_TIMEOUT_SECONDS })),
    'poll-interval-seconds': fromParser(FIXED_SECONDS, (r) =>
      validSeconds(r, { allowZero: false, max: MAX_POLL_INTERVAL_SECONDS })
    ),
    'request-timeout-seconds': fromParser(FIXED_SECONDS, (r) =>
      validSeconds(r, { allowZero: false, max: MAX_REQUEST_TIMEOUT_SECONDS })
    ),
    'fail-on-error': fromParser(FIXED_BOOLEANS, validBoolean)
  }
}

interface InputsCase {
  inputs: Record<string, string>
  env: Record<string, string | undefined>
  /** For inputs this test does not know yet (added to the action later). */
  unknown(name: string): string
}

/** One input set to a boundary or look-alike value, all others valid: the first readInputs cases. */
const EDGES: readonly (readonly [string, string])[] = [
  ['batch-size', '0'],
  ['batch-size', '1'],
  ['batch-size', String(MAX_BATCH_SIZE)],
  ['batch-size', String(MAX_BATCH_SIZE + 1)],
  ['batch-size', ' 0012 '],
  ['timeout-seconds', '0'],
  ['timeout-seconds', String(MAX_TIMEOUT_SECONDS)],
  ['timeout-seconds', `${MAX_TIMEOUT_SECONDS}.001`],
  ['poll-interval-seconds', '0'],
  ['poll-interval-seconds', '0.001'],
  ['poll-interval-seconds', String(MAX_POLL_INTERVAL_SECONDS)],
  ['poll-interval-seconds', `${MAX_POLL_INTERVAL_SECONDS}.001`],
  ['request-timeout-seconds', '0'],
  ['request-timeout-seconds', '0.001'],
  ['request-timeout-seconds', String(MAX_REQUEST_TIMEOUT_SECONDS)],
  ['request-timeout-seconds', `${MAX_REQUEST_TIMEOUT_SECONDS}.001`],
  ['type', ' hard\n'],
  ['type', 'ЅОFТ'],
  ['wait', 'FALSE'],
  ['wait', '1'],
  ['fail-on-error', 'no'],
  ['region', 'ap-southeast-1.evil.com'],
  ['project-id', '../jobs'],
  ['project-id', 'a'.repeat(64)],
  ['access-key-id', 'A'.repeat(129)],
  ['security-token', `tok${SECRET_MARKER}\nx`],
  ['endpoint', 'http://127.0.0.1.evil.com'],
  ['endpoint', 'http://[::1]:8080'],
  ['iam-endpoint', 'https://user:pw@iam.example.com'],
  ['server-ids', `${A},${A.toUpperCase()}`]
]

/** The first cases are EDGES; then half are mostly valid (so readInputs often accepts), half wild. */
function inputsCase(r: Random, fields: Record<string, Field>, index: number): InputsCase {
  if (index < EDGES.length) {
    const [name, value] = EDGES[index]
    const inputs: Record<string, string> = {
      'server-ids': A,
      region: 'ap-southeast-1',
      'access-key-id': 'AKEXAMPLE',
      'secret-access-key': `key${SECRET_MARKER}0`,
      [name]: value
    }
    return { inputs, env: {}, unknown: defaultOf }
  }
  const wild = r.chance(0.5)
  const bad = wild ? 0.35 : 0.03
  const pad = (text: string): string =>
    r.chance(0.1) ? `${r.pick(TRIMMED_AWAY)}${text}${r.pick([' ', '\n', '\t'])}` : text
  const inputs: Record<string, string> = {}
  for (const [name, field] of Object.entries(fields)) {
    const required = name === 'server-ids' || name === 'secret-access-key' || name === 'access-key-id'
    const roll = r.float()
    if (roll < bad) inputs[name] = field.adversarial(r)
    else if (roll < bad + (required ? 0.15 : 0.45)) inputs[name] = r.chance(0.7) ? '' : r.pick(TRIMMED_AWAY)
    else inputs[name] = pad(field.valid(r))
  }
  if (!wild && r.chance(0.5)) inputs.region = pad(r.pick(REGIONS))
  const env: Record<string, string | undefined> = { PATH: '/usr/bin', HUAWEI_CLOUD_ENDPOINT: 'http://evil.example' }
  for (const [input, names] of Object.entries(ENV_FALLBACKS)) {
    for (const name of names) {
      const roll = r.float()
      if (roll < 0.45) continue
      if (roll < 0.55) env[name] = r.chance(0.5) ? undefined : r.pick(TRIMMED_AWAY)
      else if (roll < 0.55 + (wild ? 0.2 : 0.04)) env[name] = fields[input].adversarial(r)
      else env[name] = pad(fields[input].valid(r))
    }
  }
  // A new input gets its action.yml default, as the runner would pass it, or (in wild cases) garbage.
  return { inputs, env, unknown: (name) => (wild && r.chance(0.3) ? garbage(r) : defaultOf(name)) }
}

/** The documented precedence: the input, then each environment variable; all trimmed. */
function effective(c: InputsCase, name: string): string {
  const candidates = [c.inputs[name] ?? '', ...(ENV_FALLBACKS[name] ?? []).map((env) => c.env[env] ?? '')]
  return candidates.map((value) => value.trim()).find((value) => value !== '') ?? ''
}

function checkActionInputs(c: InputsCase, result: ActionInputs): string[] {
  const raw = (name: string): string => c.inputs[name] ?? ''
  const text = (name: string): string => raw(name).trim()
  const field = (label: string, problems: string[]): string[] => problems.map((problem) => `${label}: ${problem}`)
  const problems: string[] = []

  problems.push(...field('serverIds', checkServerIds(raw('server-ids'), result.serverIds)))
  problems.push(...field('operation.type', checkType(text('type'), result.operation.type)))

  const region = effective(c, 'region') || undefined
  if (result.region !== region) problems.push(`region: expected ${showValue(region)}`)
  if (result.region !== undefined && !/^[a-z][a-z0-9]*(-[a-z0-9]+)+$/.test(result.region)) {
    problems.push(`region ${show(result.region)} could not be part of a host name`)
  }
  const projectId = effective(c, 'project-id') || undefined
  if (result.projectId !== projectId) problems.push(`projectId: expected ${showValue(projectId)}`)
  if (result.projectId !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(result.projectId)) {
    problems.push(`projectId ${show(result.projectId)} could change the request path`)
  }

  if (result.auth.mode === 'oidc') {
    if (result.auth.idpId !== (c.inputs['idp-id'] ?? '').trim())
      problems.push('idpId is not the (trimmed) idp-id given')
  } else if (result.auth.mode === 'password') {
    if (result.auth.username !== (c.inputs['iam-username'] ?? '').trim())
      problems.push('username is not the iam-username given')
  } else {
    const { credentials } = result.auth
    const { accessKeyId, secretAccessKey, securityToken } = credentials
    if (accessKeyId !== effective(c, 'access-key-id') || !/^[A-Za-z0-9]{1,128}$/.test(accessKeyId)) {
      problems.push(`accessKeyId ${show(accessKeyId)} is not the letters-and-digits key given`)
    }
    if (secretAccessKey === '' || secretAccessKey !== effective(c, 'secret-access-key')) {
      problems.push('secretAccessKey is not the (trimmed) key given')
    }
    const token = effective(c, 'security-token')
    if (token === '' ? 'securityToken' in credentials : securityToken !== token) {
      problems.push('securityToken is not the (trimmed) token given, or is present though none was')
    }
    if (securityToken !== undefined && /[\r\n\0]/.test(securityToken)) problems.push('securityToken is not one line')
  }

  const endpointFor = (name: string, service: 'ecs' | 'iam'): URL | undefined =>
    text(name) !== '' ? new URL(text(name)) : region ? knownEndpoints(result.cloud, region)?.[service] : undefined
  if (!(result.endpoint instanceof URL)) problems.push('endpoint is missing')
  else {
    problems.push(...field('endpoint', checkEndpoint(result.endpoint.href, result.endpoint)))
    if (result.endpoint.href !== endpointFor('endpoint', 'ecs')?.href) {
      problems.push(`endpoint: expected ${showValue(endpointFor('endpoint', 'ecs'))}`)
    }
  }
  if (result.iamEndpoint !== undefined) {
    problems.push(...field('iamEndpoint', checkEndpoint(result.iamEndpoint.href, result.iamEndpoint)))
  }
  if (result.iamEndpoint?.href !== endpointFor('iam-endpoint', 'iam')?.href) {
    problems.push(`iamEndpoint: expected ${showValue(endpointFor('iam-endpoint', 'iam'))}`)
  }
  if (result.projectId === undefined && result.iamEndpoint === undefined) {
    problems.push('no project ID and no IAM endpoint to look it up')
  }

  const batchDefault = Number(defaultOf('batch-size'))
  if ('count' in result.batchSize) {
    problems.push(
      ...field('batchSize', checkInteger(text('batch-size'), batchDefault, 1, MAX_BATCH_SIZE, result.batchSize.count))
    )
  } else {
    const percent = /^(\d+)%$/.exec(text('batch-size'))
    if (
      percent === null ||
      Number(percent[1]) !== result.batchSize.percent ||
      !(result.batchSize.percent >= 1 && result.batchSize.percent <= 100)
    ) {
      problems.push(`batchSize: ${show(text('batch-size'))} became ${showValue(result.batchSize)}`)
    }
  }
  problems.push(...field('wait', checkBoolean(text('wait'), defaultOf('wait') === 'true', result.wait)))
  problems.push(
    ...field(
      'failOnError',
      checkBoolean(text('fail-on-error'), defaultOf('fail-on-error') === 'true', result.failOnError)
    )
  )
  problems.push(
    ...field(
      'timeoutMs',
      checkSeconds(
        text('timeout-seconds'),
        Number(defaultOf('timeout-seconds')),
        { allowZero: true, max: MAX_TIMEOUT_SECONDS },
        result.timeoutMs
      )
    )
  )
  problems.push(
    ...field(
      'pollIntervalMs',
      checkSeconds(
        text('poll-interval-seconds'),
        Number(defaultOf('poll-interval-seconds')),
        { allowZero: false, max: MAX_POLL_INTERVAL_SECONDS },
        result.pollIntervalMs
      )
    )
  )
  problems.push(
    ...field(
      'requestTimeoutMs',
      checkSeconds(
        text('request-timeout-seconds'),
        Number(defaultOf('request-timeout-seconds')),
        { allowZero: false, max: MAX_REQUEST_TIMEOUT_SECONDS },
        result.requestTimeoutMs
      )
    )
  )
  return problems
}

/** Inputs whose own parser rejects the (trimmed) value; readInputs must name each of them. */
function parserRejects(c: InputsCase): string[] {
  const text = (name: string): string => (c.inputs[name] ?? '').trim()
  const parsers: Record<string, () => unknown> = {
    // Blank is allowed on its own: filters or server-ids-file may select instead.
    'server-ids': () => (c.inputs['server-ids'] ?? '').trim() === '' || parseServerIds(c.inputs['server-ids'] ?? ''),
    type: () => parsePowerType(text('type')),
    endpoint: () => text('endpoint') === '' || parseEndpoint('endpoint', text('endpoint')),
    'iam-endpoint': () => text('iam-endpoint') === '' || parseEndpoint('iam-endpoint', text('iam-endpoint')),
    'batch-size': () => parseAmount('batch-size', text('batch-size'), 1, 1, MAX_BATCH_SIZE),
    wait: () => parseBoolean('wait', text('wait'), true),
    'fail-on-error': () => parseBoolean('fail-on-error', text('fail-on-error'), true),
    'timeout-seconds': () =>
      parseSeconds('timeout-seconds', text('timeout-seconds'), 1, { allowZero: true, max: MAX_TIMEOUT_SECONDS }),
    'poll-interval-seconds': () =>
      parseSeconds('poll-interval-seconds', text('poll-interval-seconds'), 1, {
        allowZero: false,
        max: MAX_POLL_INTERVAL_SECONDS
      }),
    'request-timeout-seconds': () =>
      parseSeconds('request-timeout-seconds', text('request-timeout-seconds'), 1, {
        allowZero: false,
        max: MAX_REQUEST_TIMEOUT_SECONDS
      })
  }
  return Object.entries(parsers).flatMap(([name, run]) => {
    try {
      run()
      return []
    } catch {
      return [name]
    }
  })
}

describe('readInputs under fuzzing', () => {
  it(`readInputs: ${fmt(CASES.readInputs)} adversarial input sets (every input and HUAWEI_CLOUD_* fallback at once)`, () => {
    const r = new Random('readInputs')
    const fields = inputFields()
    const tally = new Tally(CASES.readInputs)
    for (let i = 0; i < CASES.readInputs; i++) {
      const c = inputsCase(r, fields, i)
      const masked: string[] = []
      const asked = new Set<string>()
      const source: InputSource = {
        getInput: (name) => {
          asked.add(name)
          return name in c.inputs ? c.inputs[name] : c.unknown(name)
        },
        env: c.env,
        maskSecret: (value) => masked.push(value),
        readFile: () => {
          throw Object.assign(new Error('no files in this test'), { code: 'ENOENT' })
        }
      }
      const label = `readInputs(case ${i}: ${showValue(c.inputs)} env ${showValue(c.env)})`
      const secrets = SECRETS.map((name) => effective(c, name)).filter((value) => value !== '')
      let messages: string[] = []
      try {
        const result = readInputs(source)
        tally.accepted++
        for (const problem of checkActionInputs(c, result)) tally.violations.push(`${label} accepted, but ${problem}`)
      } catch (error) {
        tally.rejected++
        if (!(error instanceof InputErrors)) {
          tally.violations.push(`${label} ${rejectionProblem(error, '(any input)') ?? 'threw a bare InputError'}`)
        } else {
          messages = [error.message, ...error.problems.map((problem) => problem.message)]
          if (error.problems.length === 0) tally.violations.push(`${label} threw InputErrors with no problems`)
          for (const problem of error.problems) {
            const known = problem instanceof InputError && KNOWN_INPUTS.has(problem.input) && asked.has(problem.input)
            const why = known ? rejectionProblem(problem, problem.input) : `a problem names ${showValue(problem.input)}`
            if (why !== undefined) tally.violations.push(`${label} ${why}`)
          }
          const named = new Set(error.problems.map((problem) => problem.input))
          for (const name of parserRejects(c)) {
            if (!named.has(name)) tally.violations.push(`${label} did not report the invalid '${name}'`)
          }
        }
      }
      for (const secret of secrets) {
        if (!masked.includes(secret)) tally.violations.push(`${label} never masked the secret ${show(secret)}`)
      }
      for (const message of messages) {
        if (message.includes(SECRET_MARKER) || secrets.some((secret) => message.includes(secret))) {
          tally.violations.push(`${label} put a secret in the message ${show(message)}`)
        }
      }
    }
    tally.verify()
  })
})

describe('fuzzing summary', () => {
  it(`total: ${fmt(TOTAL)} adversarial inputs in ${Object.keys(CASES).length} fuzz tests (${Object.entries(CASES)
    .map(([parser, n]) => `${parser} ${fmt(n)}`)
    .join(', ')})`, () => {
    // Each fuzz test checks that all its planned cases ran; this one holds the README to the total.
    expect(readFileSync(resolve(__dirname, '../README.md'), 'utf8')).toContain(`${fmt(TOTAL)} adversarial inputs`)
  })
})
