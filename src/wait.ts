import { isThrottling } from './api'
import { ApiError, errorMessage } from './errors'
import type { BatchRun, ExecutionDeps } from './execute'
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

export interface WaitOptions {
  /** When to stop waiting (ms since the epoch); unfinished servers stay pending. */
  deadline: number
  pollIntervalMs: number
}

/**
 * Polls every unfinished job once per interval (one round for all of them, not a timer per
 * job) until all have finished, the deadline has passed or the run is cancelled, recording
 * each server's outcome.
 */
export async function waitForJobs(runs: BatchRun[], options: WaitOptions, deps: ExecutionDeps): Promise<void> {
  const { ecs, ledger, log, clock, sleep, signal } = deps
  const lastStatus = new Map<BatchRun, string>()
  const lastError = new Map<BatchRun, string>()
  let open = runs.filter((run) => run.jobId !== null)
  // A function, not a property read, so no narrowing survives the awaits in between.
  const cancelled = (): boolean => signal.aborted

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
      if (!cancelled()) log.warning(`${message}; trying again next round`)
      return
    }
    lastError.delete(run)
    const observation = interpretJob(document, run.serverIds)
    lastStatus.set(run, observation.status)
    for (const id of observation.succeeded) if (ledger.isAwaiting(id)) ledger.markSucceeded(id)
    for (const { id, code, message } of observation.failed) {
      if (ledger.isAwaiting(id)) ledger.markFailed([id], code, message)
    }
    if (observation.strangers.length > 0) {
      log.warning(
        `Job ${jobId} reported ${observation.strangers.length} servers that were not in request ${run.label}; ignored: ${observation.strangers.slice(0, 5).join(', ')}`
      )
    }
    if (observation.finished) {
      run.status = observation.status
      const failed = observation.failed.length
      if (failed > 0) {
        run.problem = `${failed} of ${run.serverIds.length} servers failed (job ${jobId}, ${observation.status})`
      }
      log.info(`Request ${run.label} (job ${jobId}) finished: ${observation.status}`)
    }
  }

  const started = clock()
  for (let round = 1; open.length > 0 && !cancelled(); round++) {
    const now = clock()
    if (now >= options.deadline) break
    await sleep(Math.min(options.pollIntervalMs, options.deadline - now), signal)
    if (cancelled()) break
    await forEachLimited(open, POLL_CONCURRENCY, poll)
    open = open.filter((run) => run.status === 'submitted')
    log.info(progressLine(round, runs, open.length, deps, clock() - started))
  }

  for (const run of open) {
    const status = lastStatus.get(run) ?? 'not read'
    const error = lastError.get(run)
    run.status = cancelled() ? 'cancelled' : 'timed out'
    run.problem = cancelled()
      ? `the run was cancelled while job ${run.jobId} was running (last status ${status})`
      : `job ${run.jobId} had not finished when timeout-seconds ran out (last status ${status})`
    ledger.explainAwaiting(
      run.jobId as string,
      `Not confirmed: ${run.problem}${error ? `; last error: ${error}` : ''}.`
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
  const tally = deps.ledger.tally(runs.flatMap((run) => run.serverIds))
  const jobs = runs.filter((run) => run.jobId !== null).length
  return `Poll round ${round} (${seconds(elapsedMs)}): ${tally.succeeded} succeeded, ${tally.failed} failed, ${tally.submitted} running; ${jobs - openJobs} of ${jobs} jobs finished`
}
