import { expect } from 'vitest'
import type { EcsClient, ServerState, SubmitAnswer } from '../../src/cloud/ecs'
import type { ExecutionOptions } from '../../src/engine/batch-run'
import { execute } from '../../src/engine/execute'
import { Ledger } from '../../src/engine/ledger'
import { planBatches } from '../../src/engine/plan'

// A cloud in memory for the engine's tests, on a virtual clock.

export const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `server-${i}`)

export interface CloudControl {
  /** Moves the virtual clock, as a slow request would. */
  advance(ms: number): void
  /** Cancels the run, as the runner's SIGINT does. */
  cancel(): void
}
export type SubmitScript = (serverIds: readonly string[], call: number, cloud: CloudControl) => SubmitAnswer | Error
export type JobScript = (jobId: string, serverIds: readonly string[], ageMs: number) => unknown

/** A cloud in memory on a virtual clock: sleeping only moves the clock, so no timers run. */
export function fakeCloud(
  options: {
    submit?: SubmitScript
    job?: JobScript
    /** A status alone means no task in progress. */
    status?: (id: string, now: number) => string | ServerState | null | Error
    random?: () => number
  } = {}
) {
  let now = 0
  const jobs = new Map<string, { serverIds: readonly string[]; submittedAt: number }>()
  const polls: { jobId: string; at: number }[] = []
  const logs: string[] = []
  let submits = 0
  const sent: string[][] = []
  const statusReads: { id: string; at: number }[] = []
  const submittedAt: number[] = []
  const controller = new AbortController()
  const control: CloudControl = {
    advance: (ms) => (now += ms),
    cancel: () => controller.abort('SIGINT')
  }
  const finishAfter1s: JobScript = (_, serverIds, age) =>
    age >= 1000
      ? {
          status: 'SUCCESS',
          entities: { sub_jobs: serverIds.map((id) => ({ status: 'SUCCESS', entities: { server_id: id } })) }
        }
      : { status: 'RUNNING' }
  const ecs: Pick<EcsClient, 'submit' | 'getJob' | 'getServerStatus'> = {
    submit(_operation, serverIds) {
      const call = ++submits
      sent.push([...serverIds])
      submittedAt.push(now)
      const answer = options.submit?.(serverIds, call, control) ?? {
        accepted: true as const,
        jobId: `job-${call}`,
        requestId: 'r'
      }
      if (answer instanceof Error) return Promise.reject(answer)
      if (answer.accepted) jobs.set(answer.jobId, { serverIds, submittedAt: now })
      return Promise.resolve(answer)
    },
    getServerStatus(id) {
      statusReads.push({ id, at: now })
      const status = (options.status ?? (() => 'ACTIVE'))(id, now)
      if (status instanceof Error) return Promise.reject(status)
      return Promise.resolve(typeof status === 'string' ? { status, taskState: null } : status)
    },
    getJob(jobId) {
      polls.push({ jobId, at: now })
      const job = jobs.get(jobId)
      if (job === undefined) return Promise.reject(new Error(`unknown job ${jobId}`))
      const document = (options.job ?? finishAfter1s)(jobId, job.serverIds, now - job.submittedAt)
      return document instanceof Error ? Promise.reject(document) : Promise.resolve(document)
    }
  }
  const deps = (ledger: Ledger) => ({
    ecs,
    ledger,
    log: { info: (m: string) => logs.push(m), warning: (m: string) => logs.push(`WARN ${m}`), debug: () => {} },
    clock: () => now,
    sleep: (ms: number) => {
      now += ms
      return Promise.resolve()
    },
    random: options.random ?? (() => 0.5),
    signal: controller.signal
  })
  return { deps, polls, logs, sent, submittedAt, statusReads, now: () => now, submits: () => submits, ...control }
}

export const options: ExecutionOptions = {
  operation: { kind: 'reboot', type: 'SOFT' },
  wait: true,
  deadline: 10_000,
  pollIntervalMs: 250,
  maxServersPerMinute: Number.POSITIVE_INFINITY,
  waitForTargetState: false,
  pauseMs: 0,
  maxFailures: 0
}

export async function runScenario(
  serverIds: string[],
  batchSize: number,
  cloud: ReturnType<typeof fakeCloud>,
  opts = options
) {
  const ledger = new Ledger(serverIds)
  const runs = await execute(planBatches(serverIds, batchSize), opts, cloud.deps(ledger))
  const results = [...ledger.results().values()]
  // Nothing is lost: every server is reported exactly once, in input order.
  expect(results.map((r) => r.id)).toEqual(serverIds)
  return { runs, results, byOutcome: (o: string) => results.filter((r) => r.outcome === o).map((r) => r.id) }
}
