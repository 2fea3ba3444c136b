import { githubActionIO, type ActionIO } from './action/action-io'
import { InputErrors } from './action/errors'
import { type ActionInputs, type ConnectionInputs, readInputs, readPostInputs } from './action/inputs'
import { readServerIdsFile, splitServerIds } from './action/inputs/servers'
import { MAX_BATCH_SIZE } from './action/inputs/timing'
import { resolveAmount } from './action/inputs/values'
import { type Connection, type PreparedGate, finishGate, prepareGate, restoreJournal } from './action/health-gate'
import { type GateOutputs, gateOutputs } from './action/health-gate-report'
import type { HealthGateSettings } from './action/inputs/health-gate'
import { JOURNAL_STATE, readJournal, writeJournal } from './action/journal-file'
import { publish } from './action/publish'
import { overallStatus } from './action/report'
import { signIn } from './action/sign-in'
import { ApiClient, type ApiClientOptions } from './cloud/api'
import { anonymous } from './cloud/auth'
import { EcsClient, lookupProjectId } from './cloud/ecs'
import { HostFailover } from './cloud/failover'
import { createHttpTransport } from './cloud/http'
import { DEFAULT_RETRY_POLICY } from './cloud/retry'
import type { OperationKind } from './cloud/server-action'
import { type BatchRun, batchRun } from './engine/batch-run'
import { execute } from './engine/execute'
import { inStandby, needsRestore, openEntries } from './engine/health-gate/restore'
import type { Journal } from './engine/health-gate/types'
import { Ledger } from './engine/ledger'
import { REQUIRED_STATE, describeOperation } from './engine/operation'
import { explainNothingSelected } from './engine/empty-selection'
import { type KnownServers, outOfStateWarning, serverLabelWithState } from './engine/known'
import { earliestLastRequestMs } from './engine/pacer'
import { type Plan, planBatches } from './engine/plan'
import { type Selection, hasFilters, selectServers } from './engine/selection'
import { errorMessage, formatDuration, plural } from './shared/text'

const MAX_RESPONSE_BYTES = 10 * 1024 * 1024
const USER_AGENT = 'ecs-batch-restart (GitHub Action)'

interface Outcome {
  ledger: Ledger
  runs: BatchRun[]
  plan: Plan | undefined
  /** Names and states of the servers the run listed. */
  known: KnownServers
  /** The state the operation needs a server in, e.g. ACTIVE for a restart. */
  requiredState: string
  /** Warnings about the plan, for the summary as well as the log. */
  warnings: string[]
  waited: boolean
  dryRun: boolean
  failOnError: boolean
  /** The summary's heading, e.g. "ECS batch restart". */
  title: string
  request: string
  error: string | undefined
  /** The health gate's pools, waves and restores (health-gate: elb). */
  gate?: GateOutputs
}

const TITLES: Record<OperationKind, string> = {
  reboot: 'ECS batch restart',
  start: 'ECS batch start',
  stop: 'ECS batch stop'
}

/** Signs in and finds the project: the ECS client the rest of the run uses, and what other clients need. */
async function connect(
  inputs: ConnectionInputs,
  options: Omit<ApiClientOptions, 'authenticator'>,
  deadline: number,
  io: ActionIO
): Promise<{ ecs: EcsClient; connection: Connection }> {
  const { authenticator, tokenProjectId } = await signIn(
    inputs,
    new ApiClient({ ...options, authenticator: anonymous }),
    io
  )
  const api = new ApiClient({ ...options, authenticator })
  let projectId = inputs.projectId ?? tokenProjectId
  if (projectId === undefined) {
    projectId = await lookupProjectId(api, inputs.iamEndpoint as URL, inputs.region as string, deadline)
    io.log.info(`Project of region ${inputs.region}: ${projectId}`)
  }
  const hosts = new HostFailover([inputs.endpoint, ...inputs.endpointAlternatives], io.log, 'ECS')
  return { ecs: new EcsClient(api, hosts, projectId), connection: { authenticator, projectId, options } }
}

/** "project 0123… (region ap-southeast-1, enterprise project all_granted_eps)", for messages. */
function describeWhere(inputs: ActionInputs, ecs: EcsClient): string {
  const details = [
    inputs.region !== undefined ? `region ${inputs.region}` : '',
    inputs.enterpriseProjectId !== undefined ? `enterprise project ${inputs.enterpriseProjectId}` : ''
  ].filter(Boolean)
  return `project ${ecs.projectId}${details.length > 0 ? ` (${details.join(', ')})` : ''}`
}

/**
 * The servers to act on: the IDs given, narrowed by the filters and states when asked to; when
 * none are left, `emptyReason` says why.
 */
