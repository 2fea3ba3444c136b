import { ApiClient, type ApiClientOptions } from '../cloud/api'
import type { Authenticator } from '../cloud/auth'
import { AutoScalingClient } from '../cloud/autoscaling'
import { ElbClient } from '../cloud/elb'
import { discover } from '../engine/health-gate/discover'
import { discoverStandby } from '../engine/health-gate/standby-discover'
import { type GateReport, HealthGate } from '../engine/health-gate/gate'
import { inStandby, needsRestore, openEntries, restoreAll } from '../engine/health-gate/restore'
import { exitStandbyHint } from '../engine/health-gate/scaling-groups'
import { type Journal, type SaveJournal, type Topology, poolLabel } from '../engine/health-gate/types'
import { WEIGHT_PROPAGATION_MS, timingWarnings } from '../engine/health-gate/timing'
import { sizeWaves } from '../engine/health-gate/waves'
import type { Plan } from '../engine/plan'
import { errorMessage, formatDuration, plural } from '../shared/text'
import type { ActionIO } from './action-io'
import type { HealthGateSettings } from './inputs/health-gate'
import { JOURNAL_STATE, newJournalPath, writeJournal } from './journal-file'

/** Signed in: what a new API client needs. */
export interface Connection {
  authenticator: Authenticator
  projectId: string
  options: Omit<ApiClientOptions, 'authenticator'>
}

/** Runner's grace after a cancellation: SIGTERM comes 7.5 s after SIGINT, the kill 2.5 s later. */
const CANCEL_GRACE_MS = 6000
/** The least time putting weights back may take when not cancelled. */
const MIN_RESTORE_MS = 10_000
const STABLE_POLLS = 2

/** The ELB and AS clients, on their own signal (a restore must still go out after a cancellation). */
function gateClients(
  settings: HealthGateSettings,
  connection: Connection,
  signal: AbortSignal,
  giveUpLimit: (giveUpAt: number) => string
): { elb: ElbClient; scaling: AutoScalingClient | undefined } {
  const { options, authenticator, projectId } = connection
  const api = new ApiClient({ ...options, authenticator, signal, giveUpLimit })
  const { clock, sleep, random } = options
  return {
    elb: new ElbClient(api, settings.elbEndpoint, projectId, { clock, sleep, random, signal }),
    scaling: settings.asEndpoint && new AutoScalingClient(api, settings.asEndpoint, projectId)
  }
}

/**
 * Which limit a gate call's `giveUpAt` is, for the API client's give-up warning: the run's
 * deadline, or the minute the gate gives each ELB call (discovery waits until the deadline).
 */
export function elbGiveUpLimit(deadline: number): (giveUpAt: number) => string {
  return (giveUpAt) =>
    giveUpAt >= deadline ? 'timeout-seconds' : 'the 1 min an ELB call may wait out throttling or a busy load balancer'
}

export interface PreparedGate {
  plan: Plan
  topology: Topology
  /** Undefined in a dry run. */
  gate: HealthGate | undefined
  save: SaveJournal
}

/** Log lines: each pool with its members and weights, then each wave. */
function describeTopology(topology: Topology, waves: string[][]): string[] {
  const lines: string[] = []
  for (const pool of topology.pools.values()) {
    const type = pool.loadBalancer.guaranteed ? 'dedicated' : 'shared'
    lines.push(
      `Pool ${poolLabel(pool)} on ${type} load balancer ${pool.loadBalancer.id}: ${pool.members.length} members, ${pool.weighted} weighted, keeps at least ${pool.minHealthy} healthy`
    )
    for (const member of pool.members) {
      lines.push(
        `  member ${member.id} server ${member.instanceId || member.address} weight ${member.weight} ${member.statuses.join('/')}`
      )
    }
  }
  waves.forEach((ids, i) => lines.push(`Wave ${i + 1}: ${ids.join(', ')}`))
  return [...lines, ...topology.notes]
}

/**
 * Discovers the pools of the chosen servers, refuses an unsafe run before any change, sizes the
 * waves, and (unless a dry run) saves the journal's path for the post step before anything changes.
 */
