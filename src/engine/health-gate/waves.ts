import { type Topology, isHealthy } from './types'

/**
 * Cuts the servers, in order, into waves such that no pool loses more healthy members in one wave
 * than it can spare (healthy now − its minimum), counting members this run does not manage and
 * members already unhealthy (an unhealthy member costs nothing: it serves nothing now). A wave
 * holds at most `maxPerWave` servers. Servers in no pool only count against `maxPerWave`.
 */
export function sizeWaves(serverIds: readonly string[], topology: Topology, maxPerWave: number): string[][] {
  const spare = new Map<string, number>()
  for (const pool of topology.pools.values()) {
    spare.set(pool.id, pool.members.filter(isHealthy).length - pool.minHealthy)
  }
  const cost = (serverId: string): Map<string, number> => {
    const costs = new Map<string, number>()
    for (const membership of topology.memberships.get(serverId) ?? []) {
      const member = topology.pools.get(membership.poolId)?.members.find((m) => m.id === membership.memberId)
      if (member !== undefined && isHealthy(member))
        costs.set(membership.poolId, (costs.get(membership.poolId) ?? 0) + 1)
    }
    return costs
  }
  const waves: string[][] = []
  let left = [...serverIds]
  while (left.length > 0) {
    const used = new Map<string, number>()
    const wave: string[] = []
    const later: string[] = []
    for (const id of left) {
      const costs = cost(id)
      const fits =
        wave.length < maxPerWave &&
        [...costs].every(
          ([pool, n]) => (used.get(pool) ?? 0) + n <= Math.max(spare.get(pool) ?? 0, wave.length === 0 ? n : 0)
        )
      if (!fits) {
        later.push(id)
        continue
      }
      wave.push(id)
      for (const [pool, n] of costs) used.set(pool, (used.get(pool) ?? 0) + n)
    }
    waves.push(wave)
    left = later
  }
  return waves
}
