/**
 * The traffic model: each pool receives synthetic requests at a steady rate, routed by smooth
 * weighted round robin among the members the load balancer routes to; a request that lands on a
 * server not serving at that instant is dropped and counted. Each pool's healthy count is sampled.
 */
import type { PoolSample, PoolTraffic } from './lb-options'

/** A member as routing sees it at one instant. */
export interface Candidate {
  id: string
  serverId: string
  weight: number
}

export class PoolTrafficState {
  readonly counts: PoolTraffic = { sent: 0, served: 0, dropped: 0, unroutable: 0, servers: {} }
  readonly samples: PoolSample[] = []
  /** Smooth weighted round robin: each member's current weight. */
  private readonly current = new Map<string, number>()

  /** Routes one request among `candidates` (weight > 0); `serving` says whether the chosen server answers. */
  route(candidates: Candidate[], serving: (serverId: string) => boolean): void {
    this.counts.sent++
    const chosen = this.pick(candidates)
    if (chosen === undefined) {
      this.counts.dropped++
      this.counts.unroutable++
      return
    }
    const server = (this.counts.servers[chosen.serverId] ??= { served: 0, dropped: 0 })
    if (serving(chosen.serverId)) {
      this.counts.served++
      server.served++
    } else {
      this.counts.dropped++
      server.dropped++
    }
  }

  sample(sample: PoolSample): void {
    this.samples.push(sample)
  }

  /** Copies of the counters. */
  snapshot(): PoolTraffic {
    const servers: PoolTraffic['servers'] = {}
    for (const [id, counts] of Object.entries(this.counts.servers)) servers[id] = { ...counts }
    return { ...this.counts, servers }
  }

  /** nginx's smooth weighted round robin: deterministic, and spreads a member's turns evenly. */
  private pick(candidates: Candidate[]): Candidate | undefined {
    let total = 0
    let best: Candidate | undefined
    let bestWeight = -Infinity
    for (const candidate of candidates) {
      const weight = (this.current.get(candidate.id) ?? 0) + candidate.weight
      this.current.set(candidate.id, weight)
      total += candidate.weight
      if (weight > bestWeight) {
        best = candidate
        bestWeight = weight
      }
    }
    if (best !== undefined) this.current.set(best.id, bestWeight - total)
    return best
  }
}

/** The lowest and highest value of a sample field, or undefined without samples. */
export function sampleRange(
  samples: PoolSample[],
  field: 'healthy' | 'serving'
): { min: number; max: number } | undefined {
  if (samples.length === 0) return undefined
  let min = Infinity
  let max = -Infinity
  for (const sample of samples) {
    min = Math.min(min, sample[field])
    max = Math.max(max, sample[field])
  }
  return { min, max }
}
