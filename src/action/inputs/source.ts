import { hideUserInfo } from '../../shared/text'
import { InputError, InputErrors } from '../errors'

export interface InputSource {
  /** The raw input as the runner passes it (`INPUT_<NAME>`), '' when not set. */
  getInput(name: string): string
  env: Record<string, string | undefined>
  /** Called for every secret the moment it is read, before anything can print it. */
  maskSecret(value: string): void
  /** Reads a file of the workspace (`server-ids-file`). */
  readFile(path: string): string
}

/**
 * A value quoted back in an error message: any user-info (`https://user:pass@host`) hidden first,
 * then shortened so a pasted file cannot flood the log.
 */
export function quoted(token: string, max = 40): string {
  const safe = hideUserInfo(token)
  const shown = safe.length > max ? `${safe.slice(0, max)}…` : safe
  return JSON.stringify(shown)
}

/** The input, trimmed; '' when not set. */
export function trimmedInput(source: InputSource, name: string): string {
  return source.getInput(name).trim()
}

/** The explicit input wins, then the environment variables, in order. */
export function firstSet(source: InputSource, input: string, envNames: string[]): string {
  const explicit = trimmedInput(source, input)
  if (explicit !== '') return explicit
  for (const name of envNames) {
    const value = source.env[name]?.trim()
    if (value) return value
  }
  return ''
}

/** Like {@link firstSet}, and masked the moment it is read. */
export function readSecret(source: InputSource, input: string, envNames: string[]): string {
  const value = firstSet(source, input, envNames)
  if (value !== '') source.maskSecret(value)
  return value
}

/** Collects every input problem, so one run reports all that needs fixing. */
export class Problems {
  private readonly found: InputError[] = []

  /** The parsed value; on a problem, records it and returns `fallback` (the run then stops anyway). */
  check<T>(parse: () => T, fallback?: T): T {
    try {
      return parse()
    } catch (error) {
      if (!(error instanceof InputError)) throw error
      this.found.push(error)
      return fallback as T
    }
  }

  /** Throws {@link InputErrors} when anything was found. */
  throwIfAny(): void {
    if (this.found.length > 0) throw new InputErrors(this.found)
  }
}
