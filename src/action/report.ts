import type { BatchRun } from '../engine/batch-run'
import type { Outcome, Results, ServerResult } from '../engine/ledger'
import { type Plan, describePlan } from '../engine/plan'

export type RunStatus = 'succeeded' | 'failed' | 'timed-out' | 'submitted' | 'dry-run'

export function countOutcomes(results: Results): Record<Outcome, number> {
  const counts = { succeeded: 0, failed: 0, pending: 0, skipped: 0 }
  for (const result of results.values()) counts[result.outcome]++
  return counts
}

/**
 * Any failed → failed; else any pending while waiting → timed-out; no wait → submitted.
 * Skipped servers count for none of these.
 */
export function overallStatus(results: Results, waited: boolean): RunStatus {
  const counts = countOutcomes(results)
  if (counts.failed > 0) return 'failed'
  if (!waited) return 'submitted'
  return counts.pending > 0 ? 'timed-out' : 'succeeded'
}

function* withOutcome(results: Results, outcome: Outcome): Generator<ServerResult> {
  for (const result of results.values()) if (result.outcome === outcome) yield result
}

function* idsWith(results: Results, outcome: Outcome): Generator<string> {
  for (const result of withOutcome(results, outcome)) yield result.id
}

function* chunks<T>(items: Iterable<T>, size: number): Generator<T[]> {
  let chunk: T[] = []
  for (const item of items) {
    chunk.push(item)
    if (chunk.length === size) {
      yield chunk
      chunk = []
    }
  }
  if (chunk.length > 0) yield chunk
}

/** Elements per piece of a JSON output: a few hundred keep each piece small enough to die young. */
const JSON_PIECE_ELEMENTS = 500

/** `JSON.stringify([...items])` in pieces, so that no one string holds all of it. */
export function* jsonPieces(items: Iterable<unknown>): Generator<string> {
  yield '['
  let separator = ''
  for (const chunk of chunks(items, JSON_PIECE_ELEMENTS)) {
    yield `${separator}${JSON.stringify(chunk).slice(1, -1)}`
    separator = ','
  }
  yield ']'
}

/**
 * The outputs in order, each value in pieces made only when written: at 50,000 servers some
 * are megabytes, and whole strings of them would dominate the action's peak memory.
 */
export function* buildOutputs(
  results: Results,
  runs: readonly BatchRun[],
  status: RunStatus,
  plan: Plan | undefined,
  resultsFile: string
): Generator<[name: string, pieces: Iterable<string>]> {
  yield ['plan', jsonPieces(plan === undefined ? [] : describePlan(plan))]
  yield ['status', [status]]
  yield ['job-ids', jsonPieces(runs.flatMap((run) => (run.jobId === null ? [] : [run.jobId])))]
  for (const outcome of ['succeeded', 'failed', 'pending', 'skipped'] as const) {
    yield [`${outcome}-ids`, jsonPieces(idsWith(results, outcome))]
  }
  yield ['results', jsonPieces(results.values())]
  yield ['results-file', [resultsFile]]
}

/** Rows shown per table: the summary must stay far below GitHub's 1 MiB per step. */
export const SUMMARY_ROW_LIMIT = 100
const CELL_TEXT_LIMIT = 300
/** GitHub shows about ten error annotations per step; more only hide each other. */
export const ANNOTATION_LIMIT = 10

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

function cell(text: string | number | null, tag = 'td'): string {
  const raw = text === null ? '' : String(text)
  const shown = raw.length > CELL_TEXT_LIMIT ? `${raw.slice(0, CELL_TEXT_LIMIT)}…` : raw
  return `<${tag}>${escapeHtml(shown)}</${tag}>`
}

function table(headers: string[], rows: (string | number | null)[][]): string {
  const head = `<tr>${headers.map((h) => cell(h, 'th')).join('')}</tr>`
  const body = rows.map((row) => `<tr>${row.map((value) => cell(value)).join('')}</tr>`).join('\n')
  return `<table>\n${head}\n${body}\n</table>`
}

/** The first SUMMARY_ROW_LIMIT of `rows`, made only for those, and a line counting the rest. */
function cappedTable<T>(
  headers: string[],
  items: readonly T[],
  row: (item: T) => (string | number | null)[],
  noun: string,
  output: string
): string {
  const shown = table(headers, items.slice(0, SUMMARY_ROW_LIMIT).map(row))
  const hidden = items.length - SUMMARY_ROW_LIMIT
  if (hidden <= 0) return shown
  return `${shown}\n<p>${hidden} more ${noun} are not shown here; the <code>${output}</code> output lists them all.</p>`
}

export type BatchTally = { run: BatchRun } & Record<Outcome, number>

