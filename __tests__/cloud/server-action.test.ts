import { describe, expect, it } from 'vitest'
import { actionBody } from '../../src/cloud/server-action'

describe('actionBody', () => {
  it('builds the body of each action, with a type except for start', () => {
    expect(actionBody({ kind: 'reboot', type: 'HARD' }, ['a'])).toEqual({
      reboot: { type: 'HARD', servers: [{ id: 'a' }] }
    })
    expect(actionBody({ kind: 'stop', type: 'SOFT' }, ['a', 'b'])).toEqual({
      'os-stop': { type: 'SOFT', servers: [{ id: 'a' }, { id: 'b' }] }
    })
    expect(actionBody({ kind: 'start', type: 'HARD' }, ['a'])).toEqual({ 'os-start': { servers: [{ id: 'a' }] } })
  })
})

describe('the largest request the action sends', () => {
  it('is a batch of 1,000 servers, about 47 KB: far below the 12 MB body the gateway accepts', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`)
    const bytes = Buffer.byteLength(JSON.stringify(actionBody({ kind: 'reboot', type: 'HARD' }, ids)))
    expect(bytes).toBeGreaterThan(45_000)
    expect(bytes).toBeLessThan(50_000)
  })
})
