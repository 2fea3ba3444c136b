/** The cloud model the benchmark runs against, and what it implies. */
export interface Model {
  /** Added to every request by the emulator. */
  latencyMs: number
  /** Time from a restart's acceptance until its job (or server) is done. */
  jobMs: number
  /** Servers restarted per sliding window... */
  limitServers: number
  /** ...of this length. */
  windowMs: number
}

/** 1000 servers per minute (the documented limit) compressed into one second; 3 s jobs; 40 ms per request. */
export const DEFAULT_MODEL: Model = { latencyMs: 40, jobMs: 3000, limitServers: 1000, windowMs: 1000 }

/** The model's limit expressed per minute, which is how the action's `max-servers-per-minute` takes it. */
export function serversPerMinute(model: Model): number {
  return Math.floor((model.limitServers * 60_000) / model.windowMs)
}

/**
 * The least time any client can take for `n` servers: the first window's worth goes at once and
 * each further one waits a window, then the last job takes `jobMs`, and at least one submit and one
 * status check each cost a round trip.
 */
export function lowerBoundMs(n: number, model: Model): number {
  const windows = Math.max(1, Math.ceil(n / model.limitServers))
  return (windows - 1) * model.windowMs + model.jobMs + 2 * model.latencyMs
}

export function describeModel(model: Model): string {
  return (
    `${model.latencyMs} ms per request, jobs done ${model.jobMs} ms after submission, ` +
    `at most ${model.limitServers} servers restarted per ${model.windowMs} ms sliding window ` +
    `(= ${serversPerMinute(model)} per minute)`
  )
}
