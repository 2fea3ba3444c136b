import { type Logger, type Sleep, isThrottling } from './api'
import type { EcsClient } from './ecs'
import { ApiError, TransportError } from './errors'
import type { Ledger } from './ledger'
import { type Operation, TARGET_STATE, describeOperation } from './operation'
import { Pacer } from './pacer'
import type { Batch, Plan } from './plan'
import { JobPoller, waitForServerStates } from './wait'

/** One restart request (a batch, or a part of one split off to isolate refused servers) and how it went. */
export interface BatchRun {
  /** `2` for batch 2; `2.1` and `2.2` for its halves when it was split. */
  label: string
  /** 1-based; all batches of a wave run together, and a wave finishes before the next starts. */
  wave: number
  serverIds: string[]
  jobId: string | null
  /**
   * `not submitted`, `rejected`, `split`, `outcome unknown`, `submitted` (not waited for), the
   * job's final status (`SUCCESS`, `FAIL`), `timed out`, `cancelled` or `status unreadable`.
   */
  status: string
  /** Why the request did not succeed as a whole, for its annotation. */
  problem: string | null
}

export interface ExecutionOptions {
  operation: Operation
  wait: boolean
  /** When the run's time is up (ms since the epoch): nothing is sent or waited for after it. */
  deadline: number
  pollIntervalMs: number
  /** Restart requests are spaced evenly at this many servers per minute. */
  maxServersPerMinute: number
  /** After each job, wait until its servers report the operation's target state. */
  waitForTargetState: boolean
  /** Between waves. */
  pauseMs: number
  /** More servers failed or unconfirmed than this after a wave, and the remaining waves are skipped. */
  maxFailures: number
}

export interface ExecutionDeps {
  ecs: Pick<EcsClient, 'submit' | 'getJob' | 'getServerStatus'>
  ledger: Ledger
  log: Logger
  clock: () => number
  sleep: Sleep
  /** Aborted when the workflow is cancelled. */
  signal: AbortSignal
}

/**
 * Codes with which the cloud refuses a whole batch because of some of its servers. Splitting
 * the batch finds those servers, so the others are still restarted.
 */
const SERVER_LEVEL_CODES = new Set(['Ecs.0114', 'Ecs.0614', 'Ecs.0100', 'Ecs.0605'])

/** Extra restart requests a run may spend on isolating refused servers, so a bad list cannot flood the API. */
export const SPLIT_REQUEST_BUDGET = 64

interface SubmitFailure {
  certain: boolean
  code: string | null
  message: string
}

/**
 * Whether a failed restart request certainly did nothing (its servers failed, never
 * restarted) or may have reached the cloud (pending: sending it again could restart twice).
 */
