/**
 * The three contenders, each run as its own process against a fresh emulator, and what the
 * emulator saw of the run.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { DEFAULT_ACCESS_KEY, DEFAULT_PROJECT_ID, EcsEmulator } from '../__tests__/emulator'
import { parseOutputFile } from '../__tests__/support/run-action'
import { type ChildRun, runChild } from './child'
import { type Model, lowerBoundMs, serversPerMinute } from './model'

export type ContenderName = 'action' | 'sdk' | 'nova'
export const CONTENDERS: readonly ContenderName[] = ['action', 'sdk', 'nova']
export const CONTENDER_LABELS: Record<ContenderName, string> = {
  action: 'this action (dist/index.js)',
  sdk: 'official SDK, sequential batches',
  nova: 'Nova per-server, concurrency 10'
}

export const SDK_PEER_DIR = resolve(__dirname, 'sdk-peer')
/** Linux refuses to start a process with one environment string over 32 pages (128 KiB). */
export const MAX_ENV_STRING_BYTES = 128 * 1024

/** The interval every contender polls at, and the Nova contender's concurrency. */
export const POLL_MS = 1000
export const NOVA_CONCURRENCY = 10
export const BATCH_SIZE = 1000

/** UUID-shaped, distinct, stable server IDs. */
export function serverIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`)
}

export interface RunContext {
  model: Model
  /** A folder for this bench run's files. */
  scratch: string
  /** The bundled Nova client. */
  novaScript: string
  /** A copy of dist/index.js taken at start, so every run measures the same bundle. */
  actionScript: string
  /** Wrap each child in GNU time for its peak RSS. */
  measureMemory: boolean
}

export interface RunResult {
  contender: ContenderName
  n: number
  wallMs: number
  /** HTTP requests the emulator received, all routes. */
  requests: number
  byRoute: Partial<Record<string, number>>
  /** Requests the emulator answered 429 APIG.0308. */
  throttled: number
  /** Every server restarted exactly once, and nothing else restarted. */
  exactlyOnce: boolean
  notRestarted: number
  restartedTwiceOrMore: number
  /** What the contender itself reported as going wrong (failed/pending servers, exceptions, failed calls). */
  errors: number
  /** The contender's own verdict: exit 0 and all servers confirmed. */
  completed: boolean
  outcome: string
  maxRssKb: number | undefined
  notes: string[]
}

/** Roughly how long one run takes under the model; for timeouts and for deciding what to skip. */
export function estimateMs(contender: ContenderName, n: number, model: Model): number {
  const roundTrip = model.latencyMs + 2
  const startup = 500
  if (contender === 'action') return lowerBoundMs(n, model) + POLL_MS + startup
  if (contender === 'sdk') {
    const polls = Math.ceil(model.jobMs / (POLL_MS + roundTrip))
    return Math.ceil(n / BATCH_SIZE) * (roundTrip + polls * (POLL_MS + roundTrip)) + startup
  }
  const waves = Math.ceil(n / NOVA_CONCURRENCY) * roundTrip
  const paced = (Math.ceil(n / model.limitServers) - 1) * model.windowMs
  return Math.max(waves, paced) + Math.max(POLL_MS, model.jobMs - waves) + waves + startup
}

function killAfterMs(contender: ContenderName, n: number, model: Model): number {
  return Math.max(90_000, 3 * estimateMs(contender, n, model) + 30_000)
}

interface Verdict {
  exactlyOnce: boolean
  notRestarted: number
  restartedTwiceOrMore: number
}

function verdict(emulator: EcsEmulator, ids: readonly string[]): Verdict {
  let notRestarted = 0
  let restartedTwiceOrMore = 0
  for (const id of ids) {
    const count = emulator.restartCount(id)
    if (count === 0) notRestarted++
    else if (count > 1) restartedTwiceOrMore++
  }
  const { restarts } = emulator.counters()
  return {
    exactlyOnce: notRestarted === 0 && restartedTwiceOrMore === 0 && restarts === ids.length,
    notRestarted,
    restartedTwiceOrMore
  }
}

function childNotes(child: ChildRun): string[] {
  const notes: string[] = []
  if (child.spawnError !== undefined) notes.push(`could not start: ${child.spawnError}`)
  if (child.timedOut) notes.push('killed by the bench timeout')
  return notes
}

export function baseEnv(): Record<string, string> {
  // Nothing inherited but PATH (and SystemRoot, which Windows needs), as the runner does for actions.
  return {
    PATH: process.env.PATH ?? '',
    ...(process.env.SystemRoot !== undefined && { SystemRoot: process.env.SystemRoot })
  }
}

/** The bundled action (`context.actionScript`) run as the runner runs it, with these inputs. */
export async function spawnAction(
  context: Pick<RunContext, 'scratch' | 'actionScript' | 'measureMemory'>,
  inputs: Record<string, string>,
  timeoutMs: number
): Promise<{ child: ChildRun; outputs: Record<string, string>; notes: string[] }> {
  const folder = mkdtempSync(join(context.scratch, 'action-'))
  const outputPath = join(folder, 'output')
  const summaryPath = join(folder, 'summary.html')
  writeFileSync(outputPath, '')
  writeFileSync(summaryPath, '')
  writeFileSync(join(folder, 'state'), '')
  const env: Record<string, string> = {
    ...baseEnv(),
    GITHUB_OUTPUT: outputPath,
    GITHUB_STEP_SUMMARY: summaryPath,
    GITHUB_STATE: join(folder, 'state'),
    RUNNER_TEMP: folder
  }
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
  const notes: string[] = []
  const childOptions = {
    env,
    timeoutMs,
    measureMemory: context.measureMemory,
    scratch: context.scratch,
    keepOutput: 200_000
  }
  let child = await runChild(process.execPath, [context.actionScript], childOptions)
  if (child.spawnError === 'E2BIG') {
    // The runner could not start the step either: one environment string holds at most 128 KiB on
    // Linux. Do what a workflow does then: write the IDs to a file in the workspace.
    writeFileSync(join(folder, 'server-ids.txt'), inputs['server-ids'])
    const { 'INPUT_SERVER-IDS': _tooLong, ...rest } = env
    notes.push('server-ids over 128 KiB (E2BIG): given as server-ids-file')
    child = await runChild(process.execPath, [context.actionScript], {
      ...childOptions,
      env: { ...rest, GITHUB_WORKSPACE: folder, 'INPUT_SERVER-IDS-FILE': 'server-ids.txt' }
    })
  }
  const outputs = parseOutputFile(readFileSync(outputPath, 'utf8'))
  rmSync(folder, { recursive: true, force: true })
  return { child, outputs, notes }
}

/** Why the action's run did not succeed: its first error annotation, at most 200 characters. */
export function firstError(stdout: string): string | undefined {
  const annotation = /^::error[^:]*::(.*)$/m.exec(stdout)?.[1]
  return annotation === undefined
    ? undefined
    : decodeURIComponent(annotation.replace(/%(?![0-9A-F]{2})/g, '%25')).slice(0, 200)
}

/** Contender 1: the bundled action, as the runner runs it (INPUT_* variables, GITHUB_OUTPUT and summary files). */
async function runActionContender(
  emulator: EcsEmulator,
  ids: readonly string[],
  _idsFile: string,
  context: RunContext
): Promise<Partial<RunResult> & { child: ChildRun }> {
  const { model } = context
  const n = ids.length
  const inputs: Record<string, string> = {
    'server-ids': ids.join('\n'),
    type: 'SOFT',
    endpoint: emulator.url,
    'project-id': DEFAULT_PROJECT_ID,
    'access-key-id': DEFAULT_ACCESS_KEY.accessKeyId,
    'secret-access-key': DEFAULT_ACCESS_KEY.secretAccessKey,
    'batch-size': String(BATCH_SIZE),
    'max-servers-per-minute': String(serversPerMinute(model)),
    'poll-interval-seconds': String(POLL_MS / 1000),
    'timeout-seconds': String(Math.ceil(Math.max(120_000, 5 * lowerBoundMs(n, model)) / 1000))
  }
  const { child, outputs, notes } = await spawnAction(
    context,
    inputs,
    Number(inputs['timeout-seconds']) * 1000 + 60_000
  )
  const count = (name: string): number => {
    try {
      return (JSON.parse(outputs[name] ?? '[]') as unknown[]).length
    } catch {
      return 0
    }
  }
  const failed = count('failed-ids')
  const pending = count('pending-ids')
  const status = Object.hasOwn(outputs, 'status') ? outputs.status : 'no status output'
  const paces = [...child.stdout.matchAll(/lowering the pace to (\d+) servers per minute/g)].map((m) => Number(m[1]))
  if (paces.length > 0) notes.push(`lowered its pace ${paces.length}× to ${Math.min(...paces)} servers/min`)
  // The first error annotation says why, e.g. an input the action refused.
  const why = status === 'succeeded' ? undefined : firstError(child.stdout)
  if (why !== undefined) notes.push(why)
  return {
    child,
    errors: failed + pending,
    completed: child.exitCode === 0 && status === 'succeeded',
    outcome: status === 'succeeded' ? 'succeeded' : `${status} (${failed} failed, ${pending} pending)`,
    notes
  }
}

interface SdkSummary {
  ok: boolean
  batches: number
  calls: number
  errors: number
  succeeded: number
  failed: number
  error: { status: number | null; code: string | null; message: string } | null
}

/** Contender 2: the official SDK peer (bench/sdk-peer/peer.cjs) from its own node_modules. */
async function runSdkContender(
  emulator: EcsEmulator,
  ids: readonly string[],
  idsFile: string,
  context: RunContext
): Promise<Partial<RunResult> & { child: ChildRun }> {
  const resultFile = join(context.scratch, 'sdk-result.json')
  rmSync(resultFile, { force: true })
  const child = await runChild(process.execPath, [join(SDK_PEER_DIR, 'peer.cjs')], {
    env: {
      ...baseEnv(),
      // Its own home, so anything the SDK writes there (it should write nothing) is seen and kept away.
      HOME: join(context.scratch, 'sdk-home'),
      HWC_ENDPOINT: emulator.url,
      HWC_PROJECT_ID: DEFAULT_PROJECT_ID,
      HWC_AK: DEFAULT_ACCESS_KEY.accessKeyId,
      HWC_SK: DEFAULT_ACCESS_KEY.secretAccessKey,
      IDS_FILE: idsFile,
      TYPE: 'SOFT',
      BATCH: String(BATCH_SIZE),
      POLL_MS: String(POLL_MS),
      RESULT_FILE: resultFile
    },
    timeoutMs: killAfterMs('sdk', ids.length, context.model),
    measureMemory: context.measureMemory,
    scratch: context.scratch
  })
  let summary: SdkSummary | undefined
  try {
    summary = JSON.parse(readFileSync(resultFile, 'utf8')) as SdkSummary
  } catch {
    summary = undefined
  }
  if (!summary) return { child, errors: 1, completed: false, outcome: `no result (exit ${child.exitCode})` }
  const error = summary.error
  const outcome = error
    ? `stopped after ${summary.batches} batch(es): ${error.status ?? ''} ${error.code ?? ''} ${error.message}`.trim()
    : summary.failed > 0
      ? `${summary.failed} servers failed`
      : 'succeeded'
  return {
    child,
    errors: summary.errors + summary.failed,
    completed: child.exitCode === 0 && summary.ok,
    outcome: outcome.replace(/\s+/g, ' ')
  }
}

interface NovaResult {
  ok: boolean
  errors: number
  active: number
  failed: number
  firstError: string | null
}

/** Contender 3: per-server Nova reboots (bench/nova-client.ts, bundled). */
async function runNovaContender(
  emulator: EcsEmulator,
  ids: readonly string[],
  idsFile: string,
  context: RunContext
): Promise<Partial<RunResult> & { child: ChildRun }> {
  const resultFile = join(context.scratch, 'nova-result.json')
  rmSync(resultFile, { force: true })
  const timeoutMs = killAfterMs('nova', ids.length, context.model)
  const child = await runChild(process.execPath, [context.novaScript], {
    env: {
      ...baseEnv(),
      NOVA_ENDPOINT: emulator.url,
      PROJECT_ID: DEFAULT_PROJECT_ID,
      AK: DEFAULT_ACCESS_KEY.accessKeyId,
      SK: DEFAULT_ACCESS_KEY.secretAccessKey,
      IDS_FILE: idsFile,
      TYPE: 'SOFT',
      CONCURRENCY: String(NOVA_CONCURRENCY),
      POLL_MS: String(POLL_MS),
      TIMEOUT_MS: String(timeoutMs - 10_000),
      RESULT_FILE: resultFile
    },
    timeoutMs,
    measureMemory: context.measureMemory,
    scratch: context.scratch
  })
  let result: NovaResult | undefined
  try {
    result = JSON.parse(readFileSync(resultFile, 'utf8')) as NovaResult
  } catch {
    result = undefined
  }
  if (!result) return { child, errors: 1, completed: false, outcome: `no result (exit ${child.exitCode})` }
  return {
    child,
    errors: result.errors + result.failed,
    completed: child.exitCode === 0 && result.ok,
    outcome: result.ok ? 'succeeded' : `${result.errors} errors, ${result.failed} failed; first: ${result.firstError}`
  }
}

const RUNNERS = { action: runActionContender, sdk: runSdkContender, nova: runNovaContender }

/** One run of one contender for `ids` against a fresh emulator with the model. */
export async function runContender(
  contender: ContenderName,
  ids: readonly string[],
  idsFile: string,
  context: RunContext
): Promise<RunResult> {
  const { model } = context
  const emulator = await EcsEmulator.start({
    latencyMs: model.latencyMs,
    jobDurationMs: model.jobMs,
    // Retry-After as when the results were recorded (the emulator's default now sends none).
    rateLimit: { servers: model.limitServers, windowMs: model.windowMs, retryAfter: true },
    recordRequests: false
  })
  try {
    const partial = await RUNNERS[contender](emulator, ids, idsFile, context)
    const { child } = partial
    const counters = emulator.counters()
    const byRoute = Object.fromEntries(Object.entries(counters.requests).filter(([, count]) => count > 0))
    const notes = [...childNotes(child), ...(partial.notes ?? [])]
    return {
      contender,
      n: ids.length,
      wallMs: child.wallMs,
      requests: Object.values(counters.requests).reduce((sum, count) => sum + count, 0),
      byRoute,
      throttled: counters.throttled,
      ...verdict(emulator, ids),
      errors: partial.errors ?? 0,
      completed: partial.completed ?? false,
      outcome: partial.outcome ?? '',
      maxRssKb: child.maxRssKb,
      notes
    }
  } finally {
    await emulator.close()
  }
}
