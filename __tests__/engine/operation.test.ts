import { describe, expect, it } from 'vitest'
import { describeOperation } from '../../src/engine/operation'

describe('describeOperation', () => {
  it('names each operation as the logs and summary say it', () => {
    expect(describeOperation({ kind: 'reboot', type: 'SOFT' })).toBe('SOFT restart')
    expect(describeOperation({ kind: 'stop', type: 'HARD' })).toBe('HARD stop')
    expect(describeOperation({ kind: 'start', type: 'SOFT' })).toBe('start')
  })
})
