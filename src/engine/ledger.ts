export type Outcome = 'succeeded' | 'failed' | 'pending' | 'skipped'

/** One server's line in the report; the shape of each element of the `results` output. */
export interface ServerResult {
  id: string
  outcome: Outcome
  job_id: string | null
  error_code: string | null
  error_message: string | null
}

/** Every server's result by server ID, in input order. */
export type Results = ReadonlyMap<string, ServerResult>

type State = Outcome | 'queued' | 'submitted'

/** A server's line while the run goes on, in the `results` output's field order. */
interface Entry extends Omit<ServerResult, 'outcome'> {
  outcome: State
}

/**
 * Every requested server's outcome, in one place. It starts with all of them and never
 * adds or drops one, so the reported lists always cover the input exactly once.
 */
export class Ledger {
  private readonly entries = new Map<string, Entry>()
  private closed = false

  constructor(serverIds: readonly string[]) {
    for (const id of serverIds) {
      this.entries.set(id, { id, outcome: 'queued', job_id: null, error_code: null, error_message: null })
    }
  }

  /** Accepted by the cloud under this job; the outcome is not known yet. */
  markSubmitted(ids: readonly string[], jobId: string): void {
    for (const id of ids) this.set(id, { outcome: 'submitted', job_id: jobId })
  }

  markSucceeded(id: string): void {
    this.set(id, { outcome: 'succeeded', error_code: null, error_message: null })
  }

  markFailed(ids: readonly string[], code: string | null, message: string | null): void {
    for (const id of ids) this.set(id, { outcome: 'failed', error_code: code, error_message: message })
  }

  /** Deliberately left alone: filtered out, not found, in the wrong state, or a dry run. */
  markSkipped(ids: readonly string[], reason: string): void {
    for (const id of ids) this.set(id, { outcome: 'skipped', error_code: null, error_message: reason })
  }

  /** The outcome is unknown for good, e.g. a restart request that may or may not have arrived. */
  markPending(ids: readonly string[], code: string | null, message: string): void {
    for (const id of ids) this.set(id, { outcome: 'pending', error_code: code, error_message: message })
  }

  isSucceeded(id: string): boolean {
    return this.entries.get(id)?.outcome === 'succeeded'
  }

  /** Servers accepted by the cloud whose outcome is still open. */
  isAwaiting(id: string): boolean {
    return this.entries.get(id)?.outcome === 'submitted'
  }

  /** How these servers stand right now, e.g. for a progress line. */
  tally(ids: readonly string[]): Record<State, number> {
    const counts = { queued: 0, submitted: 0, pending: 0, succeeded: 0, failed: 0, skipped: 0 }
    for (const id of ids) {
      const state = this.entries.get(id)?.outcome
      if (state !== undefined) counts[state]++
    }
    return counts
  }

  /** Servers never sent to the cloud. */
  queuedIds(): string[] {
    const ids: string[] = []
    for (const entry of this.entries.values()) if (entry.outcome === 'queued') ids.push(entry.id)
    return ids
  }

  /**
   * The final report, by server ID in input order: servers never sent are failed (they were
   * certainly not restarted), servers sent but not confirmed are pending. These are the
   * ledger's own lines, settled in place rather than copied (at 50,000 servers copies cost
   * megabytes), so the ledger takes no changes after this.
   */
  results(): Results {
    this.closed = true
    for (const entry of this.entries.values()) {
      if (entry.outcome === 'queued') {
        entry.outcome = 'failed'
        entry.error_message ??= 'Not submitted.'
      } else if (entry.outcome === 'submitted') {
        entry.outcome = 'pending'
      }
    }
    return this.entries as Results
  }

  /** Gives servers still queued the reason they were never sent. */
  explainQueued(message: string): void {
    for (const id of this.queuedIds()) this.set(id, { error_message: message })
  }

  /** Gives servers still awaiting their job the reason their outcome stays open. */
  explainAwaiting(jobId: string, message: string): void {
    for (const entry of this.entries.values()) {
      if (entry.outcome === 'submitted' && entry.job_id === jobId) this.set(entry.id, { error_message: message })
    }
  }

  private set(id: string, change: Partial<Entry>): void {
    if (this.closed) throw new Error('the ledger is closed: its results have been reported')
    const entry = this.entries.get(id)
    if (entry === undefined) throw new Error(`server ${id} is not in the ledger`)
    Object.assign(entry, change)
  }
}
