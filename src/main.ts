import { githubActionIO, type ActionIO } from './action/action-io'
import { InputErrors } from './action/errors'
import { type ActionInputs, readInputs } from './action/inputs'
import { readServerIdsFile, splitServerIds } from './action/inputs/servers'
import { MAX_BATCH_SIZE } from './action/inputs/timing'
import { resolveAmount } from './action/inputs/values'
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
import { Ledger } from './engine/ledger'
import { REQUIRED_STATE, describeOperation } from './engine/operation'
import { type Plan, planBatches } from './engine/plan'
import { type Selection, hasFilters, selectServers } from './engine/selection'
import { errorMessage, plural } from './shared/text'

const MAX_RESPONSE_BYTES = 10 * 1024 * 1024
const USER_AGENT = 'ecs-batch-restart (GitHub Action)'

interface Outcome {
  ledger: Ledger
  runs: BatchRun[]
  plan: Plan | undefined
  waited: boolean
  dryRun: boolean
  failOnError: boolean
  /** The summary's heading, e.g. "ECS batch restart". */
  title: string
  request: string
  error: string | undefined
}

const TITLES: Record<OperationKind, string> = {
  reboot: 'ECS batch restart',
  start: 'ECS batch start',
  stop: 'ECS batch stop'
}

/** Signs in and finds the project: the ECS client the rest of the run uses. */
async function connect(
  inputs: ActionInputs,
  options: Omit<ApiClientOptions, 'authenticator'>,
  deadline: number,
  io: ActionIO
): Promise<EcsClient> {
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
  return new EcsClient(api, hosts, projectId)
}

/** The servers to act on: the IDs given, narrowed by the filters and states when asked to. */
async function select(inputs: ActionInputs, ecs: EcsClient, io: ActionIO): Promise<Selection> {
  const requiredState = inputs.skipInactive ? REQUIRED_STATE[inputs.operation.kind] : undefined
  // A dry run always lists, which checks the credentials and finds IDs the project does not have.
  if (!hasFilters(inputs.filters) && requiredState === undefined && !inputs.dryRun) {
    return selectServers(inputs.serverIds, undefined, inputs.filters, undefined)
  }
  const listed = await ecs.listServers(inputs.enterpriseProjectId)
  const selection = selectServers(inputs.serverIds, listed, inputs.filters, requiredState)
  io.log.info(
    `Selected ${plural(selection.chosen.length, 'server')} of ${plural(listed.length, 'server')} in the project; ${selection.skipped.length} skipped.`
  )
  return selection
}

/** Cuts the chosen servers into batches and waves, and says so in the log and `outcome.request`. */
function planRun(inputs: ActionInputs, chosen: string[], outcome: Outcome, ecs: EcsClient, io: ActionIO): Plan {
  // A batch larger than the pace allows per minute could never be sent within it.
  const batchSize = Math.min(
    resolveAmount(inputs.batchSize, chosen.length, 'up', 1, MAX_BATCH_SIZE),
    inputs.maxServersPerMinute
  )
  const plan = planBatches(chosen, batchSize, inputs.rolling)
  outcome.plan = plan
  const waves = plan.waves.length > 1 ? `, ${plural(plan.waves.length, 'wave')}` : ''
  outcome.request = `${inputs.dryRun ? 'Dry run: ' : ''}${describeOperation(inputs.operation)} of ${plural(chosen.length, 'server')} in ${plural(plan.batchCount, 'batch')}${waves} via ${ecs.endpoint.host}`
  io.log.info(`${outcome.request} (project ${ecs.projectId}), batches of up to ${batchSize}`)
  const pacedMinutes = Math.ceil(chosen.length / inputs.maxServersPerMinute) - 1
  if (pacedMinutes * 60_000 > inputs.timeoutMs) {
    io.log.warning(
      `At max-servers-per-minute ${inputs.maxServersPerMinute}, sending all ${plural(chosen.length, 'server')} takes about ${pacedMinutes} min, longer than timeout-seconds (${inputs.timeoutMs / 1000} s): batches due after it will fail as not submitted, and waits for throttling (up to a minute each) come on top. Raise timeout-seconds, or max-servers-per-minute if your account's quota allows.`
    )
  }
  return plan
}

/** A dry run: every planned server is skipped with the batch and wave it would be in. */
function recordDryRun(inputs: ActionInputs, plan: Plan, outcome: Outcome, io: ActionIO): void {
  const what = describeOperation(inputs.operation).toLowerCase()
  for (const [index, wave] of plan.waves.entries()) {
    for (const batch of wave) {
      io.log.info(`Wave ${index + 1}, batch ${batch.number}: ${batch.serverIds.join(', ')}`)
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
  try {
    const { clock, sleep, random, log, cancellation: signal } = io
    const options = { transport, retry: DEFAULT_RETRY_POLICY, clock, sleep, random, log, signal }
    const ecs = await connect(inputs, options, deadline, io)
    const selection = await select(inputs, ecs, io)
    outcome.ledger = new Ledger(selection.considered)
    for (const { id, reason } of selection.skipped) outcome.ledger.markSkipped([id], `Skipped: ${reason}.`)
    if (selection.chosen.length === 0) {
      if (!inputs.allowEmpty) {
        throw new Error(
          'Nothing selected: no server matched server-ids and the filters. Check the tags, name and status (or set allow-empty: true when that is expected).'
        )
      }
      io.log.info('Nothing selected, and allow-empty is true: nothing to do.')
      return
    }
    const plan = planRun(inputs, selection.chosen, outcome, ecs, io)
    if (inputs.dryRun) {
      recordDryRun(inputs, plan, outcome, io)
      return
    }
    const maxFailures = resolveAmount(inputs.maxFailures, selection.chosen.length, 'down', 0, Number.MAX_SAFE_INTEGER)
    outcome.runs = await execute(
      plan,
      { ...inputs, deadline, maxFailures },
      { ecs, ledger: outcome.ledger, log, clock, sleep, random, signal }
    )
  } finally {
    transport.close()
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
    const { title, request, error } = outcome
    await publish(
      { results, runs: outcome.runs, plan: outcome.plan, status },
      { title, request, error, durationMs: io.clock() - started, runUrl: io.runUrl() },
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
