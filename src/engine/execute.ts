import type { SubmitAnswer } from '../cloud/ecs'
import { ApiError, TransportError } from '../cloud/errors'
import { type BatchRun, type ExecutionDeps, type ExecutionOptions, batchRun } from './batch-run'
import { TARGET_STATE, describeOperation } from './operation'
import { Pacer, spacingMs } from './pacer'
import type { Batch, Plan } from './plan'
import { type Refusal, describeRefusal, refusalOf, refusalWait, retryLine } from './refusal'
import { JobPoller, waitForServerStates } from './wait'
import { formatDuration, plural } from '../shared/text'

/**
 * Codes with which the cloud refuses a whole batch because of some of its servers. Splitting
 * the batch finds those servers, so the others are still restarted.
 */
const SERVER_LEVEL_CODES = new Set(['Ecs.0114', 'Ecs.0614', 'Ecs.0100', 'Ecs.0605'])

/** Extra restart requests a run may spend on isolating refused servers, so a bad list cannot flood the API. */
export const SPLIT_REQUEST_BUDGET = 64

/** A wait for the pace at least this long is announced in the log, so a long run is never silent. */
const ANNOUNCED_WAIT_MS = 5000

interface SubmitFailure {
  certain: boolean
  code: string | null
  message: string
}

/**
 * Whether a failed restart request certainly did nothing (its servers failed, never
 * restarted) or may have reached the cloud (pending: sending it again could restart twice).
 * `verb` names the operation in messages: restart, start or stop.
 */
export function classifySubmitFailure(error: ApiError | TransportError, verb = 'restart'): SubmitFailure {
  if (error instanceof TransportError) {
    return error.sent
      ? {
          certain: false,
          code: null,
          message: `Outcome unknown: ${error.message} after the request was sent. The operation may be under way; the request was not sent again, since that could ${verb} them twice.`
        }
      : { certain: true, code: null, message: `Not submitted: ${error.message}.` }
  }
  const refusal = refusalOf(error)
  if (refusal !== undefined) {
    const still = refusal === 'throttled' ? 'the cloud was still throttling' : 'its servers were still busy'
    return {
      certain: true,
      code: error.code ?? null,
      message: `Not submitted: ${still} when the run had to stop. ${error.message}`
    }
  }
  if (error.status >= 400 && error.status < 500) {
    return { certain: true, code: error.code ?? null, message: error.message }
  }
  return {
    certain: false,
    code: error.code ?? null,
    message: `Outcome unknown: ${error.message}. The cloud may have accepted the batch; it was not sent again, since that could ${verb} the servers twice.`
  }
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1)
}

function isServerLevelRejection(error: unknown): error is ApiError {
  return (
    error instanceof ApiError &&
    error.status >= 400 &&
    error.status < 500 &&
    error.code !== undefined &&
    SERVER_LEVEL_CODES.has(error.code)
  )
}

/**
 * Runs the plan wave by wave: submit each batch of a wave, then wait for the wave's jobs.
 * Returns one run per restart request, in submission order.
 */
export async function execute(plan: Plan, options: ExecutionOptions, deps: ExecutionDeps): Promise<BatchRun[]> {
  return new Executor(plan, options, deps).run()
}

class Executor {
  private readonly pacer: Pacer
  private readonly poller: JobPoller | undefined
  private readonly runs: BatchRun[] = []
  /** "Restart", "Start" or "Stop", for messages. */
  private readonly verb: string
  private stopReason: string | null = null
  private splitBudget = SPLIT_REQUEST_BUDGET
  /** Servers of the plan not yet sent (or given up on), for the time-left estimate. */
  private unsent: number

  constructor(
    private readonly plan: Plan,
    private readonly options: ExecutionOptions,
    private readonly deps: ExecutionDeps
  ) {
    this.pacer = new Pacer(options.maxServersPerMinute, deps.clock)
    this.poller = options.wait ? new JobPoller(deps, options) : undefined
    this.verb = capitalize(describeOperation(options.operation).split(' ').pop() as string)
    this.unsent = plan.waves.flat().reduce((sum, batch) => sum + batch.serverIds.length, 0)
  }

