/**
 * fast-check arbitraries for adversarial input strings: blank, very long (10k+), RTL and
 * zero-width marks, emoji, NUL, CR/LF, homoglyphs, full-width digits, URL-encoding, look-alikes of
 * valid values and valid values themselves. `adversarial(valid, lookalikes)` composes them: a
 * mix of blanks, valid values, look-alikes, mutations of both (an odd character inserted at a
 * random position, a homoglyph swapped in, a character percent-encoded, ...), garbage and 10k+
 * strings. Every arbitrary shrinks: a failure comes back as the smallest string that still fails.
 */
import fc, { type Arbitrary } from 'fast-check'

/** Blank to String.prototype.trim, so an input of these counts as not set. */
export const TRIMMED_AWAY = ['', ' ', '   ', '\t', '\n', '\r\n', ' \n\t ', '\u00a0', '\u3000', '\u2028', '\ufeff']
/** Looks blank too, but is not whitespace: zero-width space, LTR and RTL marks, NUL. */
export const blank = fc.constantFrom(...TRIMMED_AWAY, '\u200b', '\u200e\u200f', '\0')

const invisible = '\u200b\u200c\u200d\u2060\u200e\u200f\u202e\u2066\ufeff' // zero-width, LTR/RTL marks, BOM
const controls = '\0\t\n\r\v\f \u0085\u00a0\u1680\u2003\u2028\u2029\u3000' // NUL, CR/LF, odd spaces
const lookalikes = 'İıſßKΣﬅаеоЅТН１٣𝟙½\u0301' // Kelvin sign, Cyrillic, full-width, Arabic-Indic, combining acute
const punctuation = `\\/%"'\`[]<>@:?#&,;.-_+eEx09`
const WEIRD = [
  ...Array.from(invisible + controls + lookalikes + punctuation),
  ...['\r\n', '💥', '👨‍👩‍👧', '🇺🇳', '\ud800', '\udfff', '%00', '%2e', '%2F', '..', '../', '${{', '}}']
]

/** One odd character (or short unit): mostly the list above, else any ASCII, control, BMP or astral one. */
export const weirdChar: Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...WEIRD) },
  { weight: 3, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x1f }).map((code) => String.fromCharCode(code)) },
  { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xffff }).map((code) => String.fromCharCode(code)) }, // lone surrogates too
  { weight: 1, arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }).map((code) => String.fromCodePoint(code)) }
)

export const garbage = (maxLength = 24): Arbitrary<string> =>
  fc.array(weirdChar, { maxLength }).map((chars) => chars.join(''))

/** `text` repeated to 10,000+ characters, maybe with an odd character somewhere inside. */
export const long = (text: Arbitrary<string>): Arbitrary<string> =>
  fc
    .record({ unit: text, filler: garbage(8), extra: fc.nat(2000), odd: fc.option(weirdChar), at: fc.nat() })
    .map(({ unit, filler, extra, odd, at }) => {
      const piece = unit || filler || 'x'
      const whole = piece.repeat(Math.ceil((10_000 + extra) / piece.length))
      const i = at % (whole.length + 1)
      return odd === null ? whole : whole.slice(0, i) + odd + whole.slice(i)
    })

/** `text` with each character's case taken from a bit of `mask`. */
export function mixCase(text: string, mask: number): string {
  return Array.from(text, (char, i) => ((mask >>> (i % 31)) & 1 ? char.toUpperCase() : char.toLowerCase())).join('')
}

export const anyCase = (text: Arbitrary<string>): Arbitrary<string> =>
  fc.tuple(text, fc.nat()).map(([value, mask]) => mixCase(value, mask))

/** Text made only of `alphabet`'s characters. */
export const word = (alphabet: string, minLength: number, maxLength: number): Arbitrary<string> =>
  fc.array(fc.constantFrom(...Array.from(alphabet)), { minLength, maxLength }).map((chars) => chars.join(''))

export const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

const HOMOGLYPH_OF = new Map(Array.from('aceopxABEHOPSTs-', (char, i) => [char, Array.from('асеорхАВЕНОРЅТѕ‐')[i]]))
const WRAPPERS = [
  ' |',
  '| ',
  '\n|\n',
  '\t|',
  '{|}',
  '[|]',
  '"|"',
  "'|'",
  '\u200b|',
  '|\0',
  '\u202e|',
  '\ufeff|',
  '|\r\n'
]
const JOINERS = [',', ' ', '\n', ';', '', '/', '.']

