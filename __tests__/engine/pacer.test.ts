import { describe, expect, it } from 'vitest'
import { Pacer, RATE_WINDOW_MS } from '../../src/engine/pacer'

function pacerAt(limit: number) {
  let now = 1_000_000
  const pacer = new Pacer(limit, () => now)
  return { pacer, at: (ms: number) => (now = 1_000_000 + ms) }
}

describe('Pacer', () => {
  it('lets the first request go at once', () => {
    expect(pacerAt(1000).pacer.availableAt()).toBe(1_000_000)
  })

  it('spaces requests evenly: each waits for the share of the minute the one before took', () => {
    const { pacer, at } = pacerAt(1000)
    const sentAt: number[] = []
    for (let batch = 0; batch < 4; batch++) {
      const when = pacer.availableAt()
      at(when - 1_000_000)
      sentAt.push(when - 1_000_000)
      pacer.record(batch === 1 ? 500 : 1000)
    }
    // A full batch takes a minute (and 2% to spare), a half batch half of that.
    expect(sentAt).toEqual([0, 61_200, 91_800, 153_000])
  })

  it('keeps any minute within the limit, whatever the batch sizes', () => {
    const { pacer, at } = pacerAt(600)
    const sent: { at: number; servers: number }[] = []
    for (let i = 0; i < 40; i++) {
      const servers = [1, 50, 200, 7][i % 4]
      at(pacer.availableAt() - 1_000_000)
      sent.push({ at: pacer.availableAt(), servers })
      pacer.record(servers)
    }
    for (const { at: start } of sent) {
      const inMinute = sent
        .filter((s) => s.at > start - RATE_WINDOW_MS && s.at <= start)
        .reduce((n, s) => n + s.servers, 0)
      expect(inMinute).toBeLessThanOrEqual(600 + 200)
    }
  })

  it('slows down each time the cloud throttles although paced', () => {
    const { pacer } = pacerAt(1000)
    expect(pacer.throttled()).toBe(750)
    expect(pacer.throttled()).toBe(562)
    expect(pacer.serversPerMinute).toBe(562)
    pacer.record(562)
    expect(pacer.availableAt()).toBe(1_000_000 + Math.ceil(RATE_WINDOW_MS * 1.02))
    const tiny = pacerAt(1).pacer
    expect(tiny.throttled()).toBe(1)
  })
})
