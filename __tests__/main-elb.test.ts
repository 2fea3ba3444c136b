import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { ActionIO } from '../src/action/action-io'
import type { HealthGateSettings } from '../src/action/inputs/health-gate'
import { elbGiveUpLimit, prepareGate } from '../src/action/health-gate'
import { JOURNAL_STATE, readJournal, writeJournal } from '../src/action/journal-file'
import { accessKeyAuthenticator } from '../src/cloud/auth'
import { createHttpTransport } from '../src/cloud/http'
import { DEFAULT_RETRY_POLICY } from '../src/cloud/retry'
import type { Journal, JournalEntry } from '../src/engine/health-gate/types'
import { run, runPost } from '../src/main'
import { DEFAULT_PROJECT_ID, type EcsEmulator, type EmulatorOptions } from './emulator'
import { AS_PATH, lbCall, setWeight } from './support/elb-fleet'
import { dropped, fastElbFleet, gatedInputs, groupStatus, uuid, weights } from './support/elb-run'
import { EMULATOR_KEY, serverIds, useEmulator } from './support/fixtures'
import { recordingIO } from './support/recording-io'

// The health-gated run and the post step in-process (run(), runPost(), prepareGate()) against the
// emulator's fast load-balanced fleet, in real time; the bundle's own runs are in e2e/elb*.test.ts.

const emulators = useEmulator()

/** srv-20…srv-24: in pool-api (dedicated lb-main, 15 members) and pool-legacy (shared lb-legacy, 10), and in asg-api. */
const SERVERS = Array.from({ length: 5 }, (_, i) => uuid(20 + i))

async function runnerTemp(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'main-elb-'))
  onTestFinished(() => rm(folder, { recursive: true, force: true }))
  return folder
}

const groupActions = (emulator: EcsEmulator): string[] =>
  emulator.requests
    .filter((r) => r.route === 'as-group-action')
    .map((r) => (JSON.parse(r.body) as { action: string }).action)

const weightWrites = (emulator: EcsEmulator) =>
  emulator.requests.filter((r) => r.route === 'elb-members-batch-update' || r.route === 'elb-member-update')

/** A gated run of SERVERS at most 3 per pool and wave: waves srv-20…22, then srv-23…24. */
async function gatedRun(emulator: EcsEmulator, extra: Record<string, string> = {}, overrides: Partial<ActionIO> = {}) {
  const folder = await runnerTemp()
  const given = gatedInputs(emulator, {
    'server-ids': SERVERS.join(','),
    'max-unavailable-per-pool': '3',
    ...extra
  })
  const { io, record } = recordingIO(given, { env: { RUNNER_TEMP: folder }, ...overrides })
  await run(io)
  return { record, given, journalPath: record.state[JOURNAL_STATE] }
}

