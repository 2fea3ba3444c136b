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
  const healthyMembers = new Set(
    [...topology.pools.values()].flatMap((pool) => pool.members.filter(isHealthy).map((m) => `${pool.id}/${m.id}`))
  )
  const costOf = new Map<string, Map<string, number>>()
  for (const serverId of serverIds) {
    const costs = new Map<string, number>()
    for (const { poolId, memberId } of topology.memberships.get(serverId) ?? []) {
      if (healthyMembers.has(`${poolId}/${memberId}`)) costs.set(poolId, (costs.get(poolId) ?? 0) + 1)
    }
    costOf.set(serverId, costs)
  }
  const waves: string[][] = []
  let left = [...serverIds]
  while (left.length > 0) {
    const used = new Map<string, number>()
    const wave: string[] = []
    const later: string[] = []
    for (const id of left) {
      const costs = costOf.get(id) ?? new Map<string, number>()
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
