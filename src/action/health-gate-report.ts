import type { GateReport } from '../engine/health-gate/gate'
import { type Journal, type JournalEntry, countHealthy } from '../engine/health-gate/types'
import { escapeHtml, cappedTable, table } from './html'
import type { PreparedGate } from './health-gate'

/** The `pools` and `waves` outputs and the summary section of a health-gated run. */
export interface GateOutputs {
  pools: unknown[]
  waves: unknown[]
  summary: string
}

function poolRows(prepared: PreparedGate, report: GateReport | undefined) {
  return [...prepared.topology.pools.values()].map((pool) => {
    const seen = (report?.waves ?? []).flatMap((w) => w.pools.filter((p) => p.poolId === pool.id))
    return {
      pool_id: pool.id,
      name: pool.name,
      loadbalancer_id: pool.loadBalancer.id,
      loadbalancer_type: pool.loadBalancer.guaranteed ? 'dedicated' : 'shared',
      members: pool.members.length,
      managed: [...prepared.topology.memberships.values()].flat().filter((m) => m.poolId === pool.id).length,
      min_healthy: pool.minHealthy,
      healthy_before: countHealthy(pool.members),
      healthy_lowest: seen.length > 0 ? Math.min(...seen.map((p) => p.lowest)) : null,
      healthy_after: seen.length > 0 ? seen[seen.length - 1].after : null
    }
  })
}

function waveRows(prepared: PreparedGate, report: GateReport | undefined) {
  if (report === undefined) {
    return prepared.plan.waves.map((wave, i) => ({ wave: i + 1, servers: wave.flatMap((b) => b.serverIds) }))
  }
  return report.waves.map((w) => ({
    wave: w.wave,
    servers: w.servers,
    drain_ms: w.drainMs,
    job_ms: w.jobMs,
    healthy_ms: w.healthyMs,
    restore_ms: w.restoreMs,
    pools: w.pools.map((p) => ({
      pool_id: p.poolId,
      healthy_before: p.before,
      healthy_lowest: p.lowest,
      healthy_after: p.after
    })),
    time_to_healthy_ms: w.timeToHealthyMs
  }))
}

const seconds = (ms: number | undefined | null): string =>
  ms === undefined || ms === null ? '' : `${(ms / 1000).toFixed(1)} s`

/** One journal entry's state for the report. */
function entryState(e: JournalEntry): string {
  if (e.state === 'gone') return 'member deleted'
  if (e.state === 'restored') return e.previousMemberId ? `restored as new member ${e.memberId}` : 'restored'
  if (e.state === 'unbinding' || e.state === 'unbound') return `OUT OF THE POOL (standby in ${e.standbyGroup ?? ''})`
  if (e.state === 'rebound')
    return `new member ${e.memberId} STILL AT ITS GROUP'S WEIGHT (set it to ${e.originalWeight})`
  return `STILL AT 0 (set ${e.memberId} to ${e.originalWeight})`
}

/** Where the server was in standby, and whether it is out again. */
function standbyCell(journal: Journal | undefined, serverId: string): string {
  const entry = journal?.standby.find((s) => s.serverId === serverId)
  if (entry === undefined) return ''
  return entry.state === 'exited' ? `${entry.groupId} (out again)` : `${entry.groupId}: STILL IN STANDBY`
}

/** Per server: its pools, and whether each weight is back; with standby, its group. */
function serverRows(prepared: PreparedGate, report: GateReport | undefined): (string | number)[][] {
  const journal = prepared.gate?.journal
  const withStandby = prepared.topology.standby !== undefined
  return [...prepared.topology.memberships].flatMap(([serverId, memberships]) => {
    if (memberships.length === 0) return []
    const pools = memberships.map((m) => m.poolId).join(', ')
    const entries = journal?.entries.filter((e) => e.serverId === serverId) ?? []
    const state =
      entries.length === 0
        ? 'not drained'
        : entries.every((e) => e.state === 'restored' && e.previousMemberId === undefined)
          ? 'restored'
          : entries.map((e) => `${e.poolId}: ${entryState(e)}`).join('; ')
    const wave = report?.waves.find((w) => w.servers.includes(serverId))
    const healthy = wave ? seconds(wave.timeToHealthyMs[serverId]) || 'never' : ''
    const row = [serverId, pools, healthy, state]
    return [withStandby ? [...row, standbyCell(journal, serverId)] : row]
  })
}

function summary(prepared: PreparedGate, report: GateReport | undefined, pools: ReturnType<typeof poolRows>): string {
  const parts = ['<h3>Health gate (ELB)</h3>']
  for (const alert of report?.alerts ?? []) parts.push(`<p><strong>❗ Act by hand:</strong> ${escapeHtml(alert)}</p>`)
  parts.push(
    table(
      ['Pool', 'Load balancer', 'Members', 'This run', 'Min healthy', 'Healthy before', 'Lowest', 'After'],
      pools.map((p) => [
        p.name || p.pool_id,
        `${p.loadbalancer_id} (${p.loadbalancer_type})`,
        p.members,
        p.managed,
        p.min_healthy,
        p.healthy_before,
        p.healthy_lowest,
        p.healthy_after
      ])
    )
  )
  if (report !== undefined && report.waves.length > 0) {
    parts.push(
      cappedTable(
        ['Wave', 'Servers', 'Drain', 'Restart', 'Until healthy', 'Restore', 'Pools: before → lowest → after'],
        report.waves,
        (w) => [
          w.wave,
          w.servers.length,
          seconds(w.drainMs),
          seconds(w.jobMs),
          seconds(w.healthyMs),
          seconds(w.restoreMs),
          w.pools.map((p) => `${p.poolId} ${p.before}→${p.lowest}→${p.after}`).join(', ')
        ],
        'waves',
        'waves'
      )
    )
    parts.push(
      cappedTable(
        ['Server', 'Pools', 'Time to healthy', 'Weight', ...(prepared.topology.standby ? ['Standby in'] : [])],
        serverRows(prepared, report),
        (r) => r,
        'servers',
        'pools'
      )
    )
  }
  if (prepared.gate !== undefined) {
    parts.push(
      `<details><summary>Journal (original weights, for manual recovery)</summary>\n<pre>${escapeHtml(JSON.stringify(prepared.gate.journal, null, 1))}</pre></details>`
    )
  }
  return parts.join('\n')
}

export function gateOutputs(prepared: PreparedGate, report: GateReport | undefined): GateOutputs {
  const pools = poolRows(prepared, report)
  return { pools, waves: waveRows(prepared, report), summary: summary(prepared, report, pools) }
}
