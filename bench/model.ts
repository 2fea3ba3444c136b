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

/**
 * The health-gated rolling case (`--cases rolling`): a load-balanced fleet whose timings are the
 * cloud's defaults divided by ten (probes every 5 s → 0.5 s, weights steering within 5 s → 0.5 s,
 * a 30 s boot → 3 s), jobs as in the plain model. `drain-seconds` is 5, not the default's tenth:
 * the action never drains for less than the 5 s Huawei gives a weight to apply, whatever the input.
 */
export interface RollingModel {
  /** Added by the emulator to every request. */
  latencyMs: number
  /** Restart job duration: the server is ACTIVE again this long after the restart was accepted. */
  jobMs: number
  /** The action's `drain-seconds`, in ms. */
  drainMs: number
  /** A weight change steers traffic this long after it was accepted. */
  weightApplyMs: number
  /** A server serves this long after it is ACTIVE again. */
  bootMs: number
  /** The pools' health check: `delay` (ms), `max_retries` (rise) and `max_retries_down` (fall). */
  probeDelayMs: number
  rise: number
  fall: number
  /** A load balancer answers member updates 409 ELB.8907 this long after each change. */
  busyMs: number
  /** Synthetic requests per second into each pool. */
  requestsPerSecond: number
  /** The action's `poll-interval-seconds`, in ms. */
  pollMs: number
  /** The action's `max-unavailable-per-pool`, a percentage. */
  maxUnavailablePercent: number
  /** Servers per pool at least (pools of fewer servers are merged) ... */
  minPoolSize: number
  /** ... and at most this many pools, each on its own dedicated load balancer. */
  maxPools: number
}

export const DEFAULT_ROLLING_MODEL: RollingModel = {
  latencyMs: 40,
  jobMs: 3000,
  drainMs: 5000,
  weightApplyMs: 500,
  bootMs: 3000,
  probeDelayMs: 500,
  rise: 3,
  fall: 3,
  busyMs: 100,
  requestsPerSecond: 20,
  pollMs: 250,
  maxUnavailablePercent: 20,
  minPoolSize: 10,
  maxPools: 10
}

/** How `n` servers are spread: server i is in pool i mod `pools`; each wave takes `perWave` of every pool. */
export interface RollingShape {
  pools: number
  /** Members of the largest pool. */
  poolSize: number
  /** Members a pool may lose per wave: its percentage, rounded down, at least 1 (as the action rounds it). */
  perWave: number
  waves: number
}

export function rollingShape(n: number, model: RollingModel): RollingShape {
  const pools = Math.min(model.maxPools, Math.max(1, Math.floor(n / model.minPoolSize)))
  const poolSize = Math.ceil(n / pools)
  const perWave = Math.max(1, Math.floor((poolSize * model.maxUnavailablePercent) / 100))
  return { pools, poolSize, perWave, waves: Math.ceil(poolSize / perWave) }
}

/** The least time one wave can take, by phase (see bench/README.md). */
export function rollingWaveBoundMs(model: RollingModel): {
  drain: number
  job: number
  healthy: number
  restore: number
  total: number
} {
  const drain = model.latencyMs + Math.max(model.drainMs, model.weightApplyMs)
  const job = model.latencyMs + model.jobMs
  const healthy = model.bootMs + (model.rise - 1) * model.probeDelayMs + model.latencyMs
  const restore = model.latencyMs
  return { drain, job, healthy, restore, total: drain + job + healthy + restore }
}

/** The least time a health-gated rolling restart of `n` servers can take: every wave's bound, one after the other. */
export function rollingLowerBoundMs(n: number, model: RollingModel): number {
  return rollingShape(n, model).waves * rollingWaveBoundMs(model).total
}

export function describeRollingModel(model: RollingModel): string {
  return (
    `${model.latencyMs} ms per request, jobs done ${model.jobMs} ms after submission, servers serving ${model.bootMs} ms after they are ACTIVE, ` +
    `health checks every ${model.probeDelayMs} ms (rise ${model.rise}, fall ${model.fall}), weights steering ${model.weightApplyMs} ms after a change, ` +
    `load balancers busy ${model.busyMs} ms after each change, ${model.requestsPerSecond} requests per second into every pool; ` +
    `drain-seconds ${model.drainMs / 1000}, poll-interval-seconds ${model.pollMs / 1000}, max-unavailable-per-pool ${model.maxUnavailablePercent}%`
  )
}
