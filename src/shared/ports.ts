/** What every layer logs through; the action edge sends it to the runner's log. */
export interface Logger {
  info(message: string): void
  warning(message: string): void
  debug(message: string): void
}

/** Waits `ms`, or less when `signal` aborts first; never rejects. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>

/** Milliseconds since the epoch. */
export type Clock = () => number
