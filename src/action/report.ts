import type { BatchRun } from '../engine/batch-run'
import { type KnownServers, firstFew, serverLabel } from '../engine/known'
import type { Outcome, Results, ServerResult } from '../engine/ledger'
import { type Plan, describePlan } from '../engine/plan'
import { formatDuration, plural } from '../shared/text'
import { cappedTable, escapeHtml, paragraphsAndLists, table } from './html'
import { planSection, timelineSection } from './summary-sections'

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
  resultsFile: string,
  gate?: { pools: unknown[]; waves: unknown[] }
): Generator<[name: string, pieces: Iterable<string>]> {
  yield ['plan', jsonPieces(plan === undefined ? [] : describePlan(plan))]
  yield ['status', [status]]
  yield ['job-ids', jsonPieces(runs.flatMap((run) => (run.jobId === null ? [] : [run.jobId])))]
  for (const outcome of ['succeeded', 'failed', 'pending', 'skipped'] as const) {
    yield [`${outcome}-ids`, jsonPieces(idsWith(results, outcome))]
  }
  yield ['results', jsonPieces(results.values())]
  yield ['results-file', [resultsFile]]
  // health-gate: elb (empty arrays otherwise).
  yield ['pools', jsonPieces(gate?.pools ?? [])]
  yield ['waves', jsonPieces(gate?.waves ?? [])]
}

/** GitHub shows about ten error annotations per step; more only hide each other. */
export const ANNOTATION_LIMIT = 10
/** Servers named in one annotation before "and N more". */
const ANNOTATED_SERVERS = 5

export type BatchTally = { run: BatchRun } & Record<Outcome, number>

function tallyBatches(runs: readonly BatchRun[], results: Results): BatchTally[] {
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
  /** When the run started (ms since the epoch), for the timeline. */
  startedAt?: number
  /** Warnings about the plan, e.g. servers in a state the operation cannot act on. */
  warnings?: string[]
}

/** What the run knew beyond the results: its plan, and the listed servers' names and states. */
export interface SummaryDetails {
  plan?: Plan
  known?: KnownServers
  /** The state the operation needs, to flag planned servers in another one. */
  requiredState?: string
  /** More sections (HTML), e.g. the health gate's. */
  sections?: string[]
}

const STATUS_LABEL: Record<RunStatus, string> = {
  succeeded: '✅ succeeded',
  failed: '❌ failed',
  'timed-out': '⏱️ timed out',
  submitted: '📨 submitted (not waited for)',
  'dry-run': '🧪 dry run, nothing was changed'
}

/** The servers of the plan, when it was only planned (a dry run). */
function plannedIds(status: RunStatus, plan: Plan | undefined): ReadonlySet<string> {
  if (status !== 'dry-run' || plan === undefined) return new Set()
  return new Set(plan.waves.flat().flatMap((batch) => batch.serverIds))
}

function countsTable(results: Results, planned: ReadonlySet<string>): string {
  const counts = countOutcomes(results)
  if (planned.size > 0) {
    return table(['Servers', 'Planned', 'Skipped'], [[results.size, planned.size, counts.skipped - planned.size]])
  }
  return table(
    ['Servers', 'Succeeded', 'Failed', 'Pending', 'Skipped'],
    [[results.size, counts.succeeded, counts.failed, counts.pending, counts.skipped]]
  )
}

function batchesTable(runs: readonly BatchRun[], results: Results): string {
  const waves = new Set(runs.map((run) => run.wave)).size
  return `<h3>Batches${waves > 1 ? ` in ${waves} waves` : ''}</h3>\n${cappedTable(
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
  )}`
}

/** A table per outcome that needs a look: failed, pending, skipped (not counting a dry run's planned servers). */
function serverTables(results: Results, planned: ReadonlySet<string>, known: KnownServers): string[] {
  const parts: string[] = []
  const named = known.size > 0
  for (const [outcome, heading, output] of [
    ['failed', 'Failed servers', 'failed-ids'],
    ['pending', 'Pending servers (outcome not confirmed)', 'pending-ids'],
    ['skipped', 'Skipped servers', 'skipped-ids']
  ] as const) {
    const matching = [...withOutcome(results, outcome)].filter((result) => !planned.has(result.id))
    if (matching.length === 0) continue
    parts.push(`<h3>${heading}</h3>`)
    parts.push(
      cappedTable(
        named
          ? ['Server ID', 'Name', 'Job ID', 'Error code', 'Reason']
          : ['Server ID', 'Job ID', 'Error code', 'Reason'],
        matching,
        (result) => [
          result.id,
          ...(named ? [known.get(result.id)?.name ?? ''] : []),
          result.job_id,
          result.error_code,
          result.error_message
        ],
        'servers',
        output
      )
    )
  }
  return parts
}

