import type { ScalingGroup, ScalingInstance } from '../../cloud/autoscaling'
import { plural } from '../../shared/text'
import { exitStandbyHint } from './scaling-groups'
import type { ScalingPort, StandbyTopology } from './types'

export interface StandbyDiscovery {
  standby: StandbyTopology
  /** Why the run must not start, naming the server or group and the fix. */
  refusals: string[]
  /** Which servers go to standby in which group. */
  notes: string[]
}

/** Why a selected server in `group` cannot be put in standby, or undefined. */
function instanceRefusal(group: ScalingGroup, instance: ScalingInstance): string | undefined {
  const state = instance.lifeCycleState
  if (state === 'INSERVICE') return undefined
  const fix = state === 'STANDBY' ? exitStandbyHint(group.id, [instance.serverId]) : 'Run again once it is INSERVICE.'
  return `Server ${instance.serverId} is ${state || 'in an unknown state'} in scaling group ${group.id}, not INSERVICE: as-protection: standby puts only servers in service into standby, and would take this one out of a state it did not set. ${fix} Or leave the server out of the selection.`
}

/** A group whose pools are partly left out by elb-pool-ids: standby would change them ungated. */
function excludedPools(group: ScalingGroup, poolIds: readonly string[] | undefined): string | undefined {
  const excluded = poolIds === undefined ? [] : group.poolIds.filter((id) => !poolIds.includes(id))
  if (excluded.length === 0) return undefined
  return `Scaling group ${group.id} binds its instances to pool(s) ${excluded.join(', ')}, which elb-pool-ids leaves out: standby would take the selected servers out of them and put them back without a health gate. Add the pool(s) to elb-pool-ids, or use as-protection: pause.`
}

/**
 * For `as-protection: standby`: reads each declared group (its listeners' pools) and lists its
 * instances to learn which selected server is in which group. Changes nothing. Refuses a
 * selected server that is not INSERVICE (already in standby, or on its way in or out).
 */
export async function discoverStandby(
  serverIds: readonly string[],
  groupIds: readonly string[],
  scaling: ScalingPort,
  poolIds: readonly string[] | undefined,
  giveUpAt: number
): Promise<StandbyDiscovery> {
  const selected = new Set(serverIds)
  const found: StandbyDiscovery = { standby: { groupOf: new Map(), poolsOf: new Map() }, refusals: [], notes: [] }
  for (const groupId of groupIds) {
    const [group, instances] = await Promise.all([
      scaling.group(groupId, giveUpAt),
      scaling.instances(groupId, giveUpAt)
    ])
    found.standby.poolsOf.set(groupId, group.poolIds)
    const ours = instances.filter((i) => selected.has(i.serverId))
    for (const instance of ours) {
      const refusal = instanceRefusal(group, instance)
      if (refusal === undefined) found.standby.groupOf.set(instance.serverId, groupId)
      else found.refusals.push(refusal)
    }
    if (ours.length === 0) {
      found.notes.push(`Scaling group ${groupId} holds none of the selected servers: left alone.`)
      continue
    }
    const excluded = excludedPools(group, poolIds)
    if (excluded !== undefined) found.refusals.push(excluded)
    const pools = group.poolIds.length > 0 ? `taken out of pool(s) ${group.poolIds.join(', ')}` : 'in no pool'
    found.notes.push(
      `Standby: ${plural(ours.length, 'server')} in scaling group ${groupId} (${pools}), each for its own wave: ${ours.map((i) => i.serverId).join(', ')}`
    )
  }
  return found
}