async function select(
  inputs: ActionInputs,
  ecs: EcsClient,
  deadline: number,
  io: ActionIO
): Promise<Selection & { emptyReason?: string }> {
  const requiredState = inputs.skipInactive ? REQUIRED_STATE[inputs.operation.kind] : undefined
  // A dry run always lists, which checks the credentials and finds IDs the project does not have.
  if (!hasFilters(inputs.filters) && requiredState === undefined && !inputs.dryRun) {
    return selectServers(inputs.serverIds, undefined, inputs.filters, undefined)
  }
  const listed = await ecs.listServers(inputs.enterpriseProjectId, deadline)
  const selection = selectServers(inputs.serverIds, listed, inputs.filters, requiredState)
  io.log.info(
    `Selected ${plural(selection.chosen.length, 'server')} of ${plural(listed.length, 'server')} in the project; ${selection.skipped.length} skipped.`
  )
  if (selection.chosen.length > 0) return selection
  const request = { requested: inputs.serverIds, listed, filters: inputs.filters, requiredState }
  return {
    ...selection,
    emptyReason: explainNothingSelected({ ...request, where: describeWhere(inputs, ecs) }, selection)
  }
}

/**
 * Refuses a plan whose requests cannot all be sent before `deadline` at the pace: better to fail
 * before the first request, naming the time needed, than to restart part of the fleet.
 */
function checkFits(inputs: ActionInputs, chosen: number, sendingMs: number, deadline: number, io: ActionIO): void {
  const left = deadline - io.clock()
  if (sendingMs <= left) return
  const needed = Math.ceil((inputs.timeoutMs - left + sendingMs) / 1000) + 1
  throw new Error(
    `The plan cannot finish within timeout-seconds (${inputs.timeoutMs / 1000} s): at max-servers-per-minute ${inputs.maxServersPerMinute.toLocaleString('en-US')}, sending all ${plural(chosen, 'server')} takes at least ${formatDuration(sendingMs)}${inputs.pauseMs > 0 ? ' with pause-seconds between waves' : ''}, before any waiting for the jobs. Nothing was restarted. Raise timeout-seconds above ${needed} (plus the time the jobs take), raise max-servers-per-minute if your account's quota allows, or select fewer servers.`
  )
}

/** A batch larger than the pace allows per minute could never be sent within it. */
function batchSizeFor(inputs: ActionInputs, chosen: number): number {
  return Math.min(resolveAmount(inputs.batchSize, chosen, 'up', 1, MAX_BATCH_SIZE), inputs.maxServersPerMinute)
}

/** Cuts the chosen servers into batches and waves, and says so in the log and `outcome.request`. */
function planRun(
  inputs: ActionInputs,
  chosen: string[],
  outcome: Outcome,
  ecs: EcsClient,
  deadline: number,
  io: ActionIO,
  gatePlan?: Plan
): Plan {
  const batchSize = batchSizeFor(inputs, chosen.length)
  const plan = gatePlan ?? planBatches(chosen, batchSize, inputs.rolling)
  outcome.plan = plan
  const waves = plan.waves.length > 1 ? `, ${plural(plan.waves.length, 'wave')}` : ''
  outcome.request = `${inputs.dryRun ? 'Dry run: ' : ''}${describeOperation(inputs.operation)} of ${plural(chosen.length, 'server')} in ${plural(plan.batchCount, 'batch')}${waves} via ${ecs.endpoint.host}`
  const sendingMs = earliestLastRequestMs(plan, inputs.maxServersPerMinute, inputs.pauseMs)
  io.log.info(
    `${outcome.request} (project ${ecs.projectId}), batches of up to ${batchSize}, at ${inputs.maxServersPerMinute.toLocaleString('en-US')} servers/min: ${sendingMs === 0 ? 'every request goes at once' : `sending takes about ${formatDuration(sendingMs)}`}, then waiting for the jobs (timeout-seconds ${inputs.timeoutMs / 1000} s)`
  )
  const warning = outOfStateWarning(plan, outcome.known, outcome.requiredState, describeOperation(inputs.operation))
  if (warning !== undefined) {
    io.log.warning(warning)
    outcome.warnings.push(warning)
  }
  checkFits(inputs, chosen.length, sendingMs, deadline, io)
  return plan
}