/** The job summary as HTML; every piece of text from inputs or the cloud is escaped. */
export function renderSummary(
  results: Results,
  runs: readonly BatchRun[],
  status: RunStatus,
  context: SummaryContext,
  details: SummaryDetails = {}
): string {
  const known = details.known ?? new Map()
  const planned = plannedIds(status, details.plan)
  const parts = [
    `<h2>${escapeHtml(context.title)}: ${STATUS_LABEL[status]}</h2>`,
    `<p>${escapeHtml(context.request)}; took ${formatDuration(context.durationMs)}.${
      context.runUrl ? ` <a href="${escapeHtml(context.runUrl)}">Workflow run</a>.` : ''
    }</p>`
  ]
  // Input errors come one per line ("- Input 'x': …"): a list reads better than one paragraph.
  if (context.error !== undefined) parts.push(paragraphsAndLists(context.error, '<strong>Error:</strong> '))
  for (const warning of context.warnings ?? []) {
    parts.push(`<p><strong>⚠️ Warning:</strong> ${escapeHtml(warning)}</p>`)
  }
  parts.push(countsTable(results, planned))
  if (planned.size > 0 && details.plan !== undefined)
    parts.push(planSection(details.plan, known, details.requiredState))
  else if (runs.length > 0) {
    parts.push(batchesTable(runs, results))
    if (context.startedAt !== undefined) parts.push(timelineSection(runs, context.startedAt))
  }
  parts.push(...serverTables(results, planned, known))
  parts.push(...(details.sections ?? []))
  return `${parts.filter(Boolean).join('\n')}\n`
}

export interface Annotation {
  title: string
  message: string
}

/** "web-1 (6f1c2a3b…) Ecs.0100, web-2 (…) pending and 3 more": the servers that did not succeed. */
function troubledServers(run: BatchRun, results: Results, known: KnownServers): string {
  const labels = run.serverIds.flatMap((id) => {
    const result = results.get(id)
    if (result === undefined || result.outcome === 'succeeded' || result.outcome === 'skipped') return []
    const detail = result.outcome === 'failed' ? (result.error_code ?? 'failed') : result.outcome
    return [`${serverLabel(id, known)} ${detail}`]
  })
  return labels.length === 0 ? '' : `Servers: ${firstFew(labels, ANNOTATED_SERVERS)}.`
}

function withServers(problem: string, servers: string): string {
  return servers === '' ? problem : `${problem.replace(/\.$/, '')}. ${servers}`
}

/**
 * One annotation per batch that did not fully succeed, naming its first few troubled servers,
 * capped, with a closing count. A split batch names none: its parts have their own annotations.
 */
export function batchAnnotations(
  runs: readonly BatchRun[],
  results: Results = new Map(),
  known: KnownServers = new Map()
): Annotation[] {
  const troubled = runs.filter((run) => run.problem !== null)
  const annotations = troubled.slice(0, ANNOTATION_LIMIT).map((run) => ({
    title: `Batch ${run.label}: ${run.status}`,
    message: withServers(run.problem as string, run.status === 'split' ? '' : troubledServers(run, results, known))
  }))
  if (troubled.length > ANNOTATION_LIMIT) {
    const more = troubled.length - ANNOTATION_LIMIT
    annotations.push({
      title: 'More batches had problems',
      message: `${plural(more, 'more batch')} did not fully succeed; the job summary lists them all.`
    })
  }
  return annotations
}

/** Log lines per batch, one per server (with its name when listed), for a collapsible group each; made one group at a time. */
export function* batchLogGroups(
  runs: readonly BatchRun[],
  results: Results,
  known: KnownServers = new Map()
): Generator<{ title: string; lines: string[] }> {
  for (const { run, succeeded, failed, pending } of tallyBatches(runs, results)) {
    yield {
      title: `Batch ${run.label}: job ${run.jobId ?? 'none'}, ${run.status}, ${succeeded} succeeded, ${failed} failed, ${pending} pending`,
      lines: run.serverIds.map((id) => {
        const result = results.get(id) as ServerResult
        const detail = [result.error_code, result.error_message].filter(Boolean).join(' ')
        const name = known.get(id)?.name
        return `${id}${name ? ` (${name})` : ''} ${result.outcome}${detail ? ` ${detail}` : ''}`
      })
    }
  }
}
