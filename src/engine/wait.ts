import { isThrottling } from '../cloud/api'
import { ApiError } from '../cloud/errors'
import type { ServerState } from '../cloud/ecs'
import { interpretJob } from '../cloud/jobs'
import { forEachLimited } from '../shared/limit'
import { errorMessage, formatDuration, plural } from '../shared/text'
import type { BatchRun, ExecutionDeps } from './batch-run'

/** Jobs polled at once in a round; enough for 50,000 servers in 50 batches without a burst. */
const POLL_CONCURRENCY = 10

/** A 4xx that is not throttling: asking again would get the same answer. */
function isRefusal(error: unknown): error is ApiError {
  return error instanceof ApiError && error.status >= 400 && error.status < 500 && !isThrottling(error)
}

/**
 * How long a job's status may be refused (a non-throttling 4xx such as `Common.0011`) before the
 * poller gives up on it. A job just accepted may not be visible yet: one such answer proves
 * nothing. Counted from the first refusal in a row; an answer in between starts it again.
 */
export const JOB_REFUSAL_GRACE_MS = 60_000

export interface PollOptions {
  /** When to stop waiting (ms since the epoch); unfinished servers stay pending. */
  deadline: number
  pollIntervalMs: number
}

/**
 * Follows the jobs of accepted restart requests: one poll round per interval for all unfinished
 * jobs (not a timer per job), recording each server's outcome as its sub-job finishes. Rounds
 * also run while the executor idles between paced submissions, so early jobs are followed while
 * later batches wait for their turn.
 */
export class JobPoller {
  private readonly tracked: BatchRun[] = []
  private readonly lastStatus = new Map<BatchRun, string>()
  private readonly lastError = new Map<BatchRun, string>()
  /** When the job's status was first refused, for jobs whose last answer was a refusal. */
  private readonly refusedSince = new Map<BatchRun, number>()
  private nextRoundAt = Number.POSITIVE_INFINITY
  private round = 0
  private readonly started: number

  constructor(
    private readonly deps: ExecutionDeps,
    private readonly options: PollOptions
  ) {
    this.started = deps.clock()
  }

  /** Follows this run's job from now on; the first look comes one interval later. */
  track(run: BatchRun): void {
    if (this.open().length === 0) this.nextRoundAt = this.deps.clock() + this.options.pollIntervalMs
    this.tracked.push(run)
  }

  /** Sleeps until `time` (at most until the deadline), running the poll rounds that fall due. */
  async idleUntil(time: number): Promise<void> {
    const { clock, sleep, signal } = this.deps
    for (;;) {
      const now = clock()
      const until = Math.min(time, this.options.deadline)
      if (this.cancelled() || now >= until) return
      const polling = this.open().length > 0
      if (polling && now >= this.nextRoundAt) {
        await this.pollRound()
        continue
      }
      await sleep((polling ? Math.min(until, this.nextRoundAt) : until) - now, signal)
    }
  }

  /**
   * Waits until every followed job has finished, the deadline has passed (with one last round at
   * the deadline) or the run is cancelled; servers still unconfirmed then stay pending, with why.
   */
  async finish(): Promise<void> {
    const { clock, sleep, signal } = this.deps
    while (this.open().length > 0 && !this.cancelled()) {
      const now = clock()
      if (now >= this.options.deadline) break
      const target = Math.min(this.nextRoundAt, this.options.deadline)
      if (now < target) await sleep(target - now, signal)
      if (this.cancelled()) break
      await this.pollRound()
    }
    this.explainUnfinished()
  }

  /** A function, not a property read, so no narrowing survives the awaits in between. */
  private cancelled(): boolean {
    return this.deps.signal.aborted
  }

  private open(): BatchRun[] {
    return this.tracked.filter((run) => run.status === 'submitted')
  }

  private async pollRound(): Promise<void> {
    // A round that began by the deadline looks at every job once more (jobs are few: one per batch).
    await forEachLimited(
      this.open(),
      POLL_CONCURRENCY,
      () => this.cancelled(),
      (run) => this.poll(run)
    )
    this.round++
    this.nextRoundAt = this.deps.clock() + this.options.pollIntervalMs
    this.deps.log.info(this.progressLine())
  }

