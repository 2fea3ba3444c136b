/**
 * The health-gated rolling case: the bundled action with `health-gate: elb` against a fresh
 * emulator holding `n` servers behind ELB pools with synthetic traffic and an Auto Scaling group,
 * and what the emulator saw of the run (ELB and AS calls, dropped requests, weights, restarts).
 */
import { DEFAULT_ACCESS_KEY, DEFAULT_PROJECT_ID, EcsEmulator, type EmulatorOptions } from '../__tests__/emulator'
import { firstError, type RunContext, spawnAction } from './contenders'
import { type RollingModel, rollingLowerBoundMs, rollingShape } from './model'

/** One wave as the action's `waves` output reports it. */
export interface WaveTiming {
  servers: number
  drainMs: number
  jobMs: number
  healthyMs: number
  restoreMs: number
}

export interface RollingRun {
  n: number
  wallMs: number
  /** Requests to `elb-*` routes and to `as-*` routes, as the emulator counted them. */
  elbCalls: number
  asCalls: number
  byRoute: Partial<Record<string, number>>
  /** Synthetic requests sent into the pools during the run, and those dropped. */
  sent: number
  dropped: number
  /** Every server restarted exactly once. */
  exactlyOnce: boolean
  /** Every member back at its original weight, and no instance removed by Auto Scaling. */
  restored: boolean
  /** Exit 0 and `status: succeeded`. */
  completed: boolean
  outcome: string
  waves: WaveTiming[]
  notes: string[]
}

export interface RollingCell {
  n: number
  runs: RollingRun[]
}

const poolId = (p: number): string => `pool-${String(p + 1).padStart(2, '0')}`
export const SCALING_GROUP = 'asg-01'

/**
 * The emulator's fleet for `ids`: server i in pool i mod pools, each pool on its own dedicated load
 * balancer (so the parallel drains of a wave never wait on each other's busy load balancer), every
 * pool health-checked and carrying traffic, and the first pool's servers in an Auto Scaling group
 * that audits them against that pool every 10 s.
 */
export function rollingFleet(ids: readonly string[], model: RollingModel): EmulatorOptions {
  const { pools } = rollingShape(ids.length, model)
  const members = Array.from({ length: pools }, () => [] as { id: string; serverId: string }[])
  ids.forEach((id, i) => members[i % pools].push({ id: `${poolId(i % pools)}.${i}`, serverId: id }))
  const healthMonitor = {
    delay: model.probeDelayMs / 1000,
    timeout: Math.min(model.probeDelayMs, 300) / 1000,
    maxRetries: model.rise,
    maxRetriesDown: model.fall
  }
  return {
    latencyMs: model.latencyMs,
    jobDurationMs: model.jobMs,
    recordRequests: false,
    inventory: ids.map((id, i) => ({ id, name: `app-${i}` })),
    loadBalancers: members.map((list, p) => ({
      id: `lb-${String(p + 1).padStart(2, '0')}`,
      guaranteed: true,
      pools: [{ id: poolId(p), members: list, healthMonitor }]
    })),
    scalingGroups: [
      {
        id: SCALING_GROUP,
        instances: members[0].map((m) => m.serverId),
        poolIds: [poolId(0)],
        auditTimeMinutes: 0
      }
    ],
    loadBalancing: {
      requestsPerSecond: model.requestsPerSecond,
      busyMs: model.busyMs,
      weightApplyMs: model.weightApplyMs,
      bootDelayMs: model.bootMs
    }
  }
}

/** The action's inputs for a health-gated restart of `ids` on `emulator`. */
export function rollingInputs(
  emulator: EcsEmulator,
  ids: readonly string[],
  model: RollingModel
): Record<string, string> {
  const bound = rollingLowerBoundMs(ids.length, model)
  return {
    'server-ids': ids.join('\n'),
    endpoint: emulator.url,
    'elb-endpoint': emulator.url,
    'as-endpoint': emulator.url,
    'project-id': DEFAULT_PROJECT_ID,
    'access-key-id': DEFAULT_ACCESS_KEY.accessKeyId,
    'secret-access-key': DEFAULT_ACCESS_KEY.secretAccessKey,
    'health-gate': 'elb',
    'max-unavailable-per-pool': `${model.maxUnavailablePercent}%`,
    'drain-seconds': String(model.drainMs / 1000),
    'health-timeout-seconds': '60',
    'as-group-ids': SCALING_GROUP,
    'batch-size': '1000',
    // The model's time runs ten times as fast as the cloud's: so does the pace.
    'max-servers-per-minute': '60000',
    'poll-interval-seconds': String(model.pollMs / 1000),
    'timeout-seconds': String(Math.ceil((3 * bound + 60_000) / 1000))
  }
}

function parseWaves(text: string | undefined): WaveTiming[] {
  try {
    const waves = JSON.parse(text ?? '[]') as {
      servers: string[]
      drain_ms: number
      job_ms: number
      healthy_ms: number
      restore_ms: number
    }[]
    return waves.map((w) => ({
      servers: w.servers.length,
      drainMs: w.drain_ms,
      jobMs: w.job_ms,
      healthyMs: w.healthy_ms,
      restoreMs: w.restore_ms
    }))
  } catch {
    return []
  }
}

/** Whether every member is at its original weight (1) and Auto Scaling removed nothing. */
function restoredFleet(emulator: EcsEmulator, pools: number): boolean {
  const members = Array.from({ length: pools }, (_, p) => emulator.loadBalancing.members(poolId(p))).flat()
  return members.every((m) => m.weight === 1) && emulator.loadBalancing.removals().length === 0
}

/** One health-gated run of `ids` against a fresh emulator with the rolling model. */
export async function runRolling(
  ids: readonly string[],
  model: RollingModel,
  context: Pick<RunContext, 'scratch' | 'actionScript' | 'measureMemory'>
): Promise<RollingRun> {
  const emulator = await EcsEmulator.start(rollingFleet(ids, model))
  try {
    const inputs = rollingInputs(emulator, ids, model)
    const { child, outputs, notes } = await spawnAction(
      context,
      inputs,
      Number(inputs['timeout-seconds']) * 1000 + 30_000
    )
    const traffic = Object.values(emulator.loadBalancing.traffic())
    const { requests } = emulator.counters()
    const sum = (prefix: string): number =>
      Object.entries(requests)
        .filter(([route]) => route.startsWith(prefix))
        .reduce((total, [, count]) => total + count, 0)
    const status = Object.hasOwn(outputs, 'status') ? outputs.status : 'no status output'
    const why = status === 'succeeded' ? undefined : firstError(child.stdout)
    if (why !== undefined) notes.push(why)
    if (child.timedOut) notes.push('killed by the bench timeout')
    if (child.spawnError !== undefined) notes.push(`could not start: ${child.spawnError}`)
    return {
      n: ids.length,
      wallMs: child.wallMs,
      elbCalls: sum('elb-'),
      asCalls: sum('as-'),
      byRoute: Object.fromEntries(Object.entries(requests).filter(([, count]) => count > 0)),
      sent: traffic.reduce((total, pool) => total + pool.sent, 0),
      dropped: traffic.reduce((total, pool) => total + pool.dropped, 0),
      exactlyOnce: ids.every((id) => emulator.restartCount(id) === 1),
      restored: restoredFleet(emulator, rollingShape(ids.length, model).pools),
      completed: child.exitCode === 0 && status === 'succeeded',
      outcome: status,
      waves: parseWaves(outputs.waves),
      notes
    }
  } finally {
    await emulator.close()
  }
}