const mutation = fc.record({
  kind: fc.integer({ min: 0, max: 11 }),
  at: fc.nat(),
  char: weirdChar,
  pick: fc.nat(),
  affix: garbage(4)
})
type Mutation = typeof mutation extends Arbitrary<infer T> ? T : never

function mutate(text: string, { kind, at, char, pick, affix }: Mutation): string {
  const i = at % (text.length + 1)
  const j = Math.min(i, Math.max(0, text.length - 1)) // an existing character, when there is one
  const [before, after] = [text.slice(0, j), text.slice(j + 1)]
  switch (kind) {
    case 0: // insert an odd character
      return text.slice(0, i) + char + text.slice(i)
    case 1: // delete one
      return before + after
    case 2: // replace one
      return before + char + after
    case 3: // flip one character's case
      return before + mixCase(text.charAt(j), text.charAt(j) === text.charAt(j).toUpperCase() ? 0 : 1) + after
    case 4: // all upper or lower case
      return mixCase(text, pick % 2 ? -1 : 0)
    case 5: // wrap in blanks, quotes, brackets, marks
      return WRAPPERS[pick % WRAPPERS.length].replace('|', () => text)
    case 6: {
      // URL-encode one character (a lone surrogate encodes as U+FFFD)
      if (text === '') return '%'
      const bytes = [...Buffer.from(text.charAt(j), 'utf8')]
      return before + bytes.map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('') + after
    }
    case 7: // the value twice
      return text + JOINERS[pick % JOINERS.length] + text
    case 8: {
      // one Latin letter or hyphen swapped for its Cyrillic (or Unicode hyphen) homoglyph
      const chars = Array.from(text)
      const spots = chars.flatMap((c, k) => (HOMOGLYPH_OF.has(c) ? [k] : []))
      if (spots.length === 0) return text + 'е'
      const k = spots[pick % spots.length]
      chars[k] = HOMOGLYPH_OF.get(chars[k]) ?? chars[k]
      return chars.join('')
    }
    case 9: // full-width digits
      return text.replace(/[0-9]/g, (d, k: number) =>
        (pick >>> (k % 31)) & 1 ? d : String.fromCharCode(0xff10 + Number(d))
      )
    case 10: // cut short
      return text.slice(0, j)
    default: // garbage before or after
      return pick % 2 ? affix + text : text + affix
  }
}

/** `text` after one to three mutations. */
export const mutated = (text: Arbitrary<string>): Arbitrary<string> =>
  fc
    .tuple(text, fc.array(mutation, { minLength: 1, maxLength: 3 }))
    .map(([value, mutations]) => mutations.reduce(mutate, value))

/** The mix every parser is fed: mostly near-misses of valid values, some blanks, garbage and huge strings. */
export function adversarial(valid: Arbitrary<string>, lookalikes: readonly string[] | Arbitrary<string>) {
  const lookalike = lookalikes instanceof fc.Arbitrary ? lookalikes : fc.constantFrom(...lookalikes)
  return fc.oneof(
    { weight: 7, arbitrary: blank },
    { weight: 23, arbitrary: valid },
    { weight: 12, arbitrary: lookalike },
    { weight: 38, arbitrary: mutated(fc.oneof({ weight: 3, arbitrary: valid }, { weight: 2, arbitrary: lookalike })) },
    { weight: 16, arbitrary: garbage() },
    { weight: 4, arbitrary: long(fc.oneof(valid, fc.constant(''))) }
  )
}

/** Words separated by single spaces, for look-alike lists without blanks in them. */
export const words = (text: string): string[] => text.split(' ')

// ---------------------------------------------------------------------------------------------
// Valid values, one generator per parser

export const LOWER_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
export const A = '616fb98f-46ca-475e-917e-2563e5a8cd19'
export const B = '726fb98f-46ca-475e-917e-2563e5a8cd20'
export const uuid = fc.stringMatching(LOWER_UUID)

const SEPARATORS = [',', ' ', '\n', '\t', '\r\n', ', ', ' ,\n', ',,', ' \t ']
const separator = fc.constantFrom(...SEPARATORS)

