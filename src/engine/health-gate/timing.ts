import type { ElbHealthMonitor } from '../../cloud/elb'
import { formatDuration } from '../../shared/text'
import { type GatePool, poolLabel } from './types'

/** A weight change steers traffic "within 5 seconds" (Huawei ELB FAQ): the least drain wait. */
export const WEIGHT_PROPAGATION_MS = 5000

/** Protocols whose long connections a weight of 0 cuts at once unless connection drain is on. */
const CONNECTION_PROTOCOLS = new Set(['TCP', 'UDP', 'QUIC'])

/**
 * Seconds from a server serving again to ONLINE (rise) plus from serving no more to OFFLINE
 * (fall), plus two probe intervals (the first probe comes at a random time within one, and one
 * poll): each window as documented, `timeout × threshold + delay × (threshold − 1)`, so a
 * probe's timeout is already counted once per probe.
 */
export function probeWindowMs(monitor: ElbHealthMonitor): number {
  const window = (threshold: number): number => monitor.timeout * threshold + monitor.delay * (threshold - 1)
  return (window(monitor.maxRetries) + window(monitor.maxRetriesDown) + 2 * monitor.delay) * 1000
}

/** The drain wait of a wave: why it is longer than drain-seconds, if it is. */
export interface DrainWait {
  ms: number
  why: string | undefined
}

/**
 * How long to wait between draining a wave and restarting it: the longest of the weight's
 * propagation, `drain-seconds`, and the connection-drain timeout of each of the wave's pools
 * that has it on.
 */
export function drainWait(pools: readonly GatePool[], drainMs: number, propagationMs: number): DrainWait {
  let ms = Math.max(drainMs, propagationMs)
  let why = drainMs < ms ? `a weight takes up to ${formatDuration(propagationMs)} to steer traffic` : undefined
  for (const pool of pools) {
    const drain = pool.connectionDrain
    if (!drain.enable || drain.timeout * 1000 <= ms) continue
    ms = drain.timeout * 1000
    why = `pool ${poolLabel(pool)} keeps connections to a drained member for ${formatDuration(ms)} (connection drain)`
  }
  return { ms, why }
}

/**
 * Warnings that change nothing, one per pool and concern: a TCP/UDP/QUIC pool without connection
 * drain (its long connections are cut at weight 0), and a health timeout shorter than the pool's
 * health check needs to see a restarted server go down and come back.
 */
export function timingWarnings(pools: Iterable<GatePool>, healthTimeoutMs: number): string[] {
  const warnings: string[] = []
  for (const pool of pools) {
    if (CONNECTION_PROTOCOLS.has(pool.protocol.toUpperCase()) && !pool.connectionDrain.enable) {
      warnings.push(
        `Pool ${poolLabel(pool)} (${pool.protocol}) has connection drain off: setting a member to weight 0 cuts its open connections at once. Turn on connection drain (deregistration delay) on the pool to let them finish.`
      )
    }
    const least = pool.monitor === undefined ? 0 : probeWindowMs(pool.monitor)
    if (healthTimeoutMs < least) {
      warnings.push(
        `health-timeout-seconds (${formatDuration(healthTimeoutMs)}) is below what pool ${poolLabel(pool)}'s health check needs to see a restarted server down and back (rise + fall + 2 × delay = ${formatDuration(least)}), boot time aside: its servers may fail the gate. Raise health-timeout-seconds.`
      )
    }
  }
  return warnings
}
