import { isThrottling } from './api'
import { ApiError, errorMessage } from './errors'
import type { BatchRun, ExecutionDeps, ExecutionOptions } from './execute'
import { interpretJob } from './jobs'

/** Jobs polled at once in a round; enough for 50,000 servers in 50 batches without a burst. */
const POLL_CONCURRENCY = 10

async function forEachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  async function worker(): Promise<void> {
    while (next < items.length) await work(items[next++])
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(2))} s`
}

/**
 * Polls every unfinished job once per interval (one round for all of them, not a timer per
 * job) until all have finished or the timeout has passed, recording each server's outcome.
 */
export async function waitForJobs(
  runs: BatchRun[],
  options: Pick<ExecutionOptions, 'timeoutMs' | 'pollIntervalMs'>,
  deps: ExecutionDeps
): Promise<void> {
  const { ecs, ledger, log, clock, sleep } = deps
  const deadline = clock() + options.timeoutMs
  const lastStatus = new Map<BatchRun, string>()
  const lastError = new Map<BatchRun, string>()
  let open = runs.filter((run) => run.jobId !== null)

  async function poll(run: BatchRun): Promise<void> {
    const jobId = run.jobId as string
    let document: unknown
    try {
      document = await ecs.getJob(jobId)
    } catch (error) {
      const message = errorMessage(error)
      if (error instanceof ApiError && error.status >= 400 && error.status < 500 && !isThrottling(error)) {
        run.status = 'status unreadable'
        run.problem = message
        ledger.explainAwaiting(jobId, `The job was accepted but its status could not be read: ${message}`)
        return
      }
      lastError.set(run, message)
      log.warning(`${message}; trying again next round`)
      return
    }
    lastError.delete(run)
    const observation = interpretJob(document, run.batch.serverIds)
    lastStatus.set(run, observation.status)
    for (const id of observation.succeeded) if (ledger.isAwaiting(id)) ledger.markSucceeded(id)
    for (const { id, code, message } of observation.failed) {
      if (ledger.isAwaiting(id)) ledger.markFailed([id], code, message)
    }
    if (observation.strangers.length > 0) {
      log.warning(
        `Job ${jobId} reported ${observation.strangers.length} servers that were not in batch ${run.batch.number}; ignored: ${observation.strangers.slice(0, 5).join(', ')}`
      )
    }
    if (observation.finished) {
      run.status = observation.status
      const failed = observation.failed.length
      if (failed > 0)
        run.problem = `${failed} of ${run.batch.serverIds.length} servers failed (job ${jobId}, ${observation.status})`
      log.info(`Batch ${run.batch.number} (job ${jobId}) finished: ${observation.status}`)
    }
  }

  const started = clock()
  for (let round = 1; open.length > 0; round++) {
    const now = clock()
    if (now >= deadline) break
    await sleep(Math.min(options.pollIntervalMs, deadline - now))
    await forEachLimited(open, POLL_CONCURRENCY, poll)
    open = open.filter((run) => run.status === 'submitted')
    log.info(progressLine(round, runs, open.length, deps, clock() - started))
  }

  for (const run of open) {
    run.status = 'timed out'
    const status = lastStatus.get(run) ?? 'not read'
    const error = lastError.get(run)
    run.problem = `job ${run.jobId} had not finished after ${seconds(options.timeoutMs)} (last status ${status})`
    ledger.explainAwaiting(
      run.jobId as string,
      `Not confirmed: job ${run.jobId} had not finished after ${seconds(options.timeoutMs)} (last status ${status}${error ? `; last error: ${error}` : ''}).`
    )
  }
}

function progressLine(
  round: number,
  runs: BatchRun[],
  openJobs: number,
  deps: ExecutionDeps,
  elapsedMs: number
): string {
  const tally = deps.ledger.tally(runs.flatMap((run) => run.batch.serverIds))
  const jobs = runs.filter((run) => run.jobId !== null).length
  return `Poll round ${round} (${seconds(elapsedMs)}): ${tally.succeeded} succeeded, ${tally.failed} failed, ${tally.submitted} running; ${jobs - openJobs} of ${jobs} jobs finished`
}
