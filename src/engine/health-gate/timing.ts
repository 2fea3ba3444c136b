import { formatDuration } from '../../shared/text'
import type { GatePool } from './types'

/** A weight change steers traffic "within 5 seconds" (Huawei ELB FAQ): the least drain wait. */
export const WEIGHT_PROPAGATION_MS = 5000

/** Protocols whose long connections a weight of 0 cuts at once unless connection drain is on. */
const CONNECTION_PROTOCOLS = new Set(['TCP', 'UDP', 'QUIC'])

export const poolLabel = (pool: { id: string; name: string }): string =>
  pool.name !== '' && pool.name !== pool.id ? `${pool.name} (${pool.id})` : pool.id

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

/** Warnings that change nothing, one per pool: a TCP/UDP/QUIC pool without connection drain (its long connections are cut at weight 0). */
export function timingWarnings(pools: Iterable<GatePool>): string[] {
  const warnings: string[] = []
  for (const pool of pools) {
    if (CONNECTION_PROTOCOLS.has(pool.protocol.toUpperCase()) && !pool.connectionDrain.enable) {
      warnings.push(
        `Pool ${poolLabel(pool)} (${pool.protocol}) has connection drain off: setting a member to weight 0 cuts its open connections at once. Turn on connection drain (deregistration delay) on the pool to let them finish.`
      )
    }
  }
  return warnings
}