  async run(): Promise<BatchRun[]> {
    let abortReason: string | null = null
    for (const [index, wave] of this.plan.waves.entries()) {
      if (abortReason !== null) this.skipWave(wave, index + 1, abortReason)
      else {
        await this.runWave(wave, index + 1)
        abortReason = this.failureBudgetSpent(index + 1)
      }
    }
    return this.runs
  }

  private skipWave(wave: Batch[], waveNumber: number, reason: string): void {
    for (const batch of wave) {
      this.runs.push(batchRun(batch, waveNumber, 'skipped'))
      this.deps.ledger.markSkipped(batch.serverIds, reason)
    }
  }

  private async runWave(wave: Batch[], waveNumber: number): Promise<void> {
    const { log, clock, ledger } = this.deps
    // A run that must stop (refused credentials, a refused wave) fails its waves at once.
    if (waveNumber > 1 && this.options.pauseMs > 0 && this.whyStop() === null) {
      log.info(`Pausing ${this.options.pauseMs / 1000} s before wave ${waveNumber} of ${this.plan.waves.length}`)
      await this.idleUntil(clock() + this.options.pauseMs)
    }
    // Once the run must stop, a wave is not prepared: its requests fail as not submitted.
    const guard = this.whyStop() === null ? this.deps.waveGuard : undefined
    const serverIds = wave.flatMap((batch) => batch.serverIds)
    const refused = guard === undefined ? null : await guard.before(waveNumber, serverIds)
    if (refused !== null) {
      this.stopReason = `Not submitted: an earlier wave was not restarted (${refused})`
      for (const batch of wave) this.runs.push({ ...batchRun(batch, waveNumber, 'not submitted'), problem: refused })
      ledger.markFailed(serverIds, null, refused)
      return
    }
    for (const batch of wave) {
      const run = batchRun(batch, waveNumber, 'not submitted')
      this.runs.push(run)
      await this.pacedSubmit(run, `${this.verb} batch ${batch.number} of ${this.plan.batchCount}`)
    }
    if (this.poller === undefined) return
    await this.poller.finish()
    if (this.options.waitForTargetState) {
      // From the plan, not the runs: a split batch has a run per part as well as its own.
      const succeeded = serverIds.filter((id) => ledger.isSucceeded(id))
      await waitForServerStates(succeeded, TARGET_STATE[this.options.operation.kind], this.options, this.deps)
    }
    if (guard === undefined) return
    for (const [id, why] of await guard.after(waveNumber, serverIds)) {
      if (ledger.isSucceeded(id)) ledger.markFailed([id], 'HealthGate', why)
    }
  }

  /** Why the waves after this one are skipped, when more servers failed than `max-failures` allows. */
  private failureBudgetSpent(waveNumber: number): string | null {
    // Without waiting, nothing is known to have failed yet; a run out of time or cancelled fails
    // its unsent waves as not submitted, whatever the budget.
    if (this.poller === undefined || this.whyStop() !== null || waveNumber >= this.plan.waves.length) return null
    const done = this.plan.waves.slice(0, waveNumber).flat()
    const tally = this.deps.ledger.tally(done.flatMap((batch) => batch.serverIds))
    const failures = tally.failed + tally.pending + tally.submitted
    if (failures <= this.options.maxFailures) return null
    const counted = failures === 1 ? '1 server failed or was' : `${plural(failures, 'server')} failed or were`
    const reason = `Skipped: ${counted} not confirmed by the end of wave ${waveNumber}, more than max-failures (${this.options.maxFailures}), so the remaining waves were not started.`
    this.deps.log.warning(reason)
    return reason
  }

  private whyStop(): string | null {
    if (this.stopReason !== null) return this.stopReason
    if (this.deps.signal.aborted) return 'Not submitted: the run was cancelled first.'
    if (this.deps.clock() >= this.options.deadline) {
      return 'Not submitted: timeout-seconds had passed before it could be sent.'
    }
    return null
  }