/** A dry run: every planned server is skipped with the batch and wave it would be in. */
function recordDryRun(inputs: ActionInputs, plan: Plan, outcome: Outcome, io: ActionIO): void {
  const what = describeOperation(inputs.operation).toLowerCase()
  for (const [index, wave] of plan.waves.entries()) {
    for (const batch of wave) {
      const servers = batch.serverIds.map((id) => serverLabelWithState(id, outcome.known))
      io.log.info(`Wave ${index + 1}, batch ${batch.number}: ${servers.join(', ')}`)
      outcome.ledger.markSkipped(batch.serverIds, `Dry run: would ${what} in batch ${batch.number}, wave ${index + 1}.`)
      outcome.runs.push(batchRun(batch, index + 1, 'planned'))
    }
  }
}

/** Selects, plans and runs (or, in a dry run, only plans) the operation, filling in `outcome`. */
async function perform(inputs: ActionInputs, outcome: Outcome, io: ActionIO): Promise<void> {
  // timeout-seconds bounds the whole run: the project lookup, listing, throttled submissions and waiting.
  const deadline = io.clock() + inputs.timeoutMs
  const transport = createHttpTransport({
    timeoutMs: inputs.requestTimeoutMs,
    maxBodyBytes: MAX_RESPONSE_BYTES,
    userAgent: USER_AGENT
  })
  let gated: { prepared: PreparedGate; settings: HealthGateSettings; connection: Connection } | undefined
  try {
    const { clock, sleep, random, log, cancellation: signal } = io
    const options = { transport, retry: DEFAULT_RETRY_POLICY, clock, sleep, random, log, signal }
    const { ecs, connection } = await connect(inputs, options, deadline, io)
    const selection = await select(inputs, ecs, deadline, io)
    outcome.ledger = new Ledger(selection.considered)
    outcome.known = selection.known
    for (const { id, reason } of selection.skipped) outcome.ledger.markSkipped([id], `Skipped: ${reason}.`)
    if (selection.chosen.length === 0) {
      const why = selection.emptyReason ?? 'no servers were given'
      if (!inputs.allowEmpty) {
        throw new Error(`Nothing selected: ${why} (Set allow-empty: true if an empty selection is expected.)`)
      }
      io.log.info(`Nothing selected, and allow-empty is true: nothing to do. Why: ${why}`)
      return
    }
    // Health gate (issue 14): pools discovered and waves sized before anything changes.
    if (inputs.healthGate !== undefined) {
      const run = {
        maxPerWave: batchSizeFor(inputs, selection.chosen.length),
        deadline,
        pollIntervalMs: inputs.pollIntervalMs,
        dryRun: inputs.dryRun
      }
      const prepared = await prepareGate(inputs.healthGate, selection.chosen, run, connection, io)
      gated = { prepared, settings: inputs.healthGate, connection }
    }
    const plan = planRun(inputs, selection.chosen, outcome, ecs, deadline, io, gated?.prepared.plan)
    if (inputs.dryRun) {
      recordDryRun(inputs, plan, outcome, io)
      return
    }
    const maxFailures = resolveAmount(inputs.maxFailures, selection.chosen.length, 'down', 0, Number.MAX_SAFE_INTEGER)
    outcome.runs = await execute(
      plan,
      // A gated wave is checked for health only once its servers are ACTIVE again.
      { ...inputs, deadline, maxFailures, waitForTargetState: inputs.waitForTargetState || gated !== undefined },
      { ecs, ledger: outcome.ledger, log, clock, sleep, random, signal, waveGuard: gated?.prepared.gate }
    )
  } finally {
    try {
      if (gated !== undefined) {
        const report = await finishGate(gated.prepared, gated.settings, gated.connection, io)
        outcome.gate = gateOutputs(gated.prepared, report)
      }
    } finally {
      transport.close()
    }
  }
}

/** The IDs of a readable, valid `server-ids-file`; none otherwise (its problem is reported already). */
function namedInFile(io: ActionIO): string[] {
  const path = io.getInput('server-ids-file').trim()
  if (path === '') return []
  try {
    return readServerIdsFile(path, io.env.GITHUB_WORKSPACE ?? process.cwd(), (file) => io.readFile(file))
  } catch {
    return []
  }
}

/** Bad inputs: nothing is sent, and the servers that were named are still accounted for. */
function refusedOutcome(error: InputErrors, io: ActionIO): Outcome {
  const named = error.problems.some((p) => p.input === 'server-ids') ? [] : splitServerIds(io.getInput('server-ids'))
  const ledger = new Ledger([...new Set([...named, ...namedInFile(io)])])
  ledger.explainQueued('Not submitted: the inputs are invalid.')
  return {
    ledger,
    runs: [],
    plan: undefined,
    known: new Map(),
    warnings: [],
    requiredState: REQUIRED_STATE.reboot,
    waited: false,
    dryRun: false,
    failOnError: true,
    title: TITLES.reboot,
    request: 'Nothing done',
    error: error.message
  }
}

