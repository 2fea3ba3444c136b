import { describe, expect, it } from 'vitest'
import type { ListedServer } from '../../src/cloud/ecs'
import fc from 'fast-check'
import { parseTags } from '../../src/action/inputs/servers'
import {
  type Filters,
  formatTagFilter,
  globToRegExp,
  hasFilters,
  mismatch,
  selectServers,
  splitTag
} from '../../src/engine/selection'

const none: Filters = { tags: [], name: undefined, statuses: [] }
const server = (id: string, name: string, status = 'ACTIVE', tags: string[] = []): ListedServer => ({
  id,
  name,
  status,
  tags
})

describe('matching', () => {
  it('knows whether any filter is set', () => {
    expect(hasFilters(none)).toBe(false)
    expect(hasFilters({ ...none, name: 'x' })).toBe(true)
  })

  it('matches globs on the whole name, with every other character literal', () => {
    const web = globToRegExp('web-?.prod*')
    expect(web.test('web-1.production')).toBe(true)
    expect(web.test('web-1xprod')).toBe(false)
    expect(web.test('my-web-1.prod')).toBe(false)
    expect(globToRegExp('a(b)[c]+').test('a(b)[c]+')).toBe(true)
    expect(globToRegExp('bob').test('bobb')).toBe(false)
  })

  it('requires every tag, the name and one of the states, and says what did not match', () => {
    const filters: Filters = {
      tags: [
        { key: 'app', value: 'web' },
        { key: 'env', value: 'prod' }
      ],
      name: 'web-*',
      statuses: ['ACTIVE']
    }
    expect(mismatch(server('1', 'web-1', 'ACTIVE', ['app=web', 'env=prod', 'x=y']), filters)).toBeNull()
    expect(mismatch(server('1', 'web-1', 'ACTIVE', ['app=web']), filters)).toBe('filtered out: no tag env=prod')
    expect(mismatch(server('1', 'db-1', 'ACTIVE', ['app=web', 'env=prod']), filters)).toBe(
      'filtered out: name "db-1" does not match "web-*"'
    )
    expect(mismatch(server('1', 'web-1', 'SHUTOFF', ['app=web', 'env=prod']), filters)).toBe(
      'filtered out: state SHUTOFF is not ACTIVE'
    )
  })
})

describe('tags with and without a value', () => {
  const tagged = (...tags: string[]) => server('1', 'web-1', 'ACTIVE', tags)
  const only = (key: string, value: string | undefined): Filters => ({ ...none, tags: [{ key, value }] })

  it('reads a bare tag as the key with an empty value, and splits at the first =', () => {
    expect(splitTag('canary')).toEqual({ key: 'canary', value: '' })
    expect(splitTag('team=')).toEqual({ key: 'team', value: '' })
    expect(splitTag('note=a=b')).toEqual({ key: 'note', value: 'a=b' })
  })

  it('key alone selects servers carrying the key with any value, bare or not', () => {
    expect(mismatch(tagged('canary'), only('canary', undefined))).toBeNull()
    expect(mismatch(tagged('canary=blue'), only('canary', undefined))).toBeNull()
    expect(mismatch(tagged('canary='), only('canary', undefined))).toBeNull()
    expect(mismatch(tagged('canaryx', 'x=canary'), only('canary', undefined))).toBe(
      'filtered out: no tag canary (with any value)'
    )
  })

  it('key= selects a bare tag or an empty value, nothing else', () => {
    expect(mismatch(tagged('canary'), only('canary', ''))).toBeNull()
    expect(mismatch(tagged('canary='), only('canary', ''))).toBeNull()
    expect(mismatch(tagged('canary=blue'), only('canary', ''))).toBe('filtered out: no tag canary without a value')
  })

  it('key=value stays exact', () => {
    expect(mismatch(tagged('app=web'), only('app', 'web'))).toBeNull()
    expect(mismatch(tagged('app'), only('app', 'web'))).toBe('filtered out: no tag app=web')
    expect(mismatch(tagged('app=web2', 'app=we'), only('app', 'web'))).toBe('filtered out: no tag app=web')
    expect(mismatch(tagged('note=a=b'), only('note', 'a=b'))).toBeNull()
  })

  const key = fc.constantFrom('app', 'canary', 'env', 'a-b')
  const value = fc.constantFrom('', 'web', 'prod', 'a=b', 'x y')
  /** A server tag as the API lists it: bare when the value is empty (or, harshly, `key=` too). */
  const listedTag = fc.tuple(key, value, fc.boolean()).map(([k, v, bare]) => (v === '' && bare ? k : `${k}=${v}`))

  it('matches as the model says: any value, empty (bare or key=) or exact, for any tag list (2,000 cases)', () => {
    fc.assert(
      fc.property(fc.array(listedTag, { maxLength: 6 }), key, fc.option(value, { nil: undefined }), (tags, k, v) => {
        const carried = tags.map((tag) => (tag.includes('=') ? tag : `${tag}=`))
        const expected =
          v === undefined ? carried.some((tag) => tag.startsWith(`${k}=`)) : carried.includes(`${k}=${v}`)
        expect(mismatch(tagged(...tags), only(k, v)) === null).toBe(expected)
      }),
      { numRuns: 2000 }
    )
  })

  it('the tags input reads back every filter as written: key, key= or key=value (1,000 cases)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(key, fc.option(value, { nil: undefined })), { maxLength: 4 }), (pairs) => {
        const filters = pairs.map(([k, v]) => ({ key: k, value: v }))
        expect(parseTags(filters.map(formatTagFilter).join('\n'))).toEqual(filters)
      }),
      { numRuns: 1000 }
    )
  })
})

