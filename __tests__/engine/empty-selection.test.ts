import { describe, expect, it } from 'vitest'
import type { ListedServer } from '../../src/cloud/ecs'
import { closest, editDistance, explainNothingSelected } from '../../src/engine/empty-selection'
import { firstFew, outOfStateWarning, serverLabel, serverLabelWithState } from '../../src/engine/known'
import { planBatches } from '../../src/engine/plan'
import { type Filters, selectServers } from '../../src/engine/selection'

const none: Filters = { tags: [], name: undefined, statuses: [] }
const WHERE = 'project 0123456789abcdef0123456789abcdef (region ap-southeast-1)'
const server = (id: string, name: string, status = 'ACTIVE', tags: string[] = []): ListedServer => ({
  id,
  name,
  status,
  tags
})
const listed = [
  server('a', 'Web-1', 'ACTIVE', ['app=webs', 'env=prod']),
  server('b', 'web-2', 'SHUTOFF', ['App=web']),
  server('c', 'db-1', 'SHUTOFF', ['app=db'])
]

/** Selects as the action does, then explains the empty result. */
function explain(requested: string[], filters: Filters, requiredState?: string): string {
  const selection = selectServers(requested, listed, filters, requiredState)
  expect(selection.chosen).toEqual([])
  return explainNothingSelected({ requested, listed, filters, requiredState, where: WHERE }, selection)
}

describe('explainNothingSelected', () => {
  it('says none of the IDs exist in the project, with how many it lists', () => {
    expect(explain(['x', 'y'], none)).toBe(
      `none of the 2 servers named by server-ids and server-ids-file exist in ${WHERE}, which lists 3 servers. Check the IDs, and that project-id or region (and enterprise-project-id) point where the servers are.`
    )
  })

  it('counts the IDs missing, filtered out and in the wrong state', () => {
    expect(explain(['x', 'b', 'c'], { ...none, tags: [{ key: 'app', value: 'web' }] }, 'ACTIVE')).toBe(
      `of the 3 servers named, 1 does not exist in ${WHERE}, 2 did not match the filters. Among them, no server has the tag "app=web" (closest: "App=web").`
    )
    expect(explain(['b', 'c'], none, 'ACTIVE')).toBe('of the 2 servers named, 2 were not ACTIVE (skip-inactive).')
  })

  it('offers near-misses for a tag found nowhere: another case, or a typo away', () => {
    expect(explain([], { ...none, tags: [{ key: 'app', value: 'web' }] })).toBe(
      `the filters matched none of the 3 servers listed in ${WHERE}: no server has the tag "app=web" (closest: "App=web", "app=webs").`
    )
  })

  it('writes a tag filter as given: a key alone (any value) or key= (no value)', () => {
    expect(explain([], { ...none, tags: [{ key: 'tier', value: undefined }] })).toContain(
      'no server has the tag "tier"'
    )
    expect(explain([], { ...none, tags: [{ key: 'tier', value: '' }] })).toContain('no server has the tag "tier="')
  })

  it('offers names that match the glob ignoring case, or a plain name a typo away', () => {
    expect(explain([], { ...none, name: 'WEB-*' })).toBe(
      `the filters matched none of the 3 servers listed in ${WHERE}: no server name matches "WEB-*" (closest: "Web-1", "web-2").`
    )
    expect(explain([], { ...none, name: 'web-3' })).toContain(
      'no server name matches "web-3" (closest: "Web-1", "web-2")'
    )
    expect(explain([], { ...none, name: 'cache-*' })).toContain('no server name matches "cache-*".')
  })

  it('names the states seen when no server is in the one asked for', () => {
    expect(explain([], { ...none, statuses: ['ERROR'] })).toContain('no server is ERROR (1 ACTIVE, 2 SHUTOFF)')
  })

  it('says when each filter matches some servers but none matches all', () => {
    expect(explain([], { ...none, name: 'db-*', tags: [{ key: 'env', value: 'prod' }] })).toBe(
      `the filters matched none of the 3 servers listed in ${WHERE}: each filter matches some servers, but none matches all of them.`
    )
  })

  it('says when skip-inactive left none of the matches', () => {
    expect(explain([], { ...none, name: '*-2' }, 'ACTIVE')).toBe(
      `the filters matched 1 server in ${WHERE}, but skip-inactive left none: they are 1 SHUTOFF, and the operation needs ACTIVE.`
    )
  })

  it('says when the project lists no servers at all', () => {
    const selection = selectServers([], [], { ...none, name: 'x' }, undefined)
    expect(
      explainNothingSelected(
        { requested: [], listed: [], filters: { ...none, name: 'x' }, requiredState: undefined, where: WHERE },
        selection
      )
    ).toMatch(/lists no servers\. Check project-id or region, enterprise-project-id/)
  })

  it('never quotes user-info from a name filter', () => {
    expect(explain([], { ...none, name: 'https://admin:hunter2@x' })).not.toMatch(/admin|hunter2/)
  })
})

describe('near-misses', () => {
  it('measures edit distance, giving up past the limit', () => {
    expect(editDistance('kitten', 'sitting', 5)).toBe(3)
    expect(editDistance('app=wbe', 'app=web', 2)).toBe(1)
    expect(editDistance('kitten', 'sitting', 2)).toBe(3)
    expect(editDistance('a', 'abcdef', 2)).toBe(3)
    expect(editDistance('', 'ab', 2)).toBe(2)
  })

  it('keeps the closest few, case-insensitive matches first', () => {
    expect(closest('app=web', ['app=webs', 'APP=WEB', 'app=db', 'app=web', 'zzz'])).toEqual(['APP=WEB', 'app=webs'])
    expect(closest('ab', ['abc', 'xy'])).toEqual(['abc'])
  })
})

describe('server labels', () => {
  const known = new Map([
    ['6f1c2a3b-0000-4000-8000-000000000001', { name: 'web-1', status: 'ACTIVE' }],
    ['6f1c2a3b-0000-4000-8000-000000000002', { name: '', status: 'SHUTOFF' }]
  ])

  it('names a listed server with a short ID, and an unlisted one by its ID', () => {
    expect(serverLabel('6f1c2a3b-0000-4000-8000-000000000001', known)).toBe('web-1 (6f1c2a3b…)')
    expect(serverLabel('unlisted', known)).toBe('unlisted')
    expect(serverLabelWithState('6f1c2a3b-0000-4000-8000-000000000001', known)).toBe('web-1 (6f1c2a3b…, ACTIVE)')
    expect(serverLabelWithState('6f1c2a3b-0000-4000-8000-000000000002', known)).toBe(
      '6f1c2a3b-0000-4000-8000-000000000002 (SHUTOFF)'
    )
    expect(firstFew(['a', 'b', 'c'], 2)).toBe('a, b and 1 more')
  })

  it('warns about planned servers not in the state the operation needs', () => {
    const plan = planBatches([...known.keys(), 'unlisted'], 2)
    expect(outOfStateWarning(plan, known, 'ACTIVE', 'SOFT restart')).toBe(
      '1 planned server is not ACTIVE, which a SOFT restart needs, so the cloud will fail it (or refuse the batch): 6f1c2a3b-0000-4000-8000-000000000002 (SHUTOFF). Set skip-inactive: true to leave such servers out.'
    )
    expect(outOfStateWarning(plan, known, 'SHUTOFF', 'start')).toMatch(/^1 planned server is not SHUTOFF, .*: web-1/)
    expect(outOfStateWarning(planBatches(['unlisted'], 1), known, 'ACTIVE', 'SOFT restart')).toBeUndefined()
  })
})
