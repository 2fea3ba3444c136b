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
