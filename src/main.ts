import { ApiClient } from './api'
import { githubActionIO, type ActionIO } from './action-io'
import { accessKeyAuthenticator } from './auth'
import { EcsClient, lookupProjectId } from './ecs'
import { InputErrors, errorMessage } from './errors'
import { type BatchRun, execute } from './execute'
import { createHttpTransport } from './http'
import { type ActionInputs, readInputs, splitServerIds } from './inputs'
import { Ledger, type ServerResult } from './ledger'
import { describeOperation } from './operation'
import { planBatches } from './plan'
import {
  type RunStatus,
  batchAnnotations,
  batchLogGroups,
  buildOutputs,
  countOutcomes,
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
  waited: boolean
  failOnError: boolean
  request: string
  error: string | undefined
}

function plural(count: number, noun: 'server' | 'batch'): string {
  const nouns = { server: 'servers', batch: 'batches' }
  return `${count.toLocaleString('en-US')} ${count === 1 ? noun : nouns[noun]}`
}

async function restart(inputs: ActionInputs, ledger: Ledger, io: ActionIO): Promise<BatchRun[]> {
  // timeout-seconds bounds the whole run: the project lookup, throttled submissions and waiting.
  const deadline = io.clock() + inputs.timeoutMs
  const transport = createHttpTransport({
    timeoutMs: inputs.requestTimeoutMs,
    maxBodyBytes: MAX_RESPONSE_BYTES,
    userAgent: USER_AGENT
  })
  try {
    const api = new ApiClient({
      transport,
      authenticator: accessKeyAuthenticator(inputs.credentials),
      retry: DEFAULT_RETRY_POLICY,
      clock: io.clock,
      sleep: io.sleep,
      random: io.random,
      log: io.log,
      signal: io.cancellation
    })
    let projectId = inputs.projectId
    if (projectId === undefined) {
      projectId = await lookupProjectId(api, inputs.iamEndpoint as URL, inputs.region as string, deadline)
      io.log.info(`Project of region ${inputs.region}: ${projectId}`)
    }
    // A batch larger than the pace allows per minute could never be sent within it.
    const batchSize = Math.min(inputs.batchSize, inputs.maxServersPerMinute)
    if (batchSize < inputs.batchSize) {
      io.log.info(`Batches of ${batchSize} servers, since max-servers-per-minute is ${inputs.maxServersPerMinute}.`)
    }
    const plan = planBatches(inputs.serverIds, batchSize)
    io.log.info(
      `${describeOperation(inputs.operation)} of ${plural(inputs.serverIds.length, 'server')} in ${plural(plan.batchCount, 'batch')} via ${inputs.endpoint.origin} (project ${projectId})`
    )
    const ecs = new EcsClient(api, inputs.endpoint, projectId)
    return await execute(
      plan,
      { ...inputs, deadline },
      {
        ecs,
        ledger,
        log: io.log,
        clock: io.clock,
        sleep: io.sleep,
        signal: io.cancellation
      }
    )
  } finally {
    transport.close()
  }
}

async function attempt(io: ActionIO): Promise<Outcome> {
  let inputs: ActionInputs
  try {
    inputs = readInputs(io)
  } catch (error) {
    if (!(error instanceof InputErrors)) throw error
    // Report the servers that were named, so the outputs still account for each of them.
    const named = splitServerIds(io.getInput('server-ids'))
    const ledger = new Ledger(error.problems.some((p) => p.input === 'server-ids') ? [] : named)
    ledger.explainQueued('Not submitted: the inputs are invalid.')
    return { ledger, runs: [], waited: false, failOnError: true, request: 'Nothing restarted', error: error.message }
  }
  const ledger = new Ledger(inputs.serverIds)
  const request = `${describeOperation(inputs.operation)} of ${plural(inputs.serverIds.length, 'server')}`
  const outcome = { ledger, runs: [] as BatchRun[], waited: inputs.wait, failOnError: inputs.failOnError, request }
  try {
    const runs = await restart(inputs, ledger, io)
    return {
      ...outcome,
      runs,
      request: `${request} in ${plural(runs.length, 'batch')} via ${inputs.endpoint.host}`,
      error: undefined
    }
  } catch (error) {
    const message = errorMessage(error)
    ledger.explainQueued(`Not submitted: ${message}`)
    return { ...outcome, error: message }
  }
}

async function report(
  outcome: Outcome,
  results: ServerResult[],
  status: RunStatus,
  io: ActionIO,
  durationMs: number
): Promise<void> {
  for (const group of batchLogGroups(outcome.runs, results)) io.log.group(group.title, group.lines)
  for (const annotation of batchAnnotations(outcome.runs)) io.log.error(annotation.message, annotation.title)
  for (const [name, value] of Object.entries(buildOutputs(results, outcome.runs, status))) {
    io.setOutput(name, value)
    if (value.length > OUTPUT_SIZE_LIMIT) {
      io.log.warning(
        `The '${name}' output is ${(value.length / 1e6).toFixed(1)} MB, over GitHub's 1 MB limit for one output, so later steps may not get it. Restart fewer servers per step, or read the shorter outputs.`
      )
    }
  }
  const html = renderSummary(results, outcome.runs, status, {
    title: 'ECS batch restart',
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
    const status = outcome.error !== undefined ? 'failed' : overallStatus(results, outcome.waited)
    await report(outcome, results, status, io, io.clock() - started)
    if (outcome.error !== undefined) io.setFailed(outcome.error)
    else if (io.cancellation.aborted) {
      io.setFailed(
        `Cancelled (${String(io.cancellation.reason)}): batches not yet sent were not submitted, and submitted ones are pending; see the job summary.`
      )
    } else if (outcome.failOnError && (status === 'failed' || status === 'timed-out')) {
      io.setFailed(`ECS batch restart ${status}: see the job summary for each server's outcome.`)
    }
  } catch (error) {
    io.setFailed(`Unexpected error: ${errorMessage(error)}`)
  }
}