export async function prepareGate(
  settings: HealthGateSettings,
  chosen: string[],
  run: { maxPerWave: number; deadline: number; pollIntervalMs: number; dryRun: boolean },
  connection: Connection,
  io: ActionIO
): Promise<PreparedGate> {
  const clients = gateClients(settings, connection, io.cancellation, elbGiveUpLimit(run.deadline))
  const { scaling } = clients
  // The load balancers and the scaling groups are read at the same time.
  const [topology, found] = await Promise.all([
    discover(chosen, settings, clients.elb, run.deadline),
    settings.protection === 'standby' && scaling !== undefined
      ? discoverStandby(chosen, settings.scalingGroupIds, scaling, settings.poolIds, run.deadline)
      : undefined
  ])
  if (found !== undefined) {
    topology.standby = found.standby
    topology.refusals.push(...found.refusals)
    topology.notes.push(...found.notes)
  }
  if (topology.refusals.length > 0) {
    throw new Error(
      `health-gate: elb refused to start; nothing was changed:\n${topology.refusals.map((r) => `- ${r}`).join('\n')}`
    )
  }
  for (const warning of timingWarnings(topology.pools.values(), settings.healthTimeoutMs)) io.log.warning(warning)
  const waves = sizeWaves(chosen, topology, run.maxPerWave)
  const plan: Plan = { waves: waves.map((serverIds, i) => [{ number: i + 1, serverIds }]), batchCount: waves.length }
  io.log.group(
    `Health gate: ${plural(topology.pools.size, 'pool')}, ${plural(waves.length, 'wave')}`,
    describeTopology(topology, waves)
  )
  if (run.dryRun) return { plan, topology, gate: undefined, save: () => {} }
  const path = newJournalPath(io.env)
  const save: SaveJournal = (journal) => writeJournal(path, journal)
  const { clock, sleep, random } = connection.options
  const gate = new HealthGate(
    topology,
    {
      drainMs: settings.drainMs,
      propagationMs: WEIGHT_PROPAGATION_MS,
      healthTimeoutMs: settings.healthTimeoutMs,
      pollIntervalMs: run.pollIntervalMs,
      stablePolls: STABLE_POLLS,
      deadline: run.deadline,
      // Paused around each wave with pause; with standby, only while the servers turn healthy again.
      scalingGroupIds: settings.protection === 'pause' ? settings.scalingGroupIds : []
    },
    { ...clients, clock, sleep, random, log: io.log, signal: io.cancellation },
    save
  )
  save(gate.journal)
  io.saveState?.(JOURNAL_STATE, path)
  io.log.info(`Journal of drained members: ${path} (the post step restores from it if this step is killed)`)
  return { plan, topology, gate, save }
}

/**
 * Puts back whatever is still drained (after a failure or a cancellation), with a client of its
 * own that is not cancelled, within the runner's grace period when cancelled.
 */
export async function restoreJournal(
  journal: Journal,
  settings: HealthGateSettings,
  connection: Connection,
  io: ActionIO,
  save: SaveJournal,
  graceMs: number
): Promise<Pick<GateReport, 'restores' | 'alerts'>> {
  if (!needsRestore(journal)) return { restores: [], alerts: [] }
  const signal = AbortSignal.timeout(graceMs)
  const limit = io.cancellation.aborted
    ? `the runner's grace after the cancellation (${formatDuration(graceMs)})`
    : `the ${formatDuration(graceMs)} allowed for putting the weights back`
  const clients = gateClients(settings, connection, signal, () => limit)
  const { clock, sleep } = connection.options
  try {
    const { results, alerts } = await restoreAll(
      journal,
      { ...clients, log: io.log, clock, sleep },
      clock() + graceMs,
      save
    )
    return { restores: results, alerts }
  } catch (error) {
    const left = openEntries(journal).map(
      (e) => `${e.memberId} (server ${e.serverId}, pool ${e.poolId}) → weight ${e.originalWeight}`
    )
    const alerts = [
      `Restoring the drained members failed (${errorMessage(error)}); set these back by hand: ${left.join('; ') || 'none'}`
    ]
    for (const { groupId, serverId } of inStandby(journal)) {
      alerts.push(
        `Server ${serverId} may still be in standby in scaling group ${groupId}. ${exitStandbyHint(groupId, [serverId])}`
      )
    }
    return { restores: [], alerts }
  }
}

/** After the run: anything still drained is put back; alerts become error annotations. */
export async function finishGate(
  prepared: PreparedGate,
  settings: HealthGateSettings,
  connection: Connection,
  io: ActionIO
): Promise<GateReport | undefined> {
  const { gate } = prepared
  if (gate === undefined) return undefined
  // Cancelled: within the runner's grace. Otherwise as long as a wave may take to turn healthy
  // (a paused group is resumed only once its servers are), and long enough for a busy load balancer.
  const graceMs = io.cancellation.aborted ? CANCEL_GRACE_MS : Math.max(settings.healthTimeoutMs, MIN_RESTORE_MS)
  const { restores, alerts } = await restoreJournal(gate.journal, settings, connection, io, prepared.save, graceMs)
  gate.report.restores.push(...restores)
  gate.report.alerts.push(...alerts)
  for (const alert of gate.report.alerts) io.log.error(alert, 'Health gate: act by hand')
  return gate.report
}