describe('a health-gated run in-process', () => {
  it('drains, restarts and restores wave by wave: zero dropped requests, weights back, pools and waves reported', async () => {
    const emulator = await emulators.start(fastElbFleet())
    const before = weights(emulator)
    const { record, journalPath } = await gatedRun(emulator)
    expect(record.failed).toEqual([])
    expect(record.outputs.status).toBe('succeeded')
    expect(JSON.parse(record.outputs['succeeded-ids'])).toEqual(SERVERS)
    expect(SERVERS.map((id) => emulator.restartCount(id))).toEqual([1, 1, 1, 1, 1])
    expect(weights(emulator)).toEqual(before)
    expect(dropped(emulator)).toBe(0)
    expect(await groupStatus(emulator)).toBe('INSERVICE')
    expect(groupActions(emulator)).toEqual(['pause', 'resume', 'pause', 'resume'])

    const pools = JSON.parse(record.outputs.pools) as Record<string, unknown>[]
    expect(pools).toEqual([
      expect.objectContaining({ pool_id: 'pool-api', loadbalancer_type: 'dedicated', members: 15, managed: 5 }),
      expect.objectContaining({ pool_id: 'pool-legacy', loadbalancer_type: 'shared', members: 10, managed: 5 })
    ])
    // Three of each pool drained at once at most: 15 → 12 and 10 → 7, all back after.
    expect(pools.map((p) => [p.min_healthy, p.healthy_before, p.healthy_lowest, p.healthy_after])).toEqual([
      [12, 15, 12, 15],
      [7, 10, 7, 10]
    ])
    const waves = JSON.parse(record.outputs.waves) as { wave: number; servers: string[]; drain_ms: number }[]
    expect(waves.map((w) => [w.wave, w.servers])).toEqual([
      [1, SERVERS.slice(0, 3)],
      [2, SERVERS.slice(3)]
    ])
    expect(waves.every((w) => w.drain_ms >= 500)).toBe(true)
    expect(JSON.parse(record.outputs.plan)).toEqual([
      { wave: 1, batch: 1, server_ids: SERVERS.slice(0, 3) },
      { wave: 2, batch: 2, server_ids: SERVERS.slice(3) }
    ])

    const summary = record.summaries[0]
    expect(summary).toContain('<h3>Health gate (ELB)</h3>')
    expect(summary).not.toContain('Act by hand')
    for (const id of SERVERS)
      expect(summary).toMatch(
        new RegExp(`<td>${id}</td><td>pool-api, pool-legacy</td><td>[\\d.]+ s</td><td>restored</td>`)
      )
    // Each pool, each of its 25 members, each wave.
    expect(record.lines).toContain('group: Health gate: 2 pools, 2 waves (29 lines)')
    // The journal the post step would read: everything put back, no group left paused.
    const journal = readJournal(journalPath)
    expect(journal.entries.map((e) => e.state)).toEqual(Array(10).fill('restored'))
    expect(journal.pausedGroups).toEqual([])
  }, 60_000)

  it('plans the waves in a dry run without changing anything', async () => {
    const emulator = await emulators.start(fastElbFleet())
    const { record } = await gatedRun(emulator, { 'dry-run': 'true' })
    expect(record.outputs.status).toBe('dry-run')
    expect(JSON.parse(record.outputs.waves)).toEqual([
      { wave: 1, servers: SERVERS.slice(0, 3) },
      { wave: 2, servers: SERVERS.slice(3) }
    ])
    expect(record.state).toEqual({})
    expect(weightWrites(emulator)).toEqual([])
    expect(groupActions(emulator)).toEqual([])
    expect(SERVERS.map((id) => emulator.restartCount(id))).toEqual([0, 0, 0, 0, 0])
  })

  it('warns once per pool at discovery, dry run included: a TCP pool without connection drain, a health timeout below the probe window', async () => {
    const fleet = fastElbFleet()
    const legacy = fleet.loadBalancers?.[1].pools[0]
    if (legacy === undefined) throw new Error('no pool-legacy')
    legacy.protocol = 'TCP'
    const emulator = await emulators.start(fleet)
    const { record } = await gatedRun(emulator, { 'dry-run': 'true', 'health-timeout-seconds': '1' })
    const warnings = record.lines.filter((l) => l.startsWith('warning: '))
    // rise (0.1 s x 2 + 0.2 s) + fall (the same) + 2 x 0.2 s = 1.2 s.
    const short = (pool: string) =>
      `warning: health-timeout-seconds (1 s) is below what pool ${pool}'s health check needs to see a restarted server down and back (rise + fall + 2 × delay = 1.2 s), boot time aside: its servers may fail the gate. Raise health-timeout-seconds.`
    expect(warnings).toEqual([
      short('pool-api'),
      'warning: Pool pool-legacy (TCP) has connection drain off: setting a member to weight 0 cuts its open connections at once. Turn on connection drain (deregistration delay) on the pool to let them finish.',
      short('pool-legacy')
    ])
    expect(record.outputs.status).toBe('dry-run')
  })

  it('as-protection: standby: a dry run lists the group’s instances and changes nothing; a server already in standby is refused before any change, named with its group and the fix', async () => {
    const emulator = await emulators.start(fastElbFleet())
    const standbyActions = () => emulator.requests.filter((r) => r.route === 'as-instances-action')
    const dry = await gatedRun(emulator, { 'dry-run': 'true', 'as-protection': 'standby' })
    expect(dry.record.outputs.status).toBe('dry-run')
    expect(emulator.requests.filter((r) => r.route === 'as-instances')).not.toEqual([])
    expect(standbyActions()).toEqual([])
    const body = JSON.stringify({ action: 'ENTER_STANDBY', instances_id: [uuid(21)] })
    expect((await lbCall(emulator, `${AS_PATH}/scaling_group_instance/asg-api/action`, { body })).status).toBe(204)
    const { record } = await gatedRun(emulator, { 'as-protection': 'standby' })
    expect(record.failed).toEqual([
      expect.stringMatching(
        new RegExp(
          `health-gate: elb refused to start; nothing was changed:\\n- Server ${uuid(21)} is STANDBY in scaling group asg-api, not INSERVICE: .*Exit standby.*Or leave the server out of the selection\\.`
        )
      )
    ])
    expect(standbyActions()).toHaveLength(1)
    expect(weightWrites(emulator)).toEqual([])
    expect(groupActions(emulator)).toEqual([])
    expect(record.state).toEqual({})
  })

  it('a server that never turns healthy fails its wave: weights restored in-process, later waves not restarted, its group left paused and named', async () => {
    const emulator = await emulators.start(fastElbFleet({ serverBootDelayMs: { 'srv-21': 600_000 } }))
    const before = weights(emulator)
    const { record, journalPath } = await gatedRun(emulator, { 'health-timeout-seconds': '1.5' })
    expect(record.outputs.status).toBe('failed')
    const results = JSON.parse(record.outputs.results) as { id: string; outcome: string; error_code: string | null }[]
    expect(results.find((r) => r.id === uuid(21))).toMatchObject({ outcome: 'failed', error_code: 'HealthGate' })
    // pool-api is one member short for good: wave 2 would take it below its minimum of 12.
    expect(SERVERS.slice(3).map((id) => emulator.restartCount(id))).toEqual([0, 0])
    expect(weights(emulator)).toEqual(before)
    expect(await groupStatus(emulator)).toBe('PAUSED')
    expect(groupActions(emulator)).toEqual(['pause'])
    expect(record.lines).toContainEqual(
      expect.stringMatching(
        /^error: Health gate: act by hand: Scaling group asg-api was left PAUSED: servers it restarted \(.*\) were not healthy yet/
      )
    )
    expect(record.summaries[0]).toContain('Act by hand:</strong> Scaling group asg-api was left PAUSED')
    expect(readJournal(journalPath).pausedGroups).toEqual(['asg-api'])
  }, 60_000)

  it('cancelled while the first wave drains: nothing restarted, every weight put back and the group resumed before it ends', async () => {
    const emulator = await emulators.start(fastElbFleet())
    const before = weights(emulator)
    const controller = new AbortController()
    const sleep: ActionIO['sleep'] = async (ms, signal) => {
      // The drain wait (drain-seconds 0.5 raised to the 5 s a weight takes to apply): the members are at weight 0 now.
      if (ms === 5000) controller.abort('SIGINT')
      await delay(ms, undefined, { signal }).catch(() => {})
    }
    const { record, journalPath } = await gatedRun(emulator, {}, { sleep, cancellation: controller.signal })
    expect(record.failed).toEqual([
      expect.stringMatching(/^Cancelled \(SIGINT\): batches not yet sent were not submitted/)
    ])
    expect(SERVERS.map((id) => emulator.restartCount(id))).toEqual([0, 0, 0, 0, 0])
    expect(weights(emulator)).toEqual(before)
    expect(groupActions(emulator)).toEqual(['pause', 'resume'])
    expect(readJournal(journalPath).entries.every((e) => e.state === 'restored')).toBe(true)
    // The first wave (srv-20…22) was drained in both its pools: six members journaled, each set to weight 0.
    const firstWave = ['pool-api', 'pool-legacy'].flatMap((pool) => [20, 21, 22].map((n) => `${pool}.srv-${n}`))
    expect(
      readJournal(journalPath)
        .entries.map((e) => e.memberId)
        .sort()
    ).toEqual(firstWave)
    const zeroed = weightWrites(emulator).flatMap((r) =>
      (JSON.parse(r.body) as { members: { id: string; weight: number }[] }).members
        .filter((m) => m.weight === 0)
        .map((m) => m.id)
    )
    expect(zeroed.sort()).toEqual(firstWave)
  }, 60_000)
})

