/** fleet-file.ts: the fleet a stand-alone emulator loads (serve.ts --fleet, npm run try). */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DEFAULT_FLEET_FILE, FleetFileError, loadFleetFile, parseFleet } from './fleet-file'

const ID = '616fb98f-46ca-475e-917e-2563e5a8cd19'
const OTHER = '726fb98f-46ca-475e-917e-2563e5a8cd20'

const fleetOf = (servers: unknown[], extra: object = {}): string => JSON.stringify({ servers, ...extra })

function problemsOf(text: string): string {
  try {
    parseFleet(text, 'fleet.json')
  } catch (error) {
    expect(error).toBeInstanceOf(FleetFileError)
    return (error as Error).message
  }
  throw new Error('the fleet was accepted')
}

describe('parseFleet', () => {
  it('reads servers with their defaults, and the failures with the cloud reason for known codes', () => {
    const fleet = parseFleet(
      fleetOf(
        [
          { id: ID, name: 'web-1', tags: ['app=web', 'canary'] },
          { id: OTHER, name: 'db-1', status: 'SHUTOFF', enterpriseProjectId: 'ep-1', fail: { code: 'Ecs.0605' } }
        ],
        { description: 'two servers' }
      ),
      'fleet.json'
    )
    expect(fleet.servers).toEqual([
      { id: ID, name: 'web-1', tags: ['app=web', 'canary'] },
      { id: OTHER, name: 'db-1', status: 'SHUTOFF', enterpriseProjectId: 'ep-1' }
    ])
    expect(fleet.failures).toEqual({ [OTHER]: { code: 'Ecs.0605', reason: 'ECS locked.' } })
  })

  it('keeps a failure reason given in the file', () => {
    const fleet = parseFleet(fleetOf([{ id: ID, name: 'a', fail: { code: 'Ecs.9999', reason: 'Disk on fire.' } }]), 'f')
    expect(fleet.failures[ID]).toEqual({ code: 'Ecs.9999', reason: 'Disk on fire.' })
  })

  it.each([
    ['not JSON', '{servers: [', /^fleet\.json: not valid JSON: /],
    ['no servers list', '{"server": []}', /^fleet\.json: must be an object with a "servers" list/],
    ['an empty list', fleetOf([]), /"servers" is empty/],
    ['an unknown top-level field', fleetOf([{ id: ID, name: 'a' }], { jobs: 1 }), /unknown field "jobs"/],
    [
      'an id that is not a UUID',
      fleetOf([{ id: 'web-1', name: 'a' }]),
      /servers\[0\]\.id must be a UUID .*got "web-1"/
    ],
    [
      'a duplicate id',
      fleetOf([
        { id: ID, name: 'a' },
        { id: ID.toUpperCase(), name: 'b' }
      ]),
      /servers\[1\]\.id .* appears twice/
    ],
    ['no name', fleetOf([{ id: ID }]), /servers\[0\]\.name must be a non-empty string, got undefined/],
    [
      'an unknown state',
      fleetOf([{ id: ID, name: 'a', status: 'RUNNING' }]),
      /servers\[0\]\.status must be one of ACTIVE, SHUTOFF.*got "RUNNING"/
    ],
    [
      'a tag that is not a string',
      fleetOf([{ id: ID, name: 'a', tags: ['app=web', 7] }]),
      /servers\[0\]\.tags must be a list .*got 7/
    ],
    ['a tag with no key', fleetOf([{ id: ID, name: 'a', tags: ['=web'] }]), /servers\[0\]\.tags .*got "=web"/],
    ['tags as one string', fleetOf([{ id: ID, name: 'a', tags: 'app=web' }]), /servers\[0\]\.tags must be a list/],
    ['a misspelt field', fleetOf([{ id: ID, name: 'a', tag: ['x'] }]), /servers\[0\] has an unknown field "tag"/],
    [
      'a failure without a code',
      fleetOf([{ id: ID, name: 'a', fail: { reason: 'x' } }]),
      /servers\[0\]\.fail must be \{"code": "Ecs\.NNNN"/
    ],
    [
      'a failure code of the wrong shape',
      fleetOf([{ id: ID, name: 'a', fail: { code: '0227' } }]),
      /servers\[0\]\.fail must be/
    ],
    ['a server that is not an object', fleetOf(['web-1']), /servers\[0\] must be an object, got "web-1"/]
  ])('refuses %s, naming what is wrong', (_, text, message) => {
    expect(problemsOf(text)).toMatch(message)
  })

  it('lists every problem at once, one a line', () => {
    const message = problemsOf(
      fleetOf([
        { id: 'x', name: '' },
        { id: ID, name: 'b', status: 'on' }
      ])
    )
    expect(message.split('\n')).toHaveLength(4)
    expect(message).toMatch(/servers\[0\]\.id/)
    expect(message).toMatch(/servers\[0\]\.name/)
    expect(message).toMatch(/servers\[1\]\.status/)
  })
})

describe('loadFleetFile', () => {
  it('loads the example file, the default fleet: 12 named servers, one stopped, two failing, bare tags', async () => {
    const fleet = await loadFleetFile(DEFAULT_FLEET_FILE)
    expect(fleet.servers.map((s) => s.name)).toEqual([
      ...['web-1', 'web-2', 'web-3', 'web-4', 'web-5', 'web-6'],
      ...['api-1', 'api-2', 'api-3', 'db-1', 'db-2', 'batch-1']
    ])
    expect(fleet.servers.filter((s) => s.status === 'SHUTOFF').map((s) => s.name)).toEqual(['web-6'])
    expect(fleet.servers.filter((s) => s.tags?.includes('canary')).length).toBeGreaterThan(0)
    expect(Object.keys(fleet.failures)).toHaveLength(2)
  })

  it('names the file when it is missing or bad', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'fleet-'))
    try {
      await expect(loadFleetFile(join(folder, 'missing.json'))).rejects.toThrow(
        /missing\.json: cannot be read \(ENOENT\)/
      )
      const bad = join(folder, 'bad.json')
      await writeFile(bad, fleetOf([{ id: ID, name: 'a', status: 'UP' }]))
      await expect(loadFleetFile(bad)).rejects.toThrow(
        new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: servers\\[0\\]\\.status`)
      )
    } finally {
      await rm(folder, { recursive: true, force: true })
    }
  })
})
