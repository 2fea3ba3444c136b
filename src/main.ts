import { ApiClient } from './api'
import { githubActionIO, type ActionIO } from './action-io'
import { type Authenticator, accessKeyAuthenticator, anonymous, tokenAuthenticator } from './auth'
import { EcsClient, lookupProjectId } from './ecs'
import { ApiError, InputErrors, errorMessage } from './errors'
import { type BatchRun, batchRun, execute } from './execute'
import { createHttpTransport } from './http'
import { type IssuedToken, signInHint, tokenFromIdToken, tokenFromPassword } from './iam'
import {
  type ActionInputs,
  type AuthConfig,
  MAX_BATCH_SIZE,
  readInputs,
  readServerIdsFile,
  resolveAmount,
  splitServerIds
} from './inputs'
import { Ledger, type Results } from './ledger'
import { type OperationKind, describeOperation } from './operation'
import { type Plan, planBatches } from './plan'
import { REQUIRED_STATE, type Selection, hasFilters, selectServers } from './selection'
import {
  type RunStatus,
  batchAnnotations,
  batchLogGroups,
  buildOutputs,
  countOutcomes,
  jsonPieces,
  overallStatus,
  renderSummary
} from './report'
import { DEFAULT_RETRY_POLICY } from './retry'

const MAX_RESPONSE_BYTES = 10 * 1024 * 1024
const USER_AGENT = 'ecs-batch-restart (GitHub Action)'
/** GitHub keeps at most 1 MB of one step output. */
const OUTPUT_SIZE_LIMIT = 1_000_000

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

function plural(count: number, noun: 'server' | 'batch' | 'wave'): string {
  return `${count.toLocaleString('en-US')} ${noun}${count === 1 ? '' : noun === 'batch' ? 'es' : 's'}`
}

/** The promise's value, unless the run is cancelled first. */
function untilCancelled<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cancel = (): void => reject(new Error('The run was cancelled while signing in.'))
    if (signal.aborted) cancel()
    signal.addEventListener('abort', cancel, { once: true })
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', cancel))
  })
}

/**
 * Prepares the authentication: AK/SK signs each request; the token modes sign in at IAM now (so
 * their errors come first and clear) and give the token's project.
 */