async function attempt(io: ActionIO): Promise<Outcome> {
  let inputs: ActionInputs
  try {
    inputs = readInputs(io)
  } catch (error) {
    if (!(error instanceof InputErrors)) throw error
    return refusedOutcome(error, io)
  }
  const outcome: Outcome = {
    ledger: new Ledger(inputs.serverIds),
    runs: [],
    plan: undefined,
    known: new Map(),
    warnings: [],
    requiredState: REQUIRED_STATE[inputs.operation.kind],
    waited: inputs.wait,
    dryRun: inputs.dryRun,
    failOnError: inputs.failOnError,
    title: TITLES[inputs.operation.kind],
    request: `${describeOperation(inputs.operation)} of ${plural(inputs.serverIds.length, 'server')}`,
    error: undefined
  }
  try {
    await perform(inputs, outcome, io)
  } catch (error) {
    outcome.error = errorMessage(error)
    outcome.ledger.explainQueued(`Not submitted: ${outcome.error}`)
  }
  return outcome
}

/** Inputs → plan → execution → report. The outputs and summary are written whatever happens. */
export async function run(io: ActionIO = githubActionIO()): Promise<void> {
  const started = io.clock()
  try {
    const outcome = await attempt(io)
    const results = outcome.ledger.results()
    const status =
      outcome.error !== undefined ? 'failed' : outcome.dryRun ? 'dry-run' : overallStatus(results, outcome.waited)
    const { title, request, error, known, requiredState, warnings } = outcome
    await publish(
      { results, runs: outcome.runs, plan: outcome.plan, status, known, requiredState, gate: outcome.gate },
      { title, request, error, warnings, startedAt: started, durationMs: io.clock() - started, runUrl: io.runUrl() },
      io
    )
    if (outcome.error !== undefined) io.setFailed(outcome.error)
    else if (io.cancellation.aborted) {
      io.setFailed(
        `Cancelled (${String(io.cancellation.reason)}): batches not yet sent were not submitted, and submitted ones are pending; see the job summary.`
      )
    } else if (outcome.failOnError && (status === 'failed' || status === 'timed-out')) {
      io.setFailed(`${outcome.title} ${status}: see the job summary for each server's outcome.`)
    }
  } catch (error) {
    io.setFailed(`Unexpected error: ${errorMessage(error)}`)
  }
}

/**
 * The post step (action.yml `runs.post`, always run): puts back whatever the main step left
 * drained or paused, from the journal it saved, signing in again with the same inputs.
 */
export async function runPost(io: ActionIO = githubActionIO()): Promise<void> {
  const path = io.env[`STATE_${JOURNAL_STATE}`]
  if (!path) return
  const transport = createHttpTransport({ timeoutMs: 30_000, maxBodyBytes: MAX_RESPONSE_BYTES, userAgent: USER_AGENT })
  try {
    const journal = readJournal(path)
    if (!needsRestore(journal)) {
      io.log.info('Health gate: the main step left nothing drained, paused or in standby.')
      return
    }
    const inputs = readPostInputs(io)
    if (inputs.healthGate === undefined) throw new Error('health-gate is not elb in the post step')
    const { clock, sleep, random, log, cancellation: signal } = io
    const options = { transport, retry: DEFAULT_RETRY_POLICY, clock, sleep, random, log, signal }
    const deadline = clock() + inputs.healthGate.healthTimeoutMs
    const { connection } = await connect(inputs, options, deadline, io)
    const save = (changed: Journal): void => writeJournal(path, changed)
    const { restores, alerts } = await restoreJournal(
      journal,
      inputs.healthGate,
      connection,
      io,
      save,
      inputs.healthGate.healthTimeoutMs
    )
    for (const r of restores) {
      io.log.info(
        `Post step: member ${r.entry.memberId} of server ${r.entry.serverId} in pool ${r.entry.poolId}: ${r.outcome} (${r.detail})`
      )
    }
    for (const alert of alerts) io.log.error(alert, 'Health gate post step: act by hand')
    const left = openEntries(journal)
    if (alerts.length > 0 || left.length > 0 || inStandby(journal).length > 0)
      io.setFailed(`Health gate post step: not everything could be restored; journal: ${JSON.stringify(journal)}`)
    else
      io.log.info(
        `Post step: restored ${restores.filter((r) => r.outcome === 'restored').length} member(s) the main step left drained.`
      )
  } catch (error) {
    io.setFailed(
      `Health gate post step failed: ${errorMessage(error)}. Restore the members listed in the journal ${path} by hand.`
    )
  } finally {
    transport.close()
  }
}