/** `verb` names the operation in messages: restart, start or stop. */
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
  if (isThrottling(error)) {
    return {
      certain: true,
      code: error.code ?? null,
      message: `Not submitted: the cloud was still throttling when the retries ran out. ${error.message}`
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

/** A batch's run before any request: `status` says why (not submitted yet, skipped, planned). */
export function batchRun(batch: Batch, wave: number, status: string): BatchRun {
  return { label: String(batch.number), wave, serverIds: batch.serverIds, jobId: null, status, problem: null }
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
  const { ecs, ledger, log, clock, sleep, signal } = deps
  const { deadline } = options
  const pacer = new Pacer(options.maxServersPerMinute, clock)
  const poller = options.wait ? new JobPoller(deps, options) : undefined
  const runs: BatchRun[] = []
  const verb = capitalize(describeOperation(options.operation).split(' ').pop() as string)
  let stopReason: string | null = null
  let splitBudget = SPLIT_REQUEST_BUDGET

  function whyStop(): string | null {
    if (stopReason !== null) return stopReason
    if (signal.aborted) return 'Not submitted: the run was cancelled first.'
    if (clock() >= deadline) {
      return 'Not submitted: timeout-seconds had passed before it could be sent.'
    }
    return null
  }

  /** Waits for the pacer's next slot, following submitted jobs meanwhile when waiting for them. */
  async function idleUntil(time: number): Promise<void> {
    if (poller !== undefined) await poller.idleUntil(time)
    else if (time > clock()) await sleep(Math.min(time, deadline) - clock(), signal)
  }

  function onThrottled(): void {
    const before = pacer.serversPerMinute
    const limit = pacer.throttled()
    if (limit < before) {
      log.warning(
        `Throttled although paced: lowering the pace to ${limit} servers per minute for the rest of this run.`
      )
    }
  }

  /** Sends one restart request once the pace allows it, unless the run must stop first. */
  async function pacedSubmit(run: BatchRun, what: string): Promise<void> {
    await idleUntil(pacer.availableAt())
    const reason = whyStop()
    if (reason !== null) {
      run.problem = reason
      ledger.markFailed(run.serverIds, null, reason)
      return
    }
    await submit(run, what)
  }

  async function submit(run: BatchRun, what: string): Promise<void> {
    try {
      const answer = await ecs.submit(options.operation, run.serverIds, what, { giveUpAt: deadline, onThrottled })
      if (answer.accepted) {
        pacer.record(run.serverIds.length)
        run.jobId = answer.jobId
        run.status = 'submitted'
        poller?.track(run)
        ledger.markSubmitted(run.serverIds, answer.jobId)
        log.info(`${what}: ${run.serverIds.length} servers accepted, job ${answer.jobId}`)
      } else {
        // The cloud may have counted these servers against its limit all the same.
        pacer.record(run.serverIds.length)
        run.status = 'outcome unknown'
        run.problem = `${what}: ${answer.problem} (X-Request-Id: ${answer.requestId ?? 'none'}).`
        ledger.markPending(
          run.serverIds,
          null,
          `Outcome unknown: ${run.problem} The batch was not sent again, since that could ${verb.toLowerCase()} the servers twice.`
        )
        log.warning(run.problem)
      }
    } catch (error) {
      if (!(error instanceof ApiError || error instanceof TransportError)) throw error
      const refusedForSome = isServerLevelRejection(error) && run.serverIds.length > 1
      if (refusedForSome && splitBudget >= 2) {
        await split(run, error)
        return
      }
      const failure = classifySubmitFailure(error, verb.toLowerCase())
      if (refusedForSome) {
        failure.message += ` The request was refused as a whole, and the split budget (${SPLIT_REQUEST_BUDGET} extra requests) was spent before the servers it refused could be told apart from the others.`
      }
      const rejected = error instanceof ApiError && !isThrottling(error)
      run.status = failure.certain ? (rejected ? 'rejected' : 'not submitted') : 'outcome unknown'
      run.problem = error.message
      if (failure.certain) ledger.markFailed(run.serverIds, failure.code, failure.message)
      else {
        pacer.record(run.serverIds.length)
        ledger.markPending(run.serverIds, failure.code, failure.message)
      }
      log.warning(`${what}: ${failure.message}`)
      if (error instanceof ApiError && error.isAuthFailure) {
        // The same credentials would fail again, and repeated failures lock the access key.
        stopReason = `Not submitted: request ${run.label} was refused (${error.message}), so no further requests were sent.`
      }
    }
  }

  /** Halves a batch the cloud refused for some of its servers, and submits each half. */
  async function split(run: BatchRun, error: ApiError): Promise<void> {
    splitBudget -= 2
    run.status = 'split'
    run.problem = `${error.message}; split in two to find the servers the cloud refused`
    log.info(`Request ${run.label} was refused (${error.code}); splitting it to isolate the servers the cloud refused`)
    const middle = Math.ceil(run.serverIds.length / 2)
    for (const [index, serverIds] of [run.serverIds.slice(0, middle), run.serverIds.slice(middle)].entries()) {
      const part: BatchRun = {
        label: `${run.label}.${index + 1}`,
        wave: run.wave,
        serverIds,
        jobId: null,
        status: 'not submitted',
        problem: null
      }
      runs.push(part)
      await pacedSubmit(part, `${verb} request ${part.label} (part of batch ${run.label.split('.')[0]})`)
    }
  }

  let abortReason: string | null = null
  for (const [index, wave] of plan.waves.entries()) {
    const waveNumber = index + 1
    const newRun = (batch: Batch, status: string): BatchRun => batchRun(batch, waveNumber, status)
    if (abortReason !== null) {
      for (const batch of wave) {
        runs.push(newRun(batch, 'skipped'))
        ledger.markSkipped(batch.serverIds, abortReason)
      }
      continue
    }
    if (index > 0 && options.pauseMs > 0) {
      log.info(`Pausing ${options.pauseMs / 1000} s before wave ${waveNumber} of ${plan.waves.length}`)
      await idleUntil(clock() + options.pauseMs)
    }
    for (const batch of wave) {
      const run = newRun(batch, 'not submitted')
      runs.push(run)
      await pacedSubmit(run, `${verb} batch ${batch.number} of ${plan.batchCount}`)
    }
    if (poller === undefined) continue
    await poller.finish()
    // From the plan, not the runs: a split batch has a run per part as well as its own.
    const waveServers = wave.flatMap((batch) => batch.serverIds)
    if (options.waitForTargetState) {
      const succeeded = waveServers.filter((id) => ledger.isSucceeded(id))
      await waitForServerStates(succeeded, TARGET_STATE[options.operation.kind], options, deps)
    }
    // A run out of time or cancelled fails its unsent waves as not submitted, whatever the budget.
    if (whyStop() !== null) continue
    const tally = ledger.tally(
      plan.waves
        .slice(0, index + 1)
        .flat()
        .flatMap((batch) => batch.serverIds)
    )
    const failures = tally.failed + tally.pending + tally.submitted
    if (waveNumber < plan.waves.length && failures > options.maxFailures) {
      abortReason = `Skipped: ${failures} servers failed or were not confirmed by the end of wave ${waveNumber}, more than max-failures (${options.maxFailures}), so the remaining waves were not started.`
      log.warning(abortReason)
    }
  }
  return runs
}