describe('selectServers', () => {
  const listed = [
    server('a', 'web-1', 'ACTIVE', ['app=web']),
    server('b', 'web-2', 'SHUTOFF', ['app=web']),
    server('c', 'db-1', 'ACTIVE', ['app=db'])
  ]
  const web: Filters = { ...none, tags: [{ key: 'app', value: 'web' }] }

  it('without a listing takes the IDs as they are', () => {
    expect(selectServers(['x', 'y'], undefined, none, undefined)).toEqual({
      considered: ['x', 'y'],
      chosen: ['x', 'y'],
      skipped: [],
      known: new Map()
    })
  })

  it('with filters only, considers the matches', () => {
    expect(selectServers([], listed, web, undefined)).toEqual({
      considered: ['a', 'b'],
      chosen: ['a', 'b'],
      skipped: [],
      known: new Map([
        ['a', { name: 'web-1', status: 'ACTIVE' }],
        ['b', { name: 'web-2', status: 'SHUTOFF' }]
      ])
    })
  })

  it('with IDs and filters, acts on the IDs that match and skips the rest with the reason', () => {
    expect(selectServers(['c', 'a', 'zz'], listed, web, undefined)).toEqual({
      considered: ['c', 'a', 'zz'],
      chosen: ['a'],
      skipped: [
        { id: 'c', reason: 'filtered out: no tag app=web' },
        { id: 'zz', reason: 'not found: the project lists no such server' }
      ],
      // The names and states of the considered servers the project listed.
      known: new Map([
        ['c', { name: 'db-1', status: 'ACTIVE' }],
        ['a', { name: 'web-1', status: 'ACTIVE' }]
      ])
    })
  })

  it('skips servers not in the state the operation needs', () => {
    expect(selectServers([], listed, web, 'ACTIVE')).toEqual({
      considered: ['a', 'b'],
      chosen: ['a'],
      skipped: [{ id: 'b', reason: 'wrong state: SHUTOFF, not ACTIVE' }],
      known: new Map([
        ['a', { name: 'web-1', status: 'ACTIVE' }],
        ['b', { name: 'web-2', status: 'SHUTOFF' }]
      ])
    })
  })

  it('selects nothing when nothing matches', () => {
    expect(selectServers([], listed, { ...none, name: 'cache-*' }, undefined).chosen).toEqual([])
  })
})
