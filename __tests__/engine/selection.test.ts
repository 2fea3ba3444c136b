import { describe, expect, it } from 'vitest'
import type { ListedServer } from '../../src/cloud/ecs'
import { type Filters, globToRegExp, hasFilters, mismatch, selectServers } from '../../src/engine/selection'

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
