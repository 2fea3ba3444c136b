import type { BatchRun } from '../engine/batch-run'
import type { KnownServers } from '../engine/known'
import type { Plan } from '../engine/plan'
import { formatDuration, plural } from '../shared/text'
import { type Row, SUMMARY_ROW_LIMIT, cappedTable, escapeHtml, table } from './html'

/** Time since the run started, e.g. "+4.2 s"; empty for a time that never came. */
function since(startedAt: number, time: number | null): string {
  return time === null ? '' : `+${formatDuration(Math.max(0, time - startedAt))}`
}

/** A dry run's plan: each wave and batch with its servers' names and current states. */
export function planSection(plan: Plan, known: KnownServers, requiredState: string | undefined): string {
  const parts = [
    `<h3>Plan: ${escapeHtml(plural(plan.batchCount, 'batch'))} in ${escapeHtml(plural(plan.waves.length, 'wave'))}</h3>`
  ]
  if (known.size === 0) parts.push('<p>Names and states are shown for servers the action listed.</p>')
  const rows = plan.waves.flatMap((wave, index) =>
    wave.flatMap((batch) => batch.serverIds.map((id) => ({ wave: index + 1, batch: batch.number, id })))
  )
  parts.push(
    cappedTable(
      ['Wave', 'Batch', 'Server ID', 'Name', 'State now', 'Note'],
      rows,
      ({ wave, batch, id }) => {
        const facts = known.get(id)
        const note =
          facts !== undefined && requiredState !== undefined && facts.status !== requiredState
            ? `⚠️ not ${requiredState}: will fail`
            : ''
        return [wave, batch, id, facts?.name ?? '', facts?.status ?? '', note]
      },
      'servers',
      'plan'
    )
  )
  return parts.join('\n')
}

/** A wave's row: from its first request to the end of its last job (open while any is). */
function waveRow(wave: number, runs: readonly BatchRun[], startedAt: number): Row {
  const sent = runs.map((run) => run.submittedAt).filter((time): time is number => time !== null)
  const first = sent.length > 0 ? Math.min(...sent) : null
  const ends = runs.filter((run) => run.submittedAt !== null && run.status !== 'split').map((run) => run.finishedAt)
  const last = ends.length > 0 && !ends.includes(null) ? Math.max(...(ends as number[])) : null
  const took = first !== null && last !== null ? formatDuration(last - first) : ''
  return [wave, `all ${runs.length}`, since(startedAt, first), since(startedAt, last), took, '']
}

/**
 * When each wave and request was sent and finished, relative to the start of the run, so a
 * person sees where the time went. A table: GitHub renders it everywhere a summary is shown.
 */
export function timelineSection(runs: readonly BatchRun[], startedAt: number): string {
  if (!runs.some((run) => run.submittedAt !== null)) return ''
  const waves = [...new Set(runs.map((run) => run.wave))]
  const rows: Row[] = []
  for (const wave of waves) {
    const ofWave = runs.filter((run) => run.wave === wave)
    if (waves.length > 1) rows.push(waveRow(wave, ofWave, startedAt))
    for (const run of ofWave) {
      const took =
        run.submittedAt !== null && run.finishedAt !== null ? formatDuration(run.finishedAt - run.submittedAt) : ''
      rows.push([
        wave,
        run.label,
        since(startedAt, run.submittedAt),
        since(startedAt, run.finishedAt),
        took,
        run.status
      ])
    }
  }
  const shown = table(['Wave', 'Batch', 'Sent', 'Finished', 'Took', 'Status'], rows.slice(0, SUMMARY_ROW_LIMIT))
  const hidden = rows.length - SUMMARY_ROW_LIMIT
  const note = hidden > 0 ? `\n<p>${hidden} more rows are not shown here.</p>` : ''
  return `<h3>Timeline</h3>\n<p>Times since the run started; an empty Finished means the job was not seen to finish (timed out, or not waited for).</p>\n${shown}${note}`
}