async function signIn(
  inputs: ActionInputs,
  iam: ApiClient,
  io: ActionIO
): Promise<{ authenticator: Authenticator; tokenProjectId: string | undefined }> {
  if (inputs.auth.mode === 'access-key') {
    return { authenticator: accessKeyAuthenticator(inputs.auth.credentials), tokenProjectId: undefined }
  }
  const auth: Exclude<AuthConfig, { mode: 'access-key' }> = inputs.auth
  const iamEndpoint = inputs.iamEndpoint as URL
  const scope = inputs.projectId !== undefined ? { id: inputs.projectId } : { name: inputs.region as string }
  async function obtain(): Promise<IssuedToken> {
    try {
      if (auth.mode === 'password') return await tokenFromPassword(iam, iamEndpoint, auth, scope)
      if (!io.env.ACTIONS_ID_TOKEN_REQUEST_URL || !io.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
        throw new Error(
          'GitHub gave this job no OIDC token: add `permissions: id-token: write` to the workflow or job (pull requests from forks never get one).'
        )
      }
      const idToken = await untilCancelled(io.getIDToken(auth.audience), io.cancellation)
      return await tokenFromIdToken(iam, iamEndpoint, auth.idpId, idToken, scope)
    } catch (error) {
      if (error instanceof ApiError) {
        throw new Error(`${error.message}. ${signInHint(error, auth.mode)}`, { cause: error })
      }
      throw error
    }
  }
  const first = await obtain()
  io.maskSecret(first.token)
  io.log.info(`Signed in ${auth.mode === 'oidc' ? `through identity provider ${auth.idpId}` : `as ${auth.username}`}`)
  const renew = async (): Promise<string> => {
    const next = await obtain()
    io.maskSecret(next.token)
    return next.token
  }
  return { authenticator: tokenAuthenticator(renew, first.token), tokenProjectId: first.projectId }
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
    const options = {
      transport,
      retry: DEFAULT_RETRY_POLICY,
      clock: io.clock,
      sleep: io.sleep,
      random: io.random,
      log: io.log,
      signal: io.cancellation
    }
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
    const ecs = new EcsClient(api, inputs.endpoint, projectId)
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

    // A batch larger than the pace allows per minute could never be sent within it.
    const batchSize = Math.min(
      resolveAmount(inputs.batchSize, selection.chosen.length, 'up', 1, MAX_BATCH_SIZE),
      inputs.maxServersPerMinute
    )
    const plan = planBatches(selection.chosen, batchSize, inputs.rolling)
    outcome.plan = plan
    const what = describeOperation(inputs.operation)
    const waves = plan.waves.length > 1 ? `, ${plural(plan.waves.length, 'wave')}` : ''
    outcome.request = `${inputs.dryRun ? 'Dry run: ' : ''}${what} of ${plural(selection.chosen.length, 'server')} in ${plural(plan.batchCount, 'batch')}${waves} via ${inputs.endpoint.host}`
    io.log.info(`${outcome.request} (project ${projectId}), batches of up to ${batchSize}`)
    const pacedMinutes = Math.ceil(selection.chosen.length / inputs.maxServersPerMinute) - 1
    if (pacedMinutes * 60_000 > inputs.timeoutMs) {
      io.log.warning(
        `At max-servers-per-minute ${inputs.maxServersPerMinute}, sending all ${plural(selection.chosen.length, 'server')} takes about ${pacedMinutes} min, longer than timeout-seconds (${inputs.timeoutMs / 1000} s): batches due after it will fail as not submitted. Raise timeout-seconds, or max-servers-per-minute if your account's quota allows.`
      )
    }

    if (inputs.dryRun) {
      for (const [index, wave] of plan.waves.entries()) {
        for (const batch of wave) {
          io.log.info(`Wave ${index + 1}, batch ${batch.number}: ${batch.serverIds.join(', ')}`)
          outcome.ledger.markSkipped(
            batch.serverIds,
            `Dry run: would ${what.toLowerCase()} in batch ${batch.number}, wave ${index + 1}.`
          )
          outcome.runs.push(batchRun(batch, index + 1, 'planned'))
        }
      }
      return
    }

    const maxFailures = resolveAmount(inputs.maxFailures, selection.chosen.length, 'down', 0, Number.MAX_SAFE_INTEGER)
    outcome.runs = await execute(
      plan,
      { ...inputs, deadline, maxFailures },
      { ecs, ledger: outcome.ledger, log: io.log, clock: io.clock, sleep: io.sleep, signal: io.cancellation }
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

async function attempt(io: ActionIO): Promise<Outcome> {
  let inputs: ActionInputs
  try {
    inputs = readInputs(io)
  } catch (error) {
    if (!(error instanceof InputErrors)) throw error
    // Report the servers that were named, so the outputs still account for each of them.
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

async function report(
  outcome: Outcome,
  results: Results,
  status: RunStatus,
  io: ActionIO,
  durationMs: number
): Promise<void> {
  for (const group of batchLogGroups(outcome.runs, results)) io.log.group(group.title, group.lines)
  for (const annotation of batchAnnotations(outcome.runs)) io.log.error(annotation.message, annotation.title)
  let resultsFile = ''
  try {
    resultsFile = io.writeTempFile('results.json', jsonPieces(results.values()))
  } catch (error) {
    io.log.warning(`The results file could not be written: ${errorMessage(error)}`)
  }
  for (const [name, pieces] of buildOutputs(results, outcome.runs, status, outcome.plan, resultsFile)) {
    const bytes = io.setOutput(name, pieces)
    if (bytes > OUTPUT_SIZE_LIMIT) {
      io.log.warning(
        `The '${name}' output is ${(bytes / 1e6).toFixed(1)} MB, over GitHub's 1 MB limit for one output, so later steps may not get it. Read the file named by the 'results-file' output instead, or restart fewer servers per step.`
      )
    }
  }
  const html = renderSummary(results, outcome.runs, status, {
    title: outcome.title,
    request: outcome.request,
    durationMs,
    runUrl: io.runUrl(),
    error: outcome.error
  })
  try {
    await io.writeSummary(html)
  } catch (error) {
    io.log.warning(`The job summary could not be written: ${errorMessage(error)}`)
  }
  const counts = countOutcomes(results)
  io.log.info(
    `Finished with status ${status}: ${counts.succeeded} succeeded, ${counts.failed} failed, ${counts.pending} pending.`
  )
}

/** Inputs → plan → execution → report. The outputs and summary are written whatever happens. */
export async function run(io: ActionIO = githubActionIO()): Promise<void> {
  const started = io.clock()
  try {
    const outcome = await attempt(io)
    const results = outcome.ledger.results()
    const status =
      outcome.error !== undefined ? 'failed' : outcome.dryRun ? 'dry-run' : overallStatus(results, outcome.waited)
    await report(outcome, results, status, io, io.clock() - started)
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
