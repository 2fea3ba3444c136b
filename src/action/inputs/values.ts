import { InputError } from '../errors'
import { quoted } from './source'

/** A count, or a percentage of the selected servers (resolved once they are known). */
export type Amount = { count: number } | { percent: number }

export function parseBoolean(name: string, text: string, fallback: boolean): boolean {
  if (text === '') return fallback
  const lower = text.toLowerCase()
  if (lower === 'true' || lower === 'false') return lower === 'true'
  throw new InputError(name, `${quoted(text)} is not allowed; use true or false`)
}

/** true, false, or auto (which takes `auto`'s value). */
export function parseBooleanOrAuto(name: string, text: string, auto: boolean): boolean {
  return text.toLowerCase() === 'auto' ? auto : parseBoolean(name, text, auto)
}

export function parseInteger(name: string, text: string, fallback: number, min: number, max: number): number {
  if (text === '') return fallback
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN
  if (!(value >= min && value <= max)) {
    throw new InputError(name, `${quoted(text)} is not allowed; use a whole number from ${min} to ${max}`)
  }
  return value
}

/** A whole number from `min` to `max`, or a percentage from 1% to 100%. */
export function parseAmount(
  name: string,
  text: string,
  fallback: number,
  min: number,
  max: number,
  /** What a percentage is of, for the error message. */
  percentOf = 'the selected servers'
): Amount {
  const percent = /^(\d+)%$/.exec(text)
  const value = percent === null ? Number.NaN : Number(percent[1])
  if (value >= 1 && value <= 100) return { percent: value }
  if (percent === null && (text === '' || /^\d+$/.test(text))) {
    const count = text === '' ? fallback : Number(text)
    if (count >= min && count <= max) return { count }
  }
  throw new InputError(
    name,
    `${quoted(text)} is not allowed; use a whole number from ${min} to ${max}, or a percentage of ${percentOf} from 1% to 100% (e.g. 25%)`
  )
}

/** The amount for `total` servers: a percentage rounds `rounding`, then is kept within bounds. */
export function resolveAmount(
  amount: Amount,
  total: number,
  rounding: 'up' | 'down',
  min: number,
  max: number
): number {
  if ('count' in amount) return amount.count
  const exact = (total * amount.percent) / 100
  return Math.min(max, Math.max(min, rounding === 'up' ? Math.ceil(exact) : Math.floor(exact)))
}

/** Seconds, decimals allowed, returned in milliseconds. */
export function parseSeconds(
  name: string,
  text: string,
  fallbackSeconds: number,
  limits: { allowZero: boolean; max: number; min?: number }
): number {
  if (text === '') return fallbackSeconds * 1000
  const value = /^(\d+(\.\d*)?|\.\d+)$/.test(text) ? Number(text) : Number.NaN
  const ms = Math.round(value * 1000)
  // Milliseconds are the resolution: a value that rounds to 0 ms is zero.
  const low = limits.min !== undefined ? ms >= limits.min * 1000 : limits.allowZero ? ms >= 0 : ms >= 1
  if (!(low && value <= limits.max)) {
    const from = limits.min ?? (limits.allowZero ? 0 : 0.001)
    const range = `from ${from} to ${limits.max}`
    throw new InputError(name, `${quoted(text)} is not allowed; use a number of seconds ${range} (decimals allowed)`)
  }
  return ms
}
