import { describe, expect, it } from 'vitest'
import { Pacer, RATE_WINDOW_MS } from '../src/pacer'

function pacerAt(limit: number) {
  let now = 1_000_000
  const pacer = new Pacer(limit, () => now)
  return { pacer, at: (ms: number) => (now = 1_000_000 + ms) }
}

describe('Pacer', () => {
  it('lets a request go at once while the last minute has room', () => {
    const { pacer } = pacerAt(1000)
    expect(pacer.availableAt(1000)).toBe(1_000_000)
    pacer.record(600)
    expect(pacer.availableAt(400)).toBe(1_000_000)
  })

  it('holds a request until enough of the last minute has expired', () => {
    const { pacer, at } = pacerAt(1000)
    pacer.record(600)
    at(10_000)
    pacer.record(300)
    at(20_000)
    // 900 in the window: 100 more fit now, 500 only once the 600 from t=0 expire, 1000 once all do.
    expect(pacer.availableAt(100)).toBe(1_020_000)
    expect(pacer.availableAt(500)).toBe(1_000_000 + RATE_WINDOW_MS)
    expect(pacer.availableAt(1000)).toBe(1_010_000 + RATE_WINDOW_MS)
    at(RATE_WINDOW_MS + 10_000)
    expect(pacer.availableAt(1000)).toBe(1_000_000 + RATE_WINDOW_MS + 10_000)
  })

  it('paces a fleet to one full batch per minute at the documented limit', () => {
    const { pacer, at } = pacerAt(1000)
    const sentAt: number[] = []
    for (let batch = 0; batch < 4; batch++) {
      const when = pacer.availableAt(1000)
      at(when - 1_000_000)
      sentAt.push(when - 1_000_000)
      pacer.record(1000)
    }
    expect(sentAt).toEqual([0, 60_000, 120_000, 180_000])
  })

  it('learns a lower limit from throttling, but not from throttling with nothing sent', () => {
    const { pacer, at } = pacerAt(1000)
    expect(pacer.throttled()).toBe(1000)
    pacer.record(300)
    at(5000)
    pacer.record(200)
    expect(pacer.throttled()).toBe(500)
    expect(pacer.serversPerMinute).toBe(500)
    expect(pacer.availableAt(100)).toBe(1_000_000 + RATE_WINDOW_MS)
  })
})
