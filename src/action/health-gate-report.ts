import type { GateReport } from '../engine/health-gate/gate'
import { POOL_GONE } from '../engine/health-gate/restore'
import { type Journal, type JournalEntry, countHealthy } from '../engine/health-gate/types'
import { escapeHtml, cappedTable, table } from './html'
import type { PreparedGate } from './health-gate'
import { formatDuration } from '../shared/text'

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
    time_to_healthy_ms: w.timeToHealthyMs,
    weight_zero_fallbacks: w.fallbacks.map((f) => ({
      server_id: f.serverId,
      pool_id: f.poolId,
      member_id: f.memberId,
      status: f.status,
      after_ms: f.afterMs
    }))
  }))
}

const seconds = (ms: number | undefined | null): string => (ms === undefined || ms === null ? '' : formatDuration(ms))

/** Pools found deleted during the run, by the gate or by a restore. */
function deletedPools(report: GateReport | undefined): Set<string> {
  const found = (report?.deletedPools ?? []).map((d) => d.poolId)
  const restored = (report?.restores ?? []).filter((r) => r.detail === POOL_GONE).map((r) => r.entry.poolId)
  return new Set([...found, ...restored])
}

/** One journal entry's state for the report. */
function entryState(e: JournalEntry, deleted: Set<string>): string {
  if (e.state === 'gone') return deleted.has(e.poolId) ? 'pool deleted' : 'member deleted'
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
  const deleted = deletedPools(report)
  return [...prepared.topology.memberships].flatMap(([serverId, memberships]) => {
    if (memberships.length === 0) return []
    const pools = memberships.map((m) => m.poolId).join(', ')
    const entries = journal?.entries.filter((e) => e.serverId === serverId) ?? []
    const state =
      entries.length === 0
        ? 'not drained'
        : entries.every((e) => e.state === 'restored' && e.previousMemberId === undefined)
          ? 'restored'
          : entries.map((e) => `${e.poolId}: ${entryState(e, deleted)}`).join('; ')
    const wave = report?.waves.find((w) => w.servers.includes(serverId))
    const healthy = wave ? seconds(wave.timeToHealthyMs[serverId]) || 'never' : ''
    const row = [serverId, pools, healthy, state]
    return [withStandby ? [...row, standbyCell(journal, serverId)] : row]
  })
}

/** The members the weight-0 fallback restored before they were healthy, if any. */
function fallbackSection(report: GateReport): string[] {
  const fallbacks = report.waves.flatMap((w) => w.fallbacks.map((f) => ({ wave: w.wave, ...f })))
  if (fallbacks.length === 0) return []
  return [
    `<p>Weight-0 fallback: ${fallbacks.length} member(s) of dedicated load balancers still showed unhealthy at weight 0 longer than their health check needs after the restart, so their weight was restored before they were healthy and they were gated as on a shared load balancer.</p>`,
    cappedTable(
      ['Wave', 'Server', 'Pool', 'Member', 'Status at weight 0', 'After'],
      fallbacks,
      (f) => [f.wave, f.serverId, f.poolId, f.memberId, f.status, seconds(f.afterMs)],
      'members',
      'waves'
    )
  ]
}

function summary(prepared: PreparedGate, report: GateReport | undefined, pools: ReturnType<typeof poolRows>): string {
  const parts = ['<h3>Health gate (ELB)</h3>']
  for (const alert of report?.alerts ?? []) parts.push(`<p><strong>❗ Act by hand:</strong> ${escapeHtml(alert)}</p>`)
  for (const { poolId, wave } of report?.deletedPools ?? []) {
    parts.push(
      `<p>Pool ${escapeHtml(poolId)} was deleted by someone else during wave ${wave}: its members count as gone, with nothing to restore.</p>`
    )
  }
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
    parts.push(...fallbackSection(report))
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
