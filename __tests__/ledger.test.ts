import { describe, expect, it } from 'vitest'
import { Ledger } from '../src/ledger'

describe('Ledger', () => {
  it('starts with every server queued, reported as failed because never sent', () => {
    const ledger = new Ledger(['a', 'b'])
    expect(ledger.results()).toEqual([
      { id: 'a', outcome: 'failed', job_id: null, error_code: null, error_message: 'Not submitted.' },
      { id: 'b', outcome: 'failed', job_id: null, error_code: null, error_message: 'Not submitted.' }
    ])
  })

  it('reports accepted servers pending until their outcome is known, and keeps input order', () => {
    const ledger = new Ledger(['a', 'b', 'c', 'd'])
    ledger.markSubmitted(['c', 'a', 'b'], 'job1')
    ledger.markSucceeded('a')
    ledger.markFailed(['b'], 'Ecs.0100', 'wrong state')
    ledger.explainAwaiting('job1', 'still running')
    ledger.explainQueued('stopped early')
    expect(ledger.results()).toEqual([
      { id: 'a', outcome: 'succeeded', job_id: 'job1', error_code: null, error_message: null },
      { id: 'b', outcome: 'failed', job_id: 'job1', error_code: 'Ecs.0100', error_message: 'wrong state' },
      { id: 'c', outcome: 'pending', job_id: 'job1', error_code: null, error_message: 'still running' },
      { id: 'd', outcome: 'failed', job_id: null, error_code: null, error_message: 'stopped early' }
    ])
    expect(ledger.isAwaiting('c')).toBe(true)
    expect(ledger.isAwaiting('a')).toBe(false)
    expect(ledger.queuedIds()).toEqual(['d'])
    expect(ledger.tally(['a', 'b', 'c', 'd', 'x'])).toEqual({
      queued: 1,
      submitted: 1,
      pending: 0,
      succeeded: 1,
      failed: 1,
      skipped: 0
    })
  })

  it('marks pending for good with a reason, and refuses servers it does not know', () => {
    const ledger = new Ledger(['a'])
    ledger.markPending(['a'], 'APIG.0201', 'outcome unknown')
    expect(ledger.results()[0]).toMatchObject({
      outcome: 'pending',
      error_code: 'APIG.0201',
      error_message: 'outcome unknown'
    })
    expect(ledger.isAwaiting('a')).toBe(false)
    expect(() => ledger.markSucceeded('zzz')).toThrow(/not in the ledger/)
  })
})
