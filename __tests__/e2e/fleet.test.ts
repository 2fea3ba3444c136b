import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DEFAULT_PROJECT_ID, type EcsEmulator, type EmulatorServer } from '../emulator'
import { EMULATOR_KEY, serverIds, useEmulator } from '../support/fixtures'
import { type ActionRun, outcomes, runAction } from '../support/run-action'

// Selecting servers by tag, name and state, dry runs, rolling waves, and start/stop: the bundled
// action against an emulator that knows the project's servers.

const emulators = useEmulator()

function fleet(count: number, describe: (index: number) => Partial<EmulatorServer> = () => ({})): EmulatorServer[] {
  return serverIds(count).map((id, index) => ({ id, name: `srv-${index}`, tags: [], ...describe(index) }))
}

function inputs(emulator: EcsEmulator, extra: Record<string, string>): Record<string, string> {
  return {
    endpoint: emulator.url,
    'project-id': DEFAULT_PROJECT_ID,
    'access-key-id': EMULATOR_KEY.accessKeyId,
    'secret-access-key': EMULATOR_KEY.secretAccessKey,
    'poll-interval-seconds': '0.02',
    ...extra
  }
}

/** succeeded, failed, pending and skipped never overlap and cover exactly what was considered. */
function expectAccounted(run: ActionRun, considered: string[]): void {
  const { succeeded, failed, pending, skipped, results } = outcomes(run)
  const all = [...succeeded, ...failed, ...pending, ...skipped]
  expect(new Set(all).size).toBe(all.length)
  expect([...all].sort()).toEqual([...considered].sort())
  expect(results.map((r) => r.id)).toEqual(considered)
}

const posts = (emulator: EcsEmulator) => emulator.requests.filter((r) => r.route === 'submit')