  /** Waits for the pacer's next slot, following submitted jobs meanwhile when waiting for them. */
  private async idleUntil(time: number): Promise<void> {
    const { clock, sleep, signal } = this.deps
    if (this.poller !== undefined) await this.poller.idleUntil(time)
    else if (time > clock()) await sleep(Math.min(time, this.options.deadline) - clock(), signal)
  }

  private onThrottled(): void {
    const before = this.pacer.serversPerMinute
    const limit = this.pacer.throttled()
    if (limit < before) {
      this.deps.log.warning(
        `Throttled although paced: lowering the pace to ${limit} servers per minute for the rest of this run.`
      )
    }
  }

  /** Says in the log what goes next and when, when the pace makes it wait a while. */
  private announce(what: string, at: number, servers: number): void {
    const wait = at - this.deps.clock()
    if (wait < ANNOUNCED_WAIT_MS) return
    const limit = this.pacer.serversPerMinute
    // Until the last request can go: this wait, then the spacing of all but the last servers left.
    const left = wait + spacingMs(Math.max(0, this.unsent - servers), limit)
    this.deps.log.info(
      `Next: ${what.charAt(0).toLowerCase()}${what.slice(1)} in ${formatDuration(wait)} at ${limit.toLocaleString('en-US')} servers/min; about ${formatDuration(left)} left to send the rest`
    )
  }

  /** Sends one restart request once the pace allows it, unless the run must stop first. */
  private async pacedSubmit(run: BatchRun, what: string): Promise<void> {
    const at = this.pacer.availableAt()
    this.announce(what, at, run.serverIds.length)
    await this.idleUntil(at)
    if (!run.label.includes('.')) this.unsent -= run.serverIds.length
    const reason = this.whyStop()
    if (reason !== null) {
      run.problem = reason
      this.deps.ledger.markFailed(run.serverIds, null, reason)
      return
    }
    await this.submit(run, what)
  }

  /**
   * Sends the request; one the cloud refused for now (throttled, or its servers busy) did nothing,
   * so it goes again after a wait, until timeout-seconds. Anything else is never sent twice.
   */
  private async submit(run: BatchRun, what: string): Promise<void> {
    run.submittedAt = this.deps.clock()
    for (let attempt = 1; ; attempt++) {
      try {
        const answer = await this.deps.ecs.submit(this.options.operation, run.serverIds, what, {
          giveUpAt: this.options.deadline
        })
        this.recordAnswer(run, what, answer)
        return
      } catch (error) {
        if (!(error instanceof ApiError || error instanceof TransportError)) throw error
        const refusal = error instanceof ApiError ? refusalOf(error) : undefined
        if (refusal === undefined) {
          await this.submitFailed(run, what, error)
          return
        }
        const stop = await this.waitToResend(run, what, error as ApiError, refusal, attempt)
        if (stop !== null) {
          await this.submitFailed(run, what, error, stop)
          return
        }
      }
    }
  }

  /**
   * Waits before a refused request goes again: the refusal's wait (see {@link refusalWait}), and
   * no sooner than the pace allows. Following jobs meanwhile. Returns why it must not go again.
   */
  private async waitToResend(
    run: BatchRun,
    what: string,
    error: ApiError,
    refusal: Refusal,
    attempt: number
  ): Promise<string | null> {
    const { clock, log, random } = this.deps
    // The pace drops once per throttled request; its further refusals wait longer instead.
    if (refusal === 'throttled' && attempt === 1) this.onThrottled()
    const firstStepMs = Math.max(this.options.pollIntervalMs, this.pacer.shareMs(run.serverIds.length))
    const wait = refusalWait(refusal, error, attempt, firstStepMs, random)
    const now = clock()
    const at = Math.max(now + wait.ms, this.pacer.availableAt())
    const refused = `${what} ${describeRefusal(refusal, error)}`
    if (at > this.options.deadline) {
      const tries = attempt === 1 ? '1 attempt' : `${attempt} attempts`
      log.warning(
        `${refused}; not retrying, since waiting ${formatDuration(at - now)} would pass timeout-seconds (${tries} so far)`
      )
      const still = refusal === 'throttled' ? 'the cloud was still throttling' : 'its servers were still busy'
      return `Not submitted: ${still} after ${tries}, and waiting again would pass timeout-seconds. ${error.message}`
    }
    const paced = at > now + wait.ms
    log.info(`${refused}; ${retryLine({ ms: at - now, because: paced ? ' at the pace' : wait.because }, attempt + 1)}`)
    await this.idleUntil(at)
    return this.whyStop()
  }

