import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { spawn } from 'node:child_process'
import { expect } from 'vitest'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { DEFAULT_PROJECT_ID, type EcsEmulator, type EmulatorOptions } from '../emulator'
import { AS_PATH, elbFleet, type ElbFleetOptions, lbJson, serverId } from './elb-fleet'
import { EMULATOR_KEY, serverIds } from './fixtures'
import { type ActionRun, parseOutputFile, printedOutsideMasks, runAction, withoutMaskCommands } from './run-action'

export const POST_BUNDLE = resolve(__dirname, '../../dist/post/index.js')
/** The action takes UUIDs only: the fleet's srv-NN are renamed to these (member ids keep srv-NN). */
export const ALL_SERVERS = serverIds(30)
/** The UUID of the fleet's srv-NN. */
export const uuid = (i: number): string => ALL_SERVERS[i]
const renamed = (id: string): string => {
  const index = Array.from({ length: 30 }, (_, i) => serverId(i)).indexOf(id)
  return index < 0 ? id : ALL_SERVERS[index]
}
export const POOLS = ['pool-web', 'pool-api', 'pool-legacy']

/**
 * The elbFleet on a fast clock for real-time runs: probes every 0.2 s (rise 2, fall 2), a load
 * balancer busy 50 ms after each change, weights steering 0.2 s after a change, servers serving
 * 0.4 s after they are ACTIVE again, jobs of 0.1 s, 20 requests per second per pool.
 */
export function fastElbFleet(
  options: ElbFleetOptions & { serverBootDelayMs?: Record<string, number> } = {}
): EmulatorOptions {
  const fleet = elbFleet({
    requestsPerSecond: 20,
    busyMs: 50,
    weightApplyMs: 200,
    bootDelayMs: 400,
    jobDurationMs: 100,
    ...options
  })
  for (const lb of fleet.loadBalancers ?? []) {
    for (const pool of lb.pools) pool.healthMonitor = { delay: 0.2, timeout: 0.1, maxRetries: 2, maxRetriesDown: 2 }
  }
  const boot = Object.entries(options.serverBootDelayMs ?? {}).map(([id, ms]) => [renamed(id), ms])
  fleet.loadBalancing = { ...fleet.loadBalancing, serverBootDelayMs: Object.fromEntries(boot) }
  fleet.inventory = fleet.inventory?.map((server) => ({ ...server, id: renamed(server.id) }))
  for (const lb of fleet.loadBalancers ?? []) {
    for (const pool of lb.pools) for (const member of pool.members) member.serverId = renamed(member.serverId)
  }
  for (const group of fleet.scalingGroups ?? []) {
    group.instances = group.instances.map((i) =>
      typeof i === 'string' ? renamed(i) : { ...i, serverId: renamed(i.serverId) }
    )
  }
  return fleet
}

/** The inputs of a health-gated run of every server against the emulator. */
export function gatedInputs(emulator: EcsEmulator, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'server-ids': ALL_SERVERS.join(','),
    endpoint: emulator.url,
    'elb-endpoint': emulator.url,
    'as-endpoint': emulator.url,
    'project-id': DEFAULT_PROJECT_ID,
    'access-key-id': EMULATOR_KEY.accessKeyId,
    'secret-access-key': EMULATOR_KEY.secretAccessKey,
    'poll-interval-seconds': '0.05',
    'health-gate': 'elb',
    'max-unavailable-per-pool': '20%',
    'drain-seconds': '0.5',
    'health-timeout-seconds': '30',
    'as-group-ids': 'asg-api',
    ...extra
  }
}

/** Every member's weight, by pool and member id. */
export function weights(emulator: EcsEmulator): Record<string, Record<string, number>> {
  return Object.fromEntries(
    POOLS.map((pool) => [pool, Object.fromEntries(emulator.loadBalancing.members(pool).map((m) => [m.id, m.weight]))])
  )
}

/** Per pool and server, the weights of its members (member ids may change: standby re-creates them). */
export function serverWeights(emulator: EcsEmulator): Record<string, Record<string, number[]>> {
  return Object.fromEntries(
    POOLS.map((pool) => {
      const byServer: Record<string, number[]> = {}
      for (const m of emulator.loadBalancing.members(pool)) (byServer[m.serverId] ??= []).push(m.weight)
      return [pool, byServer]
    })
  )
}

/** Requests dropped in all pools. */
export function dropped(emulator: EcsEmulator): number {
  return Object.values(emulator.loadBalancing.traffic()).reduce((sum, pool) => sum + pool.dropped, 0)
}

/** The `STATE_*` variables a step saved to its GITHUB_STATE file (`name<<delimiter` blocks). */
export async function savedState(stateFile: string): Promise<Record<string, string>> {
  // @actions/core writes GITHUB_STATE as it writes GITHUB_OUTPUT.
  const saved = parseOutputFile(await readFile(stateFile, 'utf8').catch(() => ''))
  return Object.fromEntries(Object.entries(saved).map(([name, value]) => [`STATE_${name}`, value]))
}

/** Runs the post step as the runner would: the same INPUT_* and the main step's STATE_*. */
export async function runPost(env: Record<string, string>): Promise<{ exitCode: number | null; stdout: string }> {
  const child = spawn(process.execPath, [POST_BUNDLE], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  const exitCode = await new Promise<number | null>((done, fail) => {
    child.on('error', fail)
    child.on('close', done)
  })
  return { exitCode, stdout }
}

/**
 * Runs the action with a GITHUB_STATE file and kills it (SIGKILL) once `ready()` holds; `post()`
 * then runs the post step as the runner would, with the same inputs and the state it saved.
 * `journal` is what the journal file the state names held when the run was killed ('' if none).
 */
export async function killedRun(
  inputs: Record<string, string>,
  ready: () => boolean
): Promise<{
  run: ActionRun
  state: Record<string, string>
  journal: string
  post: () => ReturnType<typeof runPost>
}> {
  const folder = await mkdtemp(join(tmpdir(), 'elb-state-'))
  const stateFile = join(folder, 'state')
  await writeFile(stateFile, '')
  const run = await runAction(inputs, {
    env: { GITHUB_STATE: stateFile },
    keepFiles: true,
    signalWhen: { ready, signal: 'SIGKILL' }
  })
  const state = await savedState(stateFile)
  const journalPath = state.STATE_elb_journal
  const journal = journalPath ? await readFile(journalPath, 'utf8').catch(() => '') : ''
  const env: Record<string, string> = { ...state, RUNNER_TEMP: run.runnerTemp }
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value
  return { run, state, journal, post: () => runPost(env) }
}

/**
 * The emulator's secret access key, given as an input, is masked by the killed run and by the post
 * step, and shows up nowhere else: not in what either printed or wrote, not in the journal.
 */
export function expectSecretKeptOut(run: ActionRun, journal: string, postOutput: string): void {
  const secret = EMULATOR_KEY.secretAccessKey
  expect(run.stdout).toContain(`::add-mask::${secret}`)
  expect(postOutput).toContain(`::add-mask::${secret}`)
  expect(journal).toContain('"entries"')
  for (const text of [printedOutsideMasks(run), withoutMaskCommands(postOutput), journal]) {
    expect(text).not.toContain(secret)
  }
}

/** `scaling_group_status` of the fleet's group asg-api. */
export async function groupStatus(emulator: EcsEmulator): Promise<string> {
  const path = `${AS_PATH}/scaling_group/asg-api`
  return (await lbJson<{ scaling_group: { scaling_group_status: string } }>(emulator, path)).scaling_group
    .scaling_group_status
}
