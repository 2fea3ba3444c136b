import { describe, expect, it } from 'vitest'
import { Ledger } from '../../src/engine/ledger'

describe('Ledger', () => {
  it('starts with every server queued, reported as failed because never sent', () => {
    const ledger = new Ledger(['a', 'b'])
    expect([...ledger.results().values()]).toEqual([
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
    const results = ledger.results()
    expect([...results.values()]).toEqual([
      { id: 'a', outcome: 'succeeded', job_id: 'job1', error_code: null, error_message: null },
      { id: 'b', outcome: 'failed', job_id: 'job1', error_code: 'Ecs.0100', error_message: 'wrong state' },
      { id: 'c', outcome: 'pending', job_id: 'job1', error_code: null, error_message: 'still running' },
      { id: 'd', outcome: 'failed', job_id: null, error_code: null, error_message: 'stopped early' }
    ])
    expect([...results.keys()]).toEqual(['a', 'b', 'c', 'd'])
    expect(results.get('c')?.outcome).toBe('pending')
  })

  it('takes no changes once its results are out, and gives the same results again', () => {
    const ledger = new Ledger(['a', 'b'])
    ledger.markSubmitted(['a'], 'job1')
    const first = [...ledger.results().values()].map((r) => ({ ...r }))
    expect(() => ledger.markSucceeded('a')).toThrow('the ledger is closed: its results have been reported')
    expect([...ledger.results().values()]).toEqual(first)
    expect(first.map((r) => r.outcome)).toEqual(['pending', 'failed'])
  })

  it('marks pending for good with a reason, and refuses servers it does not know', () => {
    const ledger = new Ledger(['a'])
    ledger.markPending(['a'], 'APIG.0201', 'outcome unknown')
    expect(ledger.isAwaiting('a')).toBe(false)
    expect(() => ledger.markSucceeded('zzz')).toThrow(/not in the ledger/)
    expect(ledger.results().get('a')).toMatchObject({
      outcome: 'pending',
      error_code: 'APIG.0201',
      error_message: 'outcome unknown'
    })
  })
})