  private async poll(run: BatchRun): Promise<void> {
    const { ecs, ledger, log } = this.deps
    const jobId = run.jobId as string
    let document: unknown
    try {
      document = await ecs.getJob(jobId, this.options.deadline)
    } catch (error) {
      const message = errorMessage(error)
      this.lastError.set(run, message)
      if (isRefusal(error)) this.refused(run, error)
      else if (!this.cancelled()) log.warning(`${message}; trying again next round`)
      return
    }
    this.lastError.delete(run)
    this.refusedSince.delete(run)
    const observation = interpretJob(document, run.serverIds)
    this.lastStatus.set(run, observation.status)
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
      run.finishedAt = this.deps.clock()
      const failed = observation.failed.length
      if (failed > 0) {
        run.problem = `${failed} of ${plural(run.serverIds.length, 'server')} failed (job ${jobId}, ${observation.status})`
      }
      log.info(`Request ${run.label} (job ${jobId}) finished: ${observation.status}`)
    }
  }

  /**
   * A refused status query: an authentication failure stops at once (repeating it locks the key);
   * any other refusal is asked again next round, until the grace period has passed.
   */
  private refused(run: BatchRun, error: ApiError): void {
    const now = this.deps.clock()
    const since = this.refusedSince.get(run) ?? now
    this.refusedSince.set(run, since)
    const jobId = run.jobId as string
    if (!error.isAuthFailure && now - since < JOB_REFUSAL_GRACE_MS) {
      if (!this.cancelled()) {
        this.deps.log.warning(
          `${error.message}; the job may not be visible yet, so asking again next round (for up to ${formatDuration(JOB_REFUSAL_GRACE_MS)})`
        )
      }
      return
    }
    const how = error.isAuthFailure
      ? 'the cloud refused to show it'
      : `it was refused for ${formatDuration(now - since)}`
    run.status = 'status unreadable'
    run.problem = error.message
    this.deps.ledger.explainAwaiting(
      jobId,
      `Not confirmed: the job was accepted, but its status could not be read (${how}, last: ${error.message}). The operation may have been carried out; the request was not sent again.`
    )
  }

  private explainUnfinished(): void {
    for (const run of this.open()) {
      const status = this.lastStatus.get(run) ?? 'not read'
      const error = this.lastError.get(run)
      run.status = this.cancelled() ? 'cancelled' : 'timed out'
      run.problem = this.cancelled()
        ? `the run was cancelled while job ${run.jobId} was running (last status ${status})`
        : `job ${run.jobId} had not finished when timeout-seconds ran out (last status ${status})`
      this.deps.ledger.explainAwaiting(
        run.jobId as string,
        `Not confirmed: ${run.problem}${error ? `; last error: ${error}` : ''}.`
      )
    }
  }

  private progressLine(): string {
    const tally = this.deps.ledger.tally(this.tracked.flatMap((run) => run.serverIds))
    const open = this.open().length
    const elapsed = formatDuration(this.deps.clock() - this.started)
    return `Poll round ${this.round} (${elapsed}): ${tally.succeeded} succeeded, ${tally.failed} failed, ${tally.submitted} running; ${this.tracked.length - open} of ${this.tracked.length} jobs finished`
  }
}

/** States a server passes through on its way to the target; anything else is where it stays. */
const TRANSITIONAL_STATES = new Set([
  'REBOOT',
  'HARD_REBOOT',
  'BUILD',
  'MIGRATING',
  'RESIZE',
  'REVERT_RESIZE',
  'VERIFY_RESIZE',
  'REBUILD'
])

/** "ACTIVE", or "ACTIVE, task powering-off" while a task is in progress. */
function describeState(state: ServerState | undefined): string {
  if (state === undefined) return 'not read'
  return state.taskState === null ? state.status : `${state.status}, task ${state.taskState}`
}

/**
 * Where a server stands: `true` once it is settled in `target`, `false` while it is still on its
 * way (a task in progress, whatever its status, or a transitional status), or why it failed.
 */
function settled(state: ServerState | undefined, target: string): boolean | string {
  if (state === undefined || state.taskState !== null || TRANSITIONAL_STATES.has(state.status)) return false
  return state.status === target || `The job succeeded, but the server then reported ${state.status}, not ${target}.`
}

/**
 * After a job reported success, waits until each of its servers reports `target` (ACTIVE after a
 * restart or start, SHUTOFF after a stop) with no task in progress (`OS-EXT-STS:task_state`
 * empty): right after a stop job a server may still show ACTIVE, task powering-off. A server that
 * settles in another state fails; one still on its way at the deadline stays pending.
 */
export async function waitForServerStates(
  serverIds: readonly string[],
  target: string,
  options: PollOptions,
  deps: ExecutionDeps
): Promise<void> {
  const { ecs, ledger, log, clock, sleep, signal } = deps
  const lastSeen = new Map<string, ServerState>()
  let waiting = [...serverIds]
  let refusal: string | undefined
  const cancelled = (): boolean => signal.aborted
  while (waiting.length > 0 && !cancelled() && refusal === undefined && clock() < options.deadline) {
    const overdue = (): boolean => cancelled() || clock() >= options.deadline
    await forEachLimited(waiting, POLL_CONCURRENCY, overdue, async (id) => {
      try {
        const state = await ecs.getServerStatus(id, options.deadline)
        lastSeen.set(id, state ?? { status: 'DELETED', taskState: null })
      } catch (error) {
        // A refusal (say, no permission to read servers) would only repeat: stop asking.
        if (isRefusal(error)) refusal = `its status could not be read (${errorMessage(error)})`
        else if (!cancelled()) log.warning(`${errorMessage(error)}; trying again`)
      }
    })
    const still: string[] = []
    for (const id of waiting) {
      const verdict = settled(lastSeen.get(id), target)
      if (verdict === false) still.push(id)
      else if (verdict !== true) ledger.markFailed([id], null, verdict)
    }
    waiting = still
    if (waiting.length === 0) break
    log.info(`Waiting for ${plural(waiting.length, 'server')} to report ${target} with no task in progress`)
    const now = clock()
    if (now >= options.deadline) break
    await sleep(Math.min(options.pollIntervalMs, options.deadline - now), signal)
  }
  for (const id of waiting) {
    const why = refusal ?? (cancelled() ? 'the run was cancelled' : 'timeout-seconds ran out')
    ledger.markPending(
      [id],
      null,
      `Not confirmed: the job succeeded, but ${why} before the server reported ${target} (last ${describeState(lastSeen.get(id))}).`
    )
  }
}
