import type { Logger } from '../../shared/ports'
import type { ScalingGroup } from '../../cloud/autoscaling'
import type { Journal, SaveJournal, ScalingPort } from './types'

/**
 * Pauses a scaling group for this run, journaled before the call. A group found paused that the
 * journal does not list was paused by someone else: it is added to `foreign`, left paused and
 * never resumed by this run. A group the journal lists but that reads in service (killed between
 * the journal and the call) is paused again. Throws when the pause fails; the journal then no
 * longer lists the group. `read`: the group as already read, when the caller read it alongside
 * other calls.
 */
export async function pauseGroup(
  groupId: string,
  journal: Journal,
  ports: { scaling: ScalingPort; log: Logger },
  foreign: Set<string>,
  giveUpAt: number,
  save: SaveJournal,
  read?: Promise<ScalingGroup>
): Promise<void> {
  if (foreign.has(groupId)) return
  const { scaling, log } = ports
  try {
    const group = await (read ?? scaling.group(groupId))
    if (group.status === 'PAUSED') {
      if (journal.pausedGroups.includes(groupId)) return
      foreign.add(groupId)
      log.warning(`Scaling group ${groupId} was already paused before this run: left paused, never resumed by it.`)
      return
    }
    if (!journal.pausedGroups.includes(groupId)) journal.pausedGroups.push(groupId)
    save(journal)
    await scaling.setPaused(groupId, true, giveUpAt)
    log.info(`Paused scaling group ${groupId} for the restart`)
  } catch (error) {
    journal.pausedGroups = journal.pausedGroups.filter((id) => id !== groupId)
    save(journal)
    throw error
  }
}

/** How to resume a group by hand, for the alerts that leave it paused. */
export function resumeHint(groupId: string): string {
  return `Resume it once its servers are healthy: in the console (Auto Scaling > the group > Enable), or POST /autoscaling-api/v1/{project_id}/scaling_group/${groupId}/action with {"action":"resume"}.`
}

/** How to take a server out of standby by hand. */
export function exitStandbyHint(groupId: string, serverIds: readonly string[]): string {
  return `Take it out of standby by hand: in the console (Auto Scaling > group ${groupId} > Instances > More > Exit standby), or POST /autoscaling-api/v1/{project_id}/scaling_group_instance/${groupId}/action with {"action":"EXIT_STANDBY","instances_id":${JSON.stringify(serverIds)}}; pause the group first if the servers may still be booting.`
}