/** A list of IDs in mixed case and separators, with repeats; `ids` is what parsing must return. */
export const validServerIds: Arbitrary<{ text: string; ids: string[] }> = fc
  .record({
    entries: fc.oneof(
      { weight: 19, arbitrary: fc.array(fc.tuple(uuid, fc.nat(), separator), { minLength: 1, maxLength: 12 }) },
      { weight: 1, arbitrary: fc.array(fc.tuple(uuid, fc.nat(), separator), { minLength: 100, maxLength: 400 }) }
    ),
    lead: fc.option(separator),
    trail: fc.option(separator)
  })
  .map(({ entries, lead, trail }) => {
    // An entry whose number is 0 mod 7 repeats an earlier ID; one in three is shown in mixed case.
    const ids: string[] = []
    entries.forEach(([id, n], i) => ids.push(i > 0 && n % 7 === 0 ? ids[n % i] : id))
    const shown = ids.map((id, i) => (entries[i][1] % 3 === 0 ? mixCase(id, entries[i][1]) : id))
    const text = shown.map((id, i) => (i === 0 ? id : entries[i][2] + id)).join('')
    return { text: (lead ?? '') + text + (trail ?? ''), ids: [...new Set(ids)] }
  })

export const validType = fc.oneof(
  { weight: 1, arbitrary: fc.constant('') },
  { weight: 9, arbitrary: anyCase(fc.constantFrom('SOFT', 'HARD')) }
)
export const validBoolean = anyCase(fc.constantFrom('true', 'false'))

export const validInteger = (min: number, max: number): Arbitrary<string> => {
  const top = Math.min(max, min + 1_000_000)
  const value = fc.oneof(fc.constantFrom(min, max, top), fc.integer({ min, max: top }))
  const zeros = fc.oneof({ weight: 9, arbitrary: fc.constant('') }, { weight: 1, arbitrary: word('0', 1, 5) })
  return fc.tuple(zeros, value).map(([z, n]) => `${z}${n}`)
}

export interface SecondsLimits {
  allowZero: boolean
  max: number
  /** A lower bound above zero (seconds), e.g. 1 for timeout-seconds. */
  min?: number
}

export const validSeconds = ({ allowZero, max, min }: SecondsLimits): Arbitrary<string> =>
  fc
    .record({ whole: fc.integer({ min: 0, max }), digits: word('0123456789', 0, 3), form: fc.nat(2), zero: fc.nat(9) })
    .map(({ whole, digits, form, zero }) => {
      const fraction = whole === max ? '' : digits
      let text = [`${whole}`, `${whole}.${fraction}`, fraction === '' ? `${whole}.` : `.${fraction}`][form]
      if (zero === 0) text = `0${text}`
      if (min !== undefined && Number(text) < min) return String(min)
      return !allowZero && Math.round(Number(text) * 1000) === 0 ? '0.001' : text
    })

const octet = fc.integer({ min: 0, max: 255 })
const label = word('abcdefghijklmnopqrstuvwxyz0123456789', 1, 10)
const loopback = fc.tuple(
  fc.constantFrom('http', 'HTTP', 'https'),
  fc.oneof(
    fc.tuple(octet, octet, octet).map((o) => `127.${o.join('.')}`),
    anyCase(fc.constant('localhost')),
    fc.constant('[::1]')
  )
)
const remote = fc.tuple(
  fc.constantFrom('https', 'HTTPS', 'Https'),
  anyCase(
    fc.oneof(
      fc.constantFrom('ap-southeast-1', 'cn-north-4', 'la-south-2').map((r) => `ecs.${r}.myhuaweicloud.com`),
      fc.tuple(label, label).map(([a, b]) => `${a}.${b}.com`),
      fc.tuple(label, label).map(([a, b]) => `${a}-${b}.example`),
      fc.tuple(fc.integer({ min: 1, max: 126 }), octet, octet, octet).map((o) => o.join('.')),
      fc.integer({ min: 1, max: 0xffff }).map((n) => `[2001:db8::${n.toString(16)}]`)
    )
  )
)
export const validEndpoint: Arbitrary<string> = fc
  .tuple(
    fc.oneof({ weight: 3, arbitrary: loopback }, { weight: 7, arbitrary: remote }),
    fc.option(fc.integer({ min: 1, max: 65535 })),
    fc.boolean()
  )
  .map(([[scheme, host], port, slash]) => `${scheme}://${host}${port === null ? '' : `:${port}`}${slash ? '/' : ''}`)