/** A journal entry as the main step writes it, for member `{pool}.srv-NN` of server uuid(NN). */
function entry(poolId: string, n: number, state: JournalEntry['state'] = 'drained', originalWeight = 1): JournalEntry {
  const loadBalancerId = poolId === 'pool-legacy' ? 'lb-legacy' : 'lb-main'
  return { serverId: uuid(n), poolId, memberId: `${poolId}.srv-${n}`, loadBalancerId, originalWeight, state, wave: 1 }
}

/** What an interrupted main step leaves: members at weight 0, the group paused, and its journal. */
async function interrupted(emulator: EcsEmulator, journal: Journal): Promise<string> {
  for (const e of journal.entries.filter((x) => x.state === 'drained')) {
    expect((await setWeight(emulator, e.poolId, e.memberId, 0)).status).toBe(200)
    // The load balancer is busy for 50 ms after each change.
    await delay(60)
  }
  if (journal.pausedGroups.length > 0) {
    const paused = await lbCall(emulator, `${AS_PATH}/scaling_group/asg-api/action`, {
      body: JSON.stringify({ action: 'pause' })
    })
    expect(paused.status).toBe(204)
  }
  const path = join(await runnerTemp(), 'journal.json')
  writeJournal(path, journal)
  return path
}

describe('the post step (runPost)', () => {
  it('restores the members still at 0, leaves a weight someone else set, and resumes the group only once its servers are healthy', async () => {
    let statusAtResume: string[] = []
    const world: { emulator?: EcsEmulator } = {}
    const options: EmulatorOptions = {
      ...fastElbFleet({ serverBootDelayMs: { 'srv-20': 1500 } }),
      onRequest: (r) => {
        if (r.route !== 'as-group-action' || world.emulator === undefined) return
        statusAtResume = world.emulator.loadBalancing
          .members('pool-api')
          .filter((m) => m.serverId === uuid(20))
          .map((m) => `${m.weight} ${m.operatingStatus}`)
      }
    }
    const emulator = await emulators.start(options)
    world.emulator = emulator
    const journal: Journal = {
      version: 1,
      entries: [
        entry('pool-api', 20),
        entry('pool-legacy', 20),
        entry('pool-api', 21),
        entry('pool-api', 22, 'restored')
      ],
      pausedGroups: ['asg-api'],
      unconfirmed: [uuid(20), uuid(21)],
      steadyMs: 0,
      standby: []
    }
    const path = await interrupted(emulator, journal)
    // Someone set srv-21 back by hand, to another weight; srv-20 was restarted and is booting.
    await delay(60)
    expect((await setWeight(emulator, 'pool-api', 'pool-api.srv-21', 5)).status).toBe(200)
    await lbCall(emulator, `/v1/${DEFAULT_PROJECT_ID}/cloudservers/action`, {
      body: JSON.stringify({ reboot: { type: 'SOFT', servers: [{ id: uuid(20) }] } })
    })
    while (
      emulator.loadBalancing.members('pool-api').find((m) => m.serverId === uuid(20))?.operatingStatus !== 'OFFLINE'
    )
      await delay(50)
    const requestsBefore = emulator.requests.length

    // The main step's server-ids-file is gone by now (a later step removed it): the post step
    // reads no server inputs, so it restores anyway.
    const inputs = gatedInputs(emulator, { 'server-ids-file': 'removed-by-a-later-step.txt' })
    const { io, record } = recordingIO(inputs, { env: { [`STATE_${JOURNAL_STATE}`]: path } })
    await runPost(io)
    expect(record.failed).toEqual([])
    const w = weights(emulator)
    expect([
      w['pool-api']['pool-api.srv-20'],
      w['pool-legacy']['pool-legacy.srv-20'],
      w['pool-api']['pool-api.srv-21']
    ]).toEqual([1, 1, 5])
    expect(await groupStatus(emulator)).toBe('INSERVICE')
    expect(statusAtResume).toEqual(['1 ONLINE'])
    expect(record.lines).toContain(
      `Post step: member pool-api.srv-21 of server ${uuid(21)} in pool pool-api: left (at weight 5 now, set by someone else: left as it is)`
    )
    expect(record.lines).toContain('Post step: restored 2 member(s) the main step left drained.')
    // Members of the entry restored already are never written.
    const written = emulator.requests.slice(requestsBefore).filter((r) => r.route === 'elb-members-batch-update')
    expect(
      written.flatMap((r) => (JSON.parse(r.body) as { members: { id: string }[] }).members.map((m) => m.id)).sort()
    ).toEqual(['pool-api.srv-20', 'pool-legacy.srv-20'])
    const saved = readJournal(path)
    expect(saved.entries.map((e) => e.state)).toEqual(['restored', 'restored', 'restored', 'restored'])
    expect(saved.pausedGroups).toEqual([])
  }, 60_000)

  it('reports a pool deleted since as gone, and what it could not do: a group whose servers are not healthy in time', async () => {
    const emulator = await emulators.start(fastElbFleet({ serverBootDelayMs: { 'srv-20': 600_000 } }))
    const journal: Journal = {
      version: 1,
      entries: [
        entry('pool-api', 20),
        { ...entry('pool-api', 20), poolId: 'pool-deleted', memberId: 'm-1', originalWeight: 4 }
      ],
      pausedGroups: ['asg-api'],
      unconfirmed: [uuid(20)],
      steadyMs: 0,
      standby: []
    }
    const path = await interrupted(emulator, { ...journal, entries: [journal.entries[0]] })
    writeJournal(path, journal)
    await lbCall(emulator, `/v1/${DEFAULT_PROJECT_ID}/cloudservers/action`, {
      body: JSON.stringify({ reboot: { type: 'SOFT', servers: [{ id: uuid(20) }] } })
    })
    // Seen down (no stale ONLINE): it stays down for the whole post step.
    while (
      emulator.loadBalancing.members('pool-api').find((m) => m.serverId === uuid(20))?.operatingStatus !== 'OFFLINE'
    )
      await delay(50)
    const { io, record } = recordingIO(gatedInputs(emulator, { 'health-timeout-seconds': '1' }), {
      env: { [`STATE_${JOURNAL_STATE}`]: path }
    })
    await runPost(io)
    expect(weights(emulator)['pool-api']['pool-api.srv-20']).toBe(1)
    expect(await groupStatus(emulator)).toBe('PAUSED')
    // A pool deleted since holds nothing to put back: reported gone, not something to fix by hand.
    expect(record.lines).toContain(
      `Post step: member m-1 of server ${uuid(20)} in pool pool-deleted: gone (nothing to restore: the pool no longer exists)`
    )
    expect(readJournal(path).entries.map((e) => e.state)).toEqual(['restored', 'gone'])
    const errors = record.lines.filter((l) => l.startsWith('error: Health gate post step: act by hand: '))
    expect(errors).toEqual([
      expect.stringContaining(
        `Scaling group asg-api was left PAUSED: servers it restarted (${uuid(20)}) were not healthy yet`
      )
    ])
    expect(record.failed).toEqual([
      expect.stringMatching(
        /^Health gate post step: not everything could be restored; journal: \{.*"pausedGroups":\["asg-api"\]/
      )
    ])
  }, 60_000)

  it('does nothing, and calls nothing, without a journal or with nothing left open in it', async () => {
    const emulator = await emulators.start(fastElbFleet())
    const none = recordingIO(gatedInputs(emulator))
    await runPost(none.io)
    expect([none.record.failed, none.record.lines]).toEqual([[], []])
    const path = join(await runnerTemp(), 'journal.json')
    writeJournal(path, {
      version: 1,
      entries: [entry('pool-api', 20, 'restored')],
      pausedGroups: [],
      unconfirmed: [],
      steadyMs: 0,
      standby: []
    })
    const done = recordingIO(gatedInputs(emulator), { env: { [`STATE_${JOURNAL_STATE}`]: path } })
    await runPost(done.io)
    expect(done.record.failed).toEqual([])
    expect(done.record.lines).toEqual(['Health gate: the main step left nothing drained, paused or in standby.'])
    expect(emulator.requests).toEqual([])
  })

  it('fails, naming the journal, when it is not a journal of this action or the inputs no longer ask for the gate', async () => {
    const emulator = await emulators.start(fastElbFleet())
    const folder = await runnerTemp()
    const garbage = join(folder, 'garbage.json')
    await writeFile(garbage, '{"entries":{}}')
    const broken = recordingIO(gatedInputs(emulator), { env: { [`STATE_${JOURNAL_STATE}`]: garbage } })
    await runPost(broken.io)
    expect(broken.record.failed).toEqual([
      `Health gate post step failed: ${garbage} is not a journal of this action. Restore the members listed in the journal ${garbage} by hand.`
    ])
    const path = join(folder, 'journal.json')
    writeJournal(path, {
      version: 1,
      entries: [entry('pool-api', 20)],
      pausedGroups: [],
      unconfirmed: [],
      steadyMs: 0,
      standby: []
    })
    const ungated = recordingIO(gatedInputs(emulator, { 'health-gate': 'none' }), {
      env: { [`STATE_${JOURNAL_STATE}`]: path }
    })
    await runPost(ungated.io)
    expect(ungated.record.failed).toEqual([
      `Health gate post step failed: health-gate is not elb in the post step. Restore the members listed in the journal ${path} by hand.`
    ])
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ entries: [{ state: 'drained' }] })
    expect(emulator.requests).toEqual([])
  })
})

