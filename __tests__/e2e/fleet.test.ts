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
    const emulator = await emulators.start({ inventory: fleet(3, () => ({ tags: ['app=web'] })) })
    const strict = await runAction(inputs(emulator, { tags: 'app=wbe' }))
    expect(strict.exitCode).toBe(1)
    const why = `Nothing selected: the filters matched none of the 3 servers listed in project ${DEFAULT_PROJECT_ID}: no server has the tag "app=wbe" (closest: "app=web"). (Set allow-empty: true if an empty selection is expected.)`
    expect(strict.stdout).toContain(`::error::${why}`)
    expect(strict.summary).toContain(`<strong>Error:</strong> ${why.replace(/"/g, '&#34;')}`)
    expect(strict.outputs.status).toBe('failed')
    const relaxed = await runAction(inputs(emulator, { tags: 'app=wbe', 'allow-empty': 'true' }))
    expect(relaxed.exitCode).toBe(0)
    expect(relaxed.outputs.status).toBe('succeeded')
    expect(posts(emulator)).toHaveLength(0)
  })

  it('says why when none of the IDs given exist in the project, and names near-misses of a name', async () => {
    const emulator = await emulators.start({ inventory: fleet(2, (i) => ({ name: `Web-${i + 1}` })) })
    const missing = serverIds(2, 50)
    // A dry run lists the servers, which finds IDs the project does not have.
    const run = await runAction(
      inputs(emulator, { 'server-ids': missing.join(','), region: 'ap-southeast-1', 'dry-run': 'true' })
    )
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toContain(
      `::error::Nothing selected: none of the 2 servers named by server-ids and server-ids-file exist in project ${DEFAULT_PROJECT_ID} (region ap-southeast-1), which lists 2 servers.`
    )
    expect(outcomes(run).skipped).toEqual(missing)
    const byName = await runAction(inputs(emulator, { name: 'web-*' }))
    expect(byName.stdout).toContain('no server name matches "web-*" (closest: "Web-1", "Web-2")')
    expect(posts(emulator)).toHaveLength(0)
  })

  it('reads IDs from server-ids-file in the workspace, with # comments', async () => {
    const servers = fleet(4)
    const emulator = await emulators.start({ inventory: servers })
    const workspace = await mkdtemp(join(tmpdir(), 'workspace-'))
    await writeFile(join(workspace, 'ids.txt'), `# web tier\n${servers[2].id} # srv-2\n\n${servers[3].id}\n`)
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
    const servers = fleet(10, (i) => ({ tags: i < 7 ? ['app=web'] : [], status: i === 4 ? 'SHUTOFF' : 'ACTIVE' }))
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
    const short = (i: number) => `${servers[i].id.slice(0, 8)}…`
    expect(run.stdout).toContain(
      `Wave 2, batch 2: srv-3 (${short(3)}, ACTIVE), srv-4 (${short(4)}, SHUTOFF), srv-5 (${short(5)}, ACTIVE)`
    )
    // The server a restart cannot act on is flagged before anything is done, in the log and the summary.
    const warning = `1 planned server is not ACTIVE, which a SOFT restart needs, so the cloud will fail it (or refuse the batch): srv-4 (${short(4)}, SHUTOFF). Set skip-inactive: true to leave such servers out.`
    expect(run.stdout).toContain(`::warning::${warning}`)
    expect(run.summary).toContain(`<strong>⚠️ Warning:</strong> ${warning}`)
    // The summary reads as a plan: planned and skipped counts, each batch with names and states.
    expect(run.summary).toContain('<tr><td>8</td><td>7</td><td>1</td></tr>')
    expect(run.summary).toContain('<h3>Plan: 3 batches in 3 waves</h3>')
    expect(run.summary).toContain(
      `<tr><td>2</td><td>2</td><td>${servers[4].id}</td><td>srv-4</td><td>SHUTOFF</td><td>⚠️ not ACTIVE: will fail</td></tr>`
    )
    expect(run.summary).toContain(
      `<tr><td>3</td><td>3</td><td>${servers[6].id}</td><td>srv-6</td><td>ACTIVE</td><td></td></tr>`
    )
    expect(run.summary.match(/<h3>Skipped servers<\/h3>/g)).toHaveLength(1)
    expect(run.summary).toContain(`<tr><td>${missing}</td><td></td><td></td><td></td><td>Skipped: not found`)
    expect(run.summary).toContain('🧪 dry run, nothing was changed')
    expect(run.summary).not.toContain('Batches in 3 waves')
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
        'max-failures': '0',
        // A filter makes the action list the servers, so it knows their names.
        name: 'srv-*'
      })
    )
    expect(run.exitCode).toBe(1)
    // The failed server is named in its batch's annotation and log group; the timeline shows each wave.
    expect(run.stdout).toMatch(
      new RegExp(
        `::error title=Batch 2%3A FAIL::1 of 2 servers failed \\(job \\w+, FAIL\\)\\. Servers: srv-3 \\(00000000…\\) Ecs\\.0227\\.`
      )
    )
    expect(run.stdout).toContain(`${servers[3].id} (srv-3) failed Ecs.0227 Failed to reboot.`)
    expect(run.summary).toMatch(
      /<h3>Timeline<\/h3>[\s\S]*<tr><td>2<\/td><td>all 1<\/td><td>\+[\d.]+ s<\/td><td>\+[\d.]+ s<\/td>/
    )
    const { succeeded, failed, skipped, results } = outcomes(run)
    expect(succeeded).toEqual(servers.slice(0, 3).map((s) => s.id))
    expect(failed).toEqual([servers[3].id])
    expect(skipped).toEqual(servers.slice(4).map((s) => s.id))
    expect(results[4].error_message).toMatch(
      /^Skipped: 1 server failed or was not confirmed by the end of wave 2, more than max-failures \(0\)/
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
