import { describe, expect, it } from 'vitest'
import { planBatches } from '../../src/engine/plan'

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `id-${i}`)

describe('planBatches', () => {
  it('splits in order into batches of at most the batch size, numbered from 1, in one wave', () => {
    const plan = planBatches(ids(5), 2)
    expect(plan.batchCount).toBe(3)
    expect(plan.waves).toHaveLength(1)
    expect(plan.waves[0]).toEqual([
      { number: 1, serverIds: ['id-0', 'id-1'] },
      { number: 2, serverIds: ['id-2', 'id-3'] },
      { number: 3, serverIds: ['id-4'] }
    ])
  })

  it('covers every server exactly once for many sizes', () => {
    for (const [count, size] of [
      [1, 1000],
      [1000, 1000],
      [1001, 1000],
      [2500, 7],
      [3, 1]
    ]) {
      const plan = planBatches(ids(count), size)
      const flat = plan.waves.flat().flatMap((batch) => batch.serverIds)
      expect(flat).toEqual(ids(count))
      expect(plan.batchCount).toBe(Math.ceil(count / size))
      expect(Math.max(...plan.waves.flat().map((batch) => batch.serverIds.length))).toBeLessThanOrEqual(size)
    }
  })

  it('has no waves for no servers and refuses a nonsensical batch size', () => {
    expect(planBatches([], 10)).toEqual({ waves: [], batchCount: 0 })
    expect(() => planBatches(ids(2), 0)).toThrow(RangeError)
    expect(() => planBatches(ids(2), 1.5)).toThrow(RangeError)
  })
})