export function tallyBatches(runs: readonly BatchRun[], results: Results): BatchTally[] {
  return runs.map((run) => {
    const tally: BatchTally = { run, succeeded: 0, failed: 0, pending: 0, skipped: 0 }
    for (const id of run.serverIds) tally[results.get(id)?.outcome ?? 'pending']++
    return tally
  })
}

export interface SummaryContext {
  title: string
  /** One sentence saying what was asked, e.g. "SOFT restart of 3 servers in 1 batch". */
  request: string
  durationMs: number
  runUrl: string | undefined
  /** An error that stopped the run before or while it restarted anything. */
  error: string | undefined
}

const STATUS_LABEL: Record<RunStatus, string> = {
  succeeded: '✅ succeeded',
  failed: '❌ failed',
  'timed-out': '⏱️ timed out',
  submitted: '📨 submitted (not waited for)',
  'dry-run': '🧪 dry run, nothing was changed'
}

/** The job summary as HTML; every piece of text from inputs or the cloud is escaped. */
export function renderSummary(
  results: Results,
  runs: readonly BatchRun[],
  status: RunStatus,
  context: SummaryContext
): string {
  const counts = countOutcomes(results)
  const parts = [
    `<h2>${escapeHtml(context.title)}: ${STATUS_LABEL[status]}</h2>`,
    `<p>${escapeHtml(context.request)}; took ${(context.durationMs / 1000).toFixed(1)} s.${
      context.runUrl ? ` <a href="${escapeHtml(context.runUrl)}">Workflow run</a>.` : ''
    }</p>`
  ]
  if (context.error !== undefined) parts.push(`<p><strong>Error:</strong> ${escapeHtml(context.error)}</p>`)
  parts.push(
    table(
      ['Servers', 'Succeeded', 'Failed', 'Pending', 'Skipped'],
      [[results.size, counts.succeeded, counts.failed, counts.pending, counts.skipped]]
    )
  )
  if (runs.length > 0) {
    const waves = new Set(runs.map((run) => run.wave)).size
    parts.push(`<h3>Batches${waves > 1 ? ` in ${waves} waves` : ''}</h3>`)
    parts.push(
      cappedTable(
        ['Wave', 'Batch', 'Job ID', 'Servers', 'Succeeded', 'Failed', 'Pending', 'Skipped', 'Final status'],
        tallyBatches(runs, results),
        ({ run, succeeded, failed, pending, skipped }) => [
          run.wave,
          run.label,
          run.jobId,
          run.serverIds.length,
          succeeded,
          failed,
          pending,
          skipped,
          run.status
        ],
        'batches',
        'job-ids'
      )
    )
  }
  for (const [outcome, heading, output] of [
    ['failed', 'Failed servers', 'failed-ids'],
    ['pending', 'Pending servers (outcome not confirmed)', 'pending-ids'],
    ['skipped', 'Skipped servers', 'skipped-ids']
  ] as const) {
    const matching = [...withOutcome(results, outcome)]
    if (matching.length === 0) continue
    parts.push(`<h3>${heading}</h3>`)
    parts.push(
      cappedTable(
        ['Server ID', 'Job ID', 'Error code', 'Reason'],
        matching,
        (result) => [result.id, result.job_id, result.error_code, result.error_message],
        'servers',
        output
      )
    )
  }
  return `${parts.join('\n')}\n`
}

export interface Annotation {
  title: string
  message: string
}

/** One annotation per batch that did not fully succeed, capped, with a closing count. */
export function batchAnnotations(runs: readonly BatchRun[]): Annotation[] {
  const troubled = runs.filter((run) => run.problem !== null)
  const annotations = troubled.slice(0, ANNOTATION_LIMIT).map((run) => ({
    title: `Batch ${run.label}: ${run.status}`,
    message: run.problem as string
  }))
  if (troubled.length > ANNOTATION_LIMIT) {
    annotations.push({
      title: 'More batches had problems',
      message: `${troubled.length - ANNOTATION_LIMIT} more batches did not fully succeed; the job summary lists them all.`
    })
  }
  return annotations
}

/** Log lines per batch, one per server, for a collapsible group each; made one group at a time. */
export function* batchLogGroups(
  runs: readonly BatchRun[],
  results: Results
): Generator<{ title: string; lines: string[] }> {
  for (const { run, succeeded, failed, pending } of tallyBatches(runs, results)) {
    yield {
      title: `Batch ${run.label}: job ${run.jobId ?? 'none'}, ${run.status}, ${succeeded} succeeded, ${failed} failed, ${pending} pending`,
      lines: run.serverIds.map((id) => {
        const result = results.get(id) as ServerResult
        const detail = [result.error_code, result.error_message].filter(Boolean).join(' ')
        return `${id} ${result.outcome}${detail ? ` ${detail}` : ''}`
      })
    }
  }
}
