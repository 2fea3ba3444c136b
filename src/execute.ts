import { type Logger, type Sleep, isThrottling } from './api'
import type { EcsClient } from './ecs'
import { ApiError, TransportError } from './errors'
import type { Ledger } from './ledger'
import type { Operation } from './operation'
import type { Batch, Plan } from './plan'
import { waitForJobs } from './wait'

/** How a batch's request went, and later how its job ended. */
export interface BatchRun {
  batch: Batch
  jobId: string | null
  /**
   * `not submitted`, `rejected`, `outcome unknown`, `submitted` (not waited for), the job's
   * final status (`SUCCESS`, `FAIL`), `timed out` or `status unreadable`.
   */
  status: string
  /** Why the batch did not succeed as a whole, for its annotation. */
  problem: string | null
}

export interface ExecutionOptions {
  operation: Operation
  wait: boolean
  timeoutMs: number
  pollIntervalMs: number
}

export interface ExecutionDeps {
  ecs: Pick<EcsClient, 'submit' | 'getJob'>
  ledger: Ledger
  log: Logger
  clock: () => number
  sleep: Sleep
}

interface SubmitFailure {
  certain: boolean
  code: string | null
  message: string
}

/**
 * Whether a failed restart request certainly did nothing (its servers failed, never
 * restarted) or may have reached the cloud (pending: sending it again could restart twice).
 */
export function classifySubmitFailure(error: ApiError | TransportError): SubmitFailure {
  if (error instanceof TransportError) {
    return error.sent
      ? {
          certain: false,
          code: null,
          message: `Outcome unknown: ${error.message} after the request was sent. The servers may be restarting; the request was not sent again, since that could restart them twice.`
        }
      : { certain: true, code: null, message: `Not submitted: ${error.message}.` }
  }
  if (isThrottling(error)) {
    return {
      certain: true,
      code: error.code ?? null,
      message: `Not submitted: still throttled after every retry. ${error.message}`
    }
  }
  if (error.status >= 400 && error.status < 500) {
    return { certain: true, code: error.code ?? null, message: error.message }
  }
  return {
    certain: false,
    code: error.code ?? null,
    message: `Outcome unknown: ${error.message}. The cloud may have accepted the batch; it was not sent again, since that could restart the servers twice.`
  }
}

/** Runs the plan wave by wave: submit each batch of a wave, then wait for the wave's jobs. */
export async function execute(plan: Plan, options: ExecutionOptions, deps: ExecutionDeps): Promise<BatchRun[]> {
  const { ecs, ledger, log } = deps
  const runs: BatchRun[] = []
  let stopReason: string | null = null

  for (const wave of plan.waves) {
    const waveRuns: BatchRun[] = []
    for (const batch of wave) {
      const run: BatchRun = { batch, jobId: null, status: 'not submitted', problem: stopReason }
      runs.push(run)
      if (stopReason !== null) continue
      waveRuns.push(run)
      const what = `Restart batch ${batch.number} of ${plan.batchCount}`
      try {
        const answer = await ecs.submit(options.operation, batch.serverIds, what)
        if (answer.accepted) {
          run.jobId = answer.jobId
          run.status = 'submitted'
          ledger.markSubmitted(batch.serverIds, answer.jobId)
          log.info(`${what}: ${batch.serverIds.length} servers accepted, job ${answer.jobId}`)
        } else {
          run.status = 'outcome unknown'
          run.problem = `${what}: ${answer.problem} (X-Request-Id: ${answer.requestId ?? 'none'}).`
          ledger.markPending(
            batch.serverIds,
            null,
            `Outcome unknown: ${run.problem} The batch was not sent again, since that could restart the servers twice.`
          )
          log.warning(run.problem)
        }
      } catch (error) {
        if (!(error instanceof ApiError || error instanceof TransportError)) throw error
        const failure = classifySubmitFailure(error)
        run.status = failure.certain
          ? error instanceof ApiError && !isThrottling(error)
            ? 'rejected'
            : 'not submitted'
          : 'outcome unknown'
        run.problem = error.message
        if (failure.certain) ledger.markFailed(batch.serverIds, failure.code, failure.message)
        else ledger.markPending(batch.serverIds, failure.code, failure.message)
        log.warning(`${what}: ${failure.message}`)
        if (error instanceof ApiError && error.isAuthFailure) {
          // The same credentials would fail again, and repeated failures lock the access key.
          stopReason = `Not submitted: batch ${batch.number} was refused (${error.message}), so no further batches were sent.`
        }
      }
    }
    if (options.wait) await waitForJobs(waveRuns, options, deps)
  }

  if (stopReason !== null) ledger.explainQueued(stopReason)
  return runs
}
