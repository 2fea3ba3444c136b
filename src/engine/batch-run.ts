import type { EcsClient } from '../cloud/ecs'
import type { Operation } from '../cloud/server-action'
import type { Clock, Logger, Sleep } from '../shared/ports'
import type { Ledger } from './ledger'
import type { Batch } from './plan'

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
  /** When the request was sent (ms since the epoch, from the injected clock); null when it never was. */
  submittedAt: number | null
  /** When its answer (a refusal) or its job's end came; null while open, timed out or not waited for. */
  finishedAt: number | null
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

/**
 * Work around each wave, e.g. draining its servers from their load balancers before the restart
 * and waiting until they are healthy after it (engine/health-gate).
 */
export interface WaveGuard {
  /** Before the wave's first request; a reason means the wave is not restarted and the run stops. */
  before(wave: number, serverIds: readonly string[]): Promise<string | null>
  /** After the wave's jobs (and states); returns the servers that failed it, with why. */
  after(wave: number, serverIds: readonly string[]): Promise<Map<string, string>>
}

export interface ExecutionDeps {
  ecs: Pick<EcsClient, 'submit' | 'getJob' | 'getServerStatus'>
  ledger: Ledger
  log: Logger
  clock: Clock
  sleep: Sleep
  /** In [0, 1): spreads the waits before a refused restart request is sent again. */
  random: () => number
  /** Aborted when the workflow is cancelled. */
  signal: AbortSignal
  waveGuard?: WaveGuard
}

/** A batch's run before any request: `status` says why (not submitted yet, skipped, planned). */
export function batchRun(batch: Batch, wave: number, status: string): BatchRun {
  return {
    label: String(batch.number),
    wave,
    serverIds: batch.serverIds,
    jobId: null,
    status,
    problem: null,
    submittedAt: null,
    finishedAt: null
  }
}
