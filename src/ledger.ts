export type Outcome = 'succeeded' | 'failed' | 'pending' | 'skipped'

/** One server's line in the report; the shape of each element of the `results` output. */
export interface ServerResult {
  id: string
  outcome: Outcome
  job_id: string | null
  error_code: string | null
  error_message: string | null
}

type State = 'queued' | 'submitted' | 'pending' | 'succeeded' | 'failed' | 'skipped'

interface Entry {
  state: State
  jobId: string | null
  errorCode: string | null
  errorMessage: string | null
}

/**
 * Every requested server's outcome, in one place. It starts with all of them and never
 * adds or drops one, so the reported lists always cover the input exactly once.
 */
export class Ledger {
  private readonly entries = new Map<string, Entry>()

  constructor(serverIds: readonly string[]) {
    for (const id of serverIds) {
      this.entries.set(id, { state: 'queued', jobId: null, errorCode: null, errorMessage: null })
    }
  }

  /** Accepted by the cloud under this job; the outcome is not known yet. */
  markSubmitted(ids: readonly string[], jobId: string): void {
    for (const id of ids) this.set(id, { state: 'submitted', jobId })
  }

  markSucceeded(id: string): void {
    this.set(id, { state: 'succeeded', errorCode: null, errorMessage: null })
  }

  markFailed(ids: readonly string[], code: string | null, message: string | null): void {
    for (const id of ids) this.set(id, { state: 'failed', errorCode: code, errorMessage: message })
  }

  /** Deliberately left alone: filtered out, not found, in the wrong state, or a dry run. */
  markSkipped(ids: readonly string[], reason: string): void {
    for (const id of ids) this.set(id, { state: 'skipped', errorCode: null, errorMessage: reason })
  }

  /** The outcome is unknown for good, e.g. a restart request that may or may not have arrived. */
  markPending(ids: readonly string[], code: string | null, message: string): void {
    for (const id of ids) this.set(id, { state: 'pending', errorCode: code, errorMessage: message })
  }

  isSucceeded(id: string): boolean {
    return this.entries.get(id)?.state === 'succeeded'
  }

  /** Servers accepted by the cloud whose outcome is still open. */
  isAwaiting(id: string): boolean {
    return this.entries.get(id)?.state === 'submitted'
  }

  /** How these servers stand right now, e.g. for a progress line. */
  tally(ids: readonly string[]): Record<State, number> {
    const counts = { queued: 0, submitted: 0, pending: 0, succeeded: 0, failed: 0, skipped: 0 }
    for (const id of ids) {
      const state = this.entries.get(id)?.state
      if (state !== undefined) counts[state]++
    }
    return counts
  }

  /** Servers never sent to the cloud. */
  queuedIds(): string[] {
    return [...this.entries].filter(([, entry]) => entry.state === 'queued').map(([id]) => id)
  }

  /**
   * The final report: servers never sent are failed (they were certainly not restarted),
   * servers sent but not confirmed are pending.
   */
  results(): ServerResult[] {
    return [...this.entries].map(([id, entry]) => ({
      id,
      outcome: entry.state === 'queued' ? 'failed' : entry.state === 'submitted' ? 'pending' : entry.state,
      job_id: entry.jobId,
      error_code: entry.errorCode,
      error_message: entry.state === 'queued' ? (entry.errorMessage ?? 'Not submitted.') : entry.errorMessage
    }))
  }

  /** Gives servers still queued the reason they were never sent. */
  explainQueued(message: string): void {
    for (const id of this.queuedIds()) this.set(id, { errorMessage: message })
  }

  /** Gives servers still awaiting their job the reason their outcome stays open. */
  explainAwaiting(jobId: string, message: string): void {
    for (const [id, entry] of this.entries) {
      if (entry.state === 'submitted' && entry.jobId === jobId) this.set(id, { errorMessage: message })
    }
  }

  private set(id: string, change: Partial<Entry>): void {
    const entry = this.entries.get(id)
    if (entry === undefined) throw new Error(`server ${id} is not in the ledger`)
    Object.assign(entry, change)
  }
}
