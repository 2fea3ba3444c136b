/**
 * `npm run try -- elb`: a health-gated rolling restart of a load-balanced fleet carrying traffic,
 * then a plain `rolling: true` restart of the same fleet, with the requests each one dropped.
 */
import type { EcsEmulator, EmulatorOptions } from '../__tests__/emulator'
import type { ActionRun } from '../__tests__/support/run-action'
import { serverIds } from '../bench/contenders'
import type { RollingModel } from '../bench/model'
import { SCALING_GROUP, rollingFleet } from '../bench/rolling'
import type { TryCase, TryContext, TryStep } from './try-cases'

/**
 * The bench's rolling fleet, small and fast: 30 servers in 3 pools of 10, each pool on its own
 * dedicated load balancer probing every 0.2 s (rise 2, fall 2), weights steering 0.2 s after a
 * change, servers serving 0.4 s after they are ACTIVE, 0.1 s jobs, 20 requests per second per pool.
 */
const FAST: RollingModel = {
  latencyMs: 0,
  jobMs: 100,
  drainMs: 500,
  weightApplyMs: 200,
  bootMs: 400,
  probeDelayMs: 200,
  rise: 2,
  fall: 2,
  busyMs: 50,
  requestsPerSecond: 20,
  pollMs: 100,
  maxUnavailablePercent: 20,
  minPoolSize: 10,
  maxPools: 3
}
const SERVERS = serverIds(30)

function fleet(): EmulatorOptions {
  const options = rollingFleet(SERVERS, FAST)
  return {
    ...options,
    recordRequests: true,
    // The group audits every 5 minutes: while the plain rolling restart runs it deletes nothing.
    scalingGroups: options.scalingGroups?.map((group) => ({ ...group, auditTimeMinutes: 5 }))
  }
}

/** How long the fleet is left to settle after a step before its dropped requests are counted. */
const SETTLE_MS = 1500

interface Counted {
  sent: number
  dropped: number
  removed: number
}

/** What the emulator's traffic met so far: requests sent and dropped over all pools, servers Auto Scaling removed. */
function count(emulator: EcsEmulator): Counted {
  const pools = Object.values(emulator.loadBalancing.traffic())
  return {
    sent: pools.reduce((sum, pool) => sum + pool.sent, 0),
    dropped: pools.reduce((sum, pool) => sum + pool.dropped, 0),
    removed: emulator.loadBalancing.removals().length
  }
}

/** The drops of each step, by emulator (one per `npm run try -- elb`). */
const seen = new WeakMap<EcsEmulator, { start: Counted; steps: Counted[] }>()

function begin({ emulator }: TryContext): void {
  const record = seen.get(emulator) ?? { start: count(emulator), steps: [] }
  seen.set(emulator, record)
}

async function tally(run: ActionRun, { emulator }: TryContext): Promise<void> {
  await new Promise((done) => setTimeout(done, SETTLE_MS))
  const record = seen.get(emulator)
  if (record === undefined) return
  const now = count(emulator)
  const before = record.steps.at(-1) ?? record.start
  const step = {
    sent: now.sent - before.sent,
    dropped: now.dropped - before.dropped,
    removed: now.removed - before.removed
  }
  record.steps.push(now)
  console.log(
    `Requests dropped during this step: ${step.dropped} of ${step.sent} sent into the pools` +
      (step.removed > 0 ? `; Auto Scaling removed ${step.removed} server(s) it saw unhealthy` : '')
  )
  if (!('waves' in run.outputs)) return
  const waves = JSON.parse(run.outputs.waves) as {
    wave: number
    servers: string[]
    drain_ms: number
    job_ms: number
    healthy_ms: number
    restore_ms: number
  }[]
  if (waves.length === 0) return
  console.log('Per wave (the `waves` output):')
  const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`
  for (const w of waves) {
    console.log(
      `  Wave ${w.wave} (${w.servers.length} servers): drain ${s(w.drain_ms)}, restart ${s(w.job_ms)}, until healthy ${s(w.healthy_ms)}, restore ${s(w.restore_ms)}`
    )
  }
}

function finish({ emulator }: TryContext): void {
  const record = seen.get(emulator)
  if (record === undefined || record.steps.length !== 2) return
  const [start, gated, rolling] = [record.start, ...record.steps]
  console.log(
    `\nDropped requests on the same fleet: health-gated ${gated.dropped - start.dropped}, rolling: true ${rolling.dropped - gated.dropped}.`
  )
}

export const ELB_CASE: TryCase = {
  name: 'elb',
  summary:
    'a health-gated restart behind ELB with traffic (health-gate: elb), then plain rolling: true on the same fleet',
  shows:
    'the pools and waves in the log, each wave drained, restarted, gated on load-balancer health and restored; no request dropped, while rolling: true drops some; the per-wave timings of the `waves` output.',
  fleet: {
    description: `30 servers app-0…app-29 in 3 ELB pools of 10, each on its own dedicated load balancer, health checks every 0.2 s, 20 requests per second into each pool, and the first pool's servers in Auto Scaling group ${SCALING_GROUP}`,
    options: fleet
  },
  steps: (context): TryStep[] => {
    begin(context)
    const servers = SERVERS.join('\n')
    const url = context.emulator.url
    return [
      {
        title: 'Health-gated rolling restart (health-gate: elb)',
        inputs: {
          'server-ids': servers,
          'health-gate': 'elb',
          'max-unavailable-per-pool': `${FAST.maxUnavailablePercent}%`,
          'drain-seconds': String(FAST.drainMs / 1000),
          'health-timeout-seconds': '30',
          'as-group-ids': SCALING_GROUP,
          'elb-endpoint': url,
          'as-endpoint': url
        },
        expectedExit: 0,
        after: tally
      },
      {
        title: 'The same fleet with plain rolling: true (no health gate)',
        inputs: { 'server-ids': servers, rolling: 'true', 'batch-size': '5' },
        expectedExit: 0,
        after: tally
      }
    ]
  },
  finish
}
