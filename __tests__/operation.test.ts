import { describe, expect, it } from 'vitest'
import { TARGET_STATE, actionBody, describeOperation } from '../src/operation'

describe('operations', () => {
  it('builds the body of each action, with a type except for start', () => {
    expect(actionBody({ kind: 'reboot', type: 'HARD' }, ['a'])).toEqual({
      reboot: { type: 'HARD', servers: [{ id: 'a' }] }
    })
    expect(actionBody({ kind: 'stop', type: 'SOFT' }, ['a', 'b'])).toEqual({
      'os-stop': { type: 'SOFT', servers: [{ id: 'a' }, { id: 'b' }] }
    })
    expect(actionBody({ kind: 'start', type: 'HARD' }, ['a'])).toEqual({ 'os-start': { servers: [{ id: 'a' }] } })
  })

  it('names each operation and the state it leaves servers in', () => {
    expect(describeOperation({ kind: 'reboot', type: 'SOFT' })).toBe('SOFT restart')
    expect(describeOperation({ kind: 'stop', type: 'HARD' })).toBe('HARD stop')
    expect(describeOperation({ kind: 'start', type: 'SOFT' })).toBe('start')
    expect(TARGET_STATE).toEqual({ reboot: 'ACTIVE', start: 'ACTIVE', stop: 'SHUTOFF' })
  })
})
