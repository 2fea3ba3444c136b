import { describe, expect, it } from 'vitest'
import { parseName, parseStatuses, parseTags } from '../../src/action/inputs/servers'

describe('selection inputs', () => {
  it('reads tags per line or comma-separated, keeping = and spaces in values; a key alone takes any value', () => {
    expect(parseTags('app=web\n env = staging , team=a=b,empty=, canary ')).toEqual([
      { key: 'app', value: 'web' },
      { key: 'env', value: 'staging' },
      { key: 'team', value: 'a=b' },
      { key: 'empty', value: '' },
      { key: 'canary', value: undefined }
    ])
    expect(parseTags('  \n ')).toEqual([])
    for (const bad of ['=web', 'a b=c', 'a b', ' = '])
      expect(() => parseTags(bad)).toThrow(/^Input 'tags': .* write key=value/)
  })

  it('reads states case-insensitively and rejects unknown ones, listing the allowed', () => {
    expect(parseStatuses('active, SHUTOFF\nactive')).toEqual(['ACTIVE', 'SHUTOFF'])
    expect(() => parseStatuses('RUNNING')).toThrow(
      /^Input 'status': "RUNNING" is not a server state; use any of ACTIVE, .*SHUTOFF/
    )
  })

  it('reads a name or glob of one line', () => {
    expect(parseName('')).toBeUndefined()
    expect(parseName('web-*')).toBe('web-*')
    expect(() => parseName('a\nb')).toThrow(/^Input 'name'/)
  })
})