describe('selecting servers', () => {
  it('selects by tags across pages of the listing, matching every tag exactly', async () => {
    const servers = fleet(1500, (i) => ({ tags: i % 5 === 0 ? ['app=web'] : ['app=web', 'env=prod'] }))
    const emulator = await emulators.start({ inventory: servers, jobDurationMs: 30 })
    const run = await runAction(inputs(emulator, { tags: 'env=prod, app=web', 'max-servers-per-minute': '100000' }))
    const chosen = servers.filter((_, i) => i % 5 !== 0).map((s) => s.id)
    expect(run.exitCode).toBe(0)
    expect(outcomes(run).succeeded).toEqual(chosen)
    expect(emulator.requests.filter((r) => r.route === 'list').map((r) => r.query.get('marker'))).toEqual([
      null,
      servers[999].id
    ])
    expect(servers.every((s) => emulator.restartCount(s.id) === (chosen.includes(s.id) ? 1 : 0))).toBe(true)
    expectAccounted(run, chosen)
  })

  it('selects by bare tags: key alone for any value, key= for bare or empty, key=value exactly', async () => {
    const tags = [['canary'], ['canary='], ['canary=blue'], ['app=web'], ['canaryx', 'x=canary'], ['canary', 'app=web']]
    const servers = fleet(tags.length, (i) => ({ tags: tags[i] }))
    const emulator = await emulators.start({ inventory: servers, jobDurationMs: 10 })
    const ids = (...indexes: number[]) => indexes.map((i) => servers[i].id)
    const planned = async (filter: string) => {
      const run = await runAction(inputs(emulator, { tags: filter, 'dry-run': 'true' }))
      expect(run.exitCode).toBe(0)
      return outcomes(run).plan.flatMap((batch) => batch.server_ids)
    }
    expect(await planned('canary')).toEqual(ids(0, 1, 2, 5))
    expect(await planned('canary=')).toEqual(ids(0, 1, 5))
    expect(await planned('canary=blue')).toEqual(ids(2))
    expect(posts(emulator)).toHaveLength(0)
    const run = await runAction(inputs(emulator, { tags: 'canary=\napp=web' }))
    expect(run.exitCode).toBe(0)
    expect(outcomes(run).succeeded).toEqual(ids(5))
    expect(servers.map((s) => emulator.restartCount(s.id))).toEqual([0, 0, 0, 0, 0, 1])
    expectAccounted(run, ids(5))
  })

  it('acts on the given IDs that match the filters, and skips the others with the reason', async () => {
    const servers = fleet(3, (i) => ({ name: ['web-1', 'db-1', 'web-2'][i], status: i === 2 ? 'SHUTOFF' : 'ACTIVE' }))
    const emulator = await emulators.start({ inventory: servers })
    const missing = serverIds(1, 99)[0]
    const ids = [servers[0].id, servers[1].id, servers[2].id, missing]
    const run = await runAction(inputs(emulator, { 'server-ids': ids.join(','), name: 'web-?', status: 'ACTIVE' }))
    const { succeeded, skipped, results } = outcomes(run)
    expect(succeeded).toEqual([servers[0].id])
    expect(skipped).toEqual([servers[1].id, servers[2].id, missing])
    expect(results.slice(1).map((r) => r.error_message)).toEqual([
      'Skipped: filtered out: name "db-1" does not match "web-?".',
      'Skipped: filtered out: state SHUTOFF is not ACTIVE.',
      'Skipped: not found: the project lists no such server.'
    ])
    expect(run.summary).toContain('<h3>Skipped servers</h3>')
    expectAccounted(run, ids)
  })

  it('skips servers not in the state the operation needs, with skip-inactive', async () => {
    const servers = fleet(3, (i) => ({ status: i === 1 ? 'SHUTOFF' : 'ACTIVE' }))
    const emulator = await emulators.start({ inventory: servers })
    const ids = servers.map((s) => s.id)
    const run = await runAction(inputs(emulator, { 'server-ids': ids.join('\n'), 'skip-inactive': 'true' }))
    expect(outcomes(run).succeeded).toEqual([ids[0], ids[2]])
    expect(outcomes(run).results[1]).toMatchObject({
      outcome: 'skipped',
      error_message: 'Skipped: wrong state: SHUTOFF, not ACTIVE.'
    })
    expect(run.exitCode).toBe(0)
  })

  it('fails when nothing is selected, sending nothing, unless allow-empty', async () => {
    const emulator = await emulators.start({ inventory: fleet(3) })
    const strict = await runAction(inputs(emulator, { tags: 'app=wbe' }))
    expect(strict.exitCode).toBe(1)
    expect(strict.stdout).toMatch(/::error::Nothing selected: no server matched server-ids and the filters/)
    expect(strict.outputs.status).toBe('failed')
    const relaxed = await runAction(inputs(emulator, { tags: 'app=wbe', 'allow-empty': 'true' }))
    expect(relaxed.exitCode).toBe(0)
    expect(relaxed.outputs.status).toBe('succeeded')
    expect(posts(emulator)).toHaveLength(0)
  })

  it('reads IDs from server-ids-file in the workspace', async () => {
    const servers = fleet(4)
    const emulator = await emulators.start({ inventory: servers })
    const workspace = await mkdtemp(join(tmpdir(), 'workspace-'))
    await writeFile(join(workspace, 'ids.txt'), `${servers[2].id}\n${servers[3].id}\n`)
    const run = await runAction(inputs(emulator, { 'server-ids': servers[0].id, 'server-ids-file': 'ids.txt' }), {
      env: { GITHUB_WORKSPACE: workspace }
    })
    await rm(workspace, { recursive: true, force: true })
    expect(outcomes(run).succeeded).toEqual([servers[0].id, servers[2].id, servers[3].id])
  })

  it('reports a server that changed state between listing and restart as the cloud failed it', async () => {
    const servers = fleet(2)
    const emulator = await emulators.start({ inventory: servers })
    emulator.inject('submit', { kind: 'delay', ms: 300 })
    const watcher = setInterval(() => {
      if (posts(emulator).length > 0) {
        emulator.setServerStatus(servers[1].id, 'SHUTOFF')
        clearInterval(watcher)
      }
    }, 5)
    const run = await runAction(inputs(emulator, { name: 'srv-*', 'skip-inactive': 'true' }))
    clearInterval(watcher)
    const { succeeded, failed, results } = outcomes(run)
    expect(succeeded).toEqual([servers[0].id])
    expect(failed).toEqual([servers[1].id])
    expect(results[1]).toMatchObject({ error_code: 'Ecs.0100' })
  })
})