describe('refusals before any change (prepareGate)', () => {
  it('names each unsafe pool and the fix, changes no weight, pauses no group and saves no journal', async () => {
    const s = serverIds(10)
    const pool = (id: string, members: number[], extra: object = {}) => ({
      id,
      members: members.map((i) => ({ id: `${id}.${i}`, serverId: s[i] })),
      healthMonitor: { delay: 5, maxRetries: 3 },
      ...extra
    })
    const emulator = await emulators.start({
      inventory: s.map((id, i) => ({ id, name: `web-${i}`, status: i === 9 ? 'SHUTOFF' : 'ACTIVE' })),
      loadBalancers: [
        {
          id: 'lb-a',
          pools: [
            pool('pool-plain', [0, 1], { healthMonitor: undefined }),
            pool('pool-sticky', [2, 3], { lbAlgorithm: 'SOURCE_IP' })
          ]
        },
        { id: 'lb-busy', busyMs: 600_000, pools: [pool('pool-busy', [4, 5])] },
        { id: 'lb-c', pools: [pool('pool-alone', [6]), pool('pool-short', [7, 8, 9])] },
        { id: 'lb-d', pools: [pool('pool-fine', [0, 1, 2, 3])] }
      ],
      scalingGroups: [{ id: 'asg', instances: [s[0]] }]
    })
    // Someone's change keeps lb-busy PENDING_UPDATE.
    expect((await setWeight(emulator, 'pool-busy', 'pool-busy.5', 1)).status).toBe(200)
    const requestsBefore = emulator.requests.length
    const transport = createHttpTransport({ timeoutMs: 5000, maxBodyBytes: 1024 * 1024, userAgent: 'test' })
    onTestFinished(() => transport.close())
    const { io, record } = recordingIO({})
    const options = {
      transport,
      retry: DEFAULT_RETRY_POLICY,
      clock: io.clock,
      sleep: io.sleep,
      random: io.random,
      log: io.log,
      signal: io.cancellation
    }
    const connection = { authenticator: accessKeyAuthenticator(EMULATOR_KEY), projectId: DEFAULT_PROJECT_ID, options }
    const settings: HealthGateSettings = {
      maxUnavailable: { count: 1 },
      drainMs: 0,
      healthTimeoutMs: 1000,
      poolIds: ['pool-missing', 'pool-plain', 'pool-sticky', 'pool-busy', 'pool-alone', 'pool-short', 'pool-fine'],
      scalingGroupIds: ['asg'],
      protection: 'pause',
      elbEndpoint: new URL(emulator.url),
      asEndpoint: new URL(emulator.url)
    }
    const prepared = prepareGate(
      settings,
      [s[0], s[2], s[4], s[6], s[7]],
      { maxPerWave: 10, deadline: Date.now() + 60_000, pollIntervalMs: 100, dryRun: false },
      connection,
      io
    )
    await expect(prepared).rejects.toThrow(
      [
        'health-gate: elb refused to start; nothing was changed:',
        '- Pool pool-missing of elb-pool-ids was not found in the project. Check the ID.',
        '- Pool pool-plain has no health check, so nothing can tell when a restarted member serves again. Add (or turn on) a health check on the pool, or leave the pool out with elb-pool-ids.',
        '- Pool pool-sticky uses the SOURCE_IP algorithm, under which member weights are documented to have no effect, so weight 0 may not drain it. Switch the pool to ROUND_ROBIN or LEAST_CONNECTIONS, or leave it out with elb-pool-ids.',
        '- Load balancer lb-busy of pool pool-busy is PENDING_UPDATE, not ACTIVE, so its members cannot be changed. Run again once it is ACTIVE.',
        '- Pool pool-alone has 1 of 1 weighted members healthy and must keep at least 1: restarting even one server would go below. Its only member with weight > 0 would leave it with none: add a member to the pool first.',
        '- Pool pool-short has 2 of 3 weighted members healthy and must keep at least 2: restarting even one server would go below. Bring its unhealthy members back, or raise max-unavailable-per-pool.'
      ].join('\n')
    )
    const calls = emulator.requests.slice(requestsBefore)
    expect(calls.every((r) => r.method === 'GET' && r.signatureValid)).toBe(true)
    expect(calls.some((r) => r.route.startsWith('as-'))).toBe(false)
    expect(record.state).toEqual({})
    expect(record.lines).toEqual([])
  })
})

describe('the give-up warning of a gate call', () => {
  it("names the ELB call's minute when that is what runs out, and timeout-seconds when the run's deadline does", () => {
    const limit = elbGiveUpLimit(1_000_000)
    expect(limit(500_000)).toBe('the 1 min an ELB call may wait out throttling or a busy load balancer')
    expect(limit(1_000_000)).toBe('timeout-seconds')
  })
})