  private recordAnswer(run: BatchRun, what: string, answer: SubmitAnswer): void {
    const { ledger, log } = this.deps
    // Even a 2xx without a usable job ID may have counted against the cloud's limit.
    this.pacer.record(run.serverIds.length)
    if (answer.accepted) {
      run.jobId = answer.jobId
      run.status = 'submitted'
      this.poller?.track(run)
      ledger.markSubmitted(run.serverIds, answer.jobId)
      log.info(`${what}: ${plural(run.serverIds.length, 'server')} accepted, job ${answer.jobId}`)
      return
    }
    run.finishedAt = this.deps.clock()
    run.status = 'outcome unknown'
    run.problem = `${what}: ${answer.problem} (X-Request-Id: ${answer.requestId ?? 'none'}).`
    ledger.markPending(
      run.serverIds,
      null,
      `Outcome unknown: ${run.problem} The batch was not sent again, since that could ${this.verb.toLowerCase()} the servers twice.`
    )
    // Not a warning: the report annotates each troubled batch once, with its servers.
    log.info(run.problem)
  }

  /** `stop`: why a request the cloud refused for now was not sent again. */
  private async submitFailed(
    run: BatchRun,
    what: string,
    error: ApiError | TransportError,
    stop?: string
  ): Promise<void> {
    const { ledger, log, clock } = this.deps
    run.finishedAt = clock()
    const refusedForSome = isServerLevelRejection(error) && run.serverIds.length > 1
    if (refusedForSome && this.splitBudget >= 2) {
      await this.split(run, error)
      return
    }
    const failure = classifySubmitFailure(error, this.verb.toLowerCase())
    if (stop !== undefined) failure.message = stop
    if (refusedForSome) {
      failure.message += ` The request was refused as a whole, and the split budget (${SPLIT_REQUEST_BUDGET} extra requests) was spent before the servers it refused could be told apart from the others.`
    }
    const rejected = error instanceof ApiError && refusalOf(error) === undefined
    run.status = failure.certain ? (rejected ? 'rejected' : 'not submitted') : 'outcome unknown'
    run.problem = error.message
    if (failure.certain) ledger.markFailed(run.serverIds, failure.code, failure.message)
    else {
      this.pacer.record(run.serverIds.length)
      ledger.markPending(run.serverIds, failure.code, failure.message)
    }
    // Not a warning: the report annotates each troubled batch once, with its servers.
    log.info(`${what}: ${failure.message}`)
    if (error instanceof ApiError && error.isAuthFailure) {
      // The same credentials would fail again, and repeated failures lock the access key.
      this.stopReason = `Not submitted: request ${run.label} was refused (${error.message}), so no further requests were sent.`
    }
  }

  /** Halves a batch the cloud refused for some of its servers, and submits each half. */
  private async split(run: BatchRun, error: ApiError): Promise<void> {
    this.splitBudget -= 2
    run.status = 'split'
    run.problem = `${error.message}; split in two to find the servers the cloud refused`
    this.deps.log.info(
      `Request ${run.label} was refused (${error.code}); splitting it to isolate the servers the cloud refused`
    )
    const middle = Math.ceil(run.serverIds.length / 2)
    for (const [index, serverIds] of [run.serverIds.slice(0, middle), run.serverIds.slice(middle)].entries()) {
      const part: BatchRun = {
        ...run,
        label: `${run.label}.${index + 1}`,
        serverIds,
        status: 'not submitted',
        problem: null,
        submittedAt: null,
        finishedAt: null
      }
      this.runs.push(part)
      await this.pacedSubmit(part, `${this.verb} request ${part.label} (part of batch ${run.label.split('.')[0]})`)
    }
  }
}