describe('dry run', () => {
  it('resolves and plans with read-only calls, and restarts nothing', async () => {
    const servers = fleet(10, (i) => ({ tags: i < 7 ? ['app=web'] : [] }))
    const emulator = await emulators.start({ inventory: servers })
    const missing = serverIds(1, 50)[0]
    const run = await runAction(
      inputs(emulator, {
        'dry-run': 'true',
        tags: 'app=web',
        'batch-size': '40%',
        rolling: 'true',
        'server-ids': [...servers.slice(0, 7).map((s) => s.id), missing].join(',')
      })
    )
    expect(run.exitCode).toBe(0)
    expect(run.outputs.status).toBe('dry-run')
    expect(posts(emulator)).toHaveLength(0)
    expect(emulator.requests.every((r) => r.method === 'GET')).toBe(true)
    const { plan, skipped, results } = outcomes(run)
    expect(plan).toEqual([
      { wave: 1, batch: 1, server_ids: servers.slice(0, 3).map((s) => s.id) },
      { wave: 2, batch: 2, server_ids: servers.slice(3, 6).map((s) => s.id) },
      { wave: 3, batch: 3, server_ids: [servers[6].id] }
    ])
    expect(skipped).toHaveLength(8)
    expect(results[0].error_message).toBe('Dry run: would soft restart in batch 1, wave 1.')
    expect(results[7].error_message).toBe('Skipped: not found: the project lists no such server.')
    expect(run.stdout).toContain(
      `Wave 2, batch 2: ${servers
        .slice(3, 6)
        .map((s) => s.id)
        .join(', ')}`
    )
    expect(run.summary).toContain('🧪 dry run, nothing was changed')
    expect(run.summary).toContain('Batches in 3 waves')
  })
})

describe('rolling waves', () => {
  it('runs one batch at a time, waits for ACTIVE, and skips the rest once failures exceed the budget', async () => {
    const servers = fleet(8)
    const emulator = await emulators.start({
      inventory: servers,
      jobDurationMs: 40,
      serverFailures: { [servers[3].id]: { code: 'Ecs.0227', reason: 'Failed to reboot.' } }
    })
    const run = await runAction(
      inputs(emulator, {
        'server-ids': servers.map((s) => s.id).join(','),
        rolling: 'true',
        'batch-size': '25%',
        'max-failures': '0'
      })
    )
    expect(run.exitCode).toBe(1)
    const { succeeded, failed, skipped, results } = outcomes(run)
    expect(succeeded).toEqual(servers.slice(0, 3).map((s) => s.id))
    expect(failed).toEqual([servers[3].id])
    expect(skipped).toEqual(servers.slice(4).map((s) => s.id))
    expect(results[4].error_message).toMatch(
      /^Skipped: 1 servers failed or were not confirmed by the end of wave 2, more than max-failures \(0\)/
    )
    // Each wave's job was finished (and its servers ACTIVE) before the next was sent.
    const submits = posts(emulator)
    expect(submits).toHaveLength(2)
    const detailReads = emulator.requests.filter((r) => r.route === 'server')
    expect(detailReads.map((r) => r.path.split('/').pop())).toEqual(
      expect.arrayContaining(servers.slice(0, 2).map((s) => s.id))
    )
    const firstDetail = emulator.requests.indexOf(detailReads[0])
    expect(firstDetail).toBeLessThan(emulator.requests.indexOf(submits[1]))
    expectAccounted(
      run,
      servers.map((s) => s.id)
    )
  })
})

describe('start and stop', () => {
  it('stops, then starts, with the same batching and reporting', async () => {
    const servers = fleet(3)
    const emulator = await emulators.start({ inventory: servers, jobDurationMs: 20 })
    const ids = servers.map((s) => s.id).join(',')
    const stop = await runAction(
      inputs(emulator, { 'server-ids': ids, operation: 'stop', type: 'HARD', 'wait-for-active': 'true' })
    )
    expect(stop.outputs.status).toBe('succeeded')
    expect(JSON.parse(posts(emulator)[0].body)).toEqual({
      'os-stop': { type: 'HARD', servers: servers.map((s) => ({ id: s.id })) }
    })
    expect(stop.summary).toContain('HARD stop of 3 servers')
    const start = await runAction(
      inputs(emulator, { 'server-ids': ids, operation: 'start', 'skip-inactive': 'true', 'wait-for-active': 'true' })
    )
    expect(start.outputs.status).toBe('succeeded')
    expect(JSON.parse(posts(emulator)[1].body)).toEqual({ 'os-start': { servers: servers.map((s) => ({ id: s.id })) } })
    expect(outcomes(start).succeeded).toHaveLength(3)
  })
})
