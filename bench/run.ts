/**
 * `npm run bench` (`npx tsx bench/run.ts [flags]`): the action against the official SDK and a
 * per-server Nova loop, on the loopback emulator with a model of the cloud's latency, job time and
 * restart rate limit. Writes bench/RESULTS.md and bench/chart.svg. See bench/README.md.
 *
 * Flags:
 *   --quick                 sizes 1,100,1000 with 2 runs each, 9 cold-start rounds; rolling at 10, one run
 *   --sizes 1,100,…         server counts (default 1,100,1000,10000,50000)
 *   --runs N                runs per contender and size (default 3)
 *   --contenders a,b        any of action,sdk,nova (default all three)
 *   --latency-ms N          per request (default 40)
 *   --job-ms N              job duration (default 3000)
 *   --limit-servers N       servers per window (default 1000)
 *   --window-ms N           sliding window (default 1000)
 *   --cold-start-runs N     interleaved cold-start rounds (default 15; 0 skips them)
 *   --max-run-minutes N     skip a contender at a size where one run is estimated to take longer (default 10)
 *   --cases a,b             plain (the three contenders) and/or rolling (health-gated, behind ELB); default both
 *   --rolling-sizes 10,…    server counts of the rolling case (default 10,100,1000)
 *   --out DIR               where RESULTS.md, chart.svg and results.json go (default bench/)
 *   --render FILE           only write RESULTS.md and chart.svg again from a results.json
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, release, tmpdir, totalmem, type } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { gzipSync } from 'node:zlib'
import { format, resolveConfig } from 'prettier'
import { BUNDLE } from '../__tests__/support/run-action'
import { measureColdStarts } from './coldstart'
import {
  CONTENDERS,
  type ContenderName,
  type RunContext,
  SDK_PEER_DIR,
  estimateMs,
  runContender,
  serverIds
} from './contenders'
import { memoryProbe } from './child'
import {
  DEFAULT_MODEL,
  DEFAULT_ROLLING_MODEL,
  type Model,
  type RollingModel,
  describeModel,
  describeRollingModel,
  lowerBoundMs,
  rollingLowerBoundMs,
  rollingShape
} from './model'
import { type BenchInfo, type Cell, formatMs, renderMarkdown, renderSvg } from './report'
import type { RollingResults } from './report-rolling'
import { type RollingCell, type RollingRun, runRolling } from './rolling'
import { rotate } from './stats'

const ROOT = resolve(__dirname, '..')

class UsageError extends Error {}

const CASES = ['plain', 'rolling'] as const
type CaseName = (typeof CASES)[number]

interface Settings {
  cases: CaseName[]
  rollingSizes: number[]
  rollingRuns: number
  rollingModel: RollingModel
  sizes: number[]
  runs: number
  contenders: ContenderName[]
  model: Model
  coldStartRuns: number
  maxRunMinutes: number
  out: string
  render: string | undefined
}

function positive(flag: string, value: string | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback
  const number = Number(value)
  if (!Number.isFinite(number) || number < 0 || (!allowZero && number === 0)) {
    throw new UsageError(
      `${flag} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${JSON.stringify(value)}`
    )
  }
  return number
}

/** Distinct whole numbers >= `least`, ascending. */
function parseSizes(flag: string, text: string, least: number): number[] {
  const sizes = text.split(',').map((s) => {
    const n = Number(s.replace(/_/g, '').trim())
    if (!Number.isInteger(n) || n < least)
      throw new UsageError(`${flag} takes whole numbers >= ${least}, got ${JSON.stringify(s)}`)
    return n
  })
  return [...new Set(sizes)].sort((a, b) => a - b)
}

function parseSettings(argv: string[]): Settings {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      quick: { type: 'boolean', default: false },
      sizes: { type: 'string' },
      runs: { type: 'string' },
      contenders: { type: 'string' },
      'latency-ms': { type: 'string' },
      'job-ms': { type: 'string' },
      'limit-servers': { type: 'string' },
      'window-ms': { type: 'string' },
      'cold-start-runs': { type: 'string' },
      'max-run-minutes': { type: 'string' },
      cases: { type: 'string' },
      'rolling-sizes': { type: 'string' },
      out: { type: 'string' },
      render: { type: 'string' }
    }
  })
  const quick = values.quick
  const sizes = parseSizes('--sizes', values.sizes ?? (quick ? '1,100,1000' : '1,100,1000,10000,50000'), 1)
  const rollingSizes = parseSizes('--rolling-sizes', values['rolling-sizes'] ?? (quick ? '10' : '10,100,1000'), 2)
  const cases = (values.cases ?? CASES.join(',')).split(',').map((s) => {
    const name = s.trim()
    if (!(CASES as readonly string[]).includes(name)) {
      throw new UsageError(`--cases takes ${CASES.join(', ')}; got ${JSON.stringify(name)}`)
    }
    return name as CaseName
  })
  const contenders = (values.contenders ?? CONTENDERS.join(',')).split(',').map((s) => {
    const name = s.trim()
    if (!(CONTENDERS as readonly string[]).includes(name)) {
      throw new UsageError(`--contenders takes ${CONTENDERS.join(', ')}; got ${JSON.stringify(name)}`)
    }
    return name as ContenderName
  })
  const limitServers = positive('--limit-servers', values['limit-servers'], DEFAULT_MODEL.limitServers)
  if (!Number.isInteger(limitServers)) throw new UsageError('--limit-servers must be a whole number')
  const runs = Math.round(positive('--runs', values.runs, quick ? 2 : 3))
  const latencyMs = positive('--latency-ms', values['latency-ms'], DEFAULT_MODEL.latencyMs, true)
  const jobMs = positive('--job-ms', values['job-ms'], DEFAULT_MODEL.jobMs, true)
  return {
    cases: [...new Set(cases)],
    rollingSizes,
    rollingRuns: quick && values.runs === undefined ? 1 : runs,
    rollingModel: { ...DEFAULT_ROLLING_MODEL, latencyMs, jobMs },
    sizes,
    runs,
    contenders: [...new Set(contenders)],
    model: {
      latencyMs,
      jobMs,
      limitServers,
      windowMs: positive('--window-ms', values['window-ms'], DEFAULT_MODEL.windowMs)
    },
    coldStartRuns: Math.round(positive('--cold-start-runs', values['cold-start-runs'], quick ? 9 : 15, true)),
    maxRunMinutes: positive('--max-run-minutes', values['max-run-minutes'], 10),
    out: resolve(values.out ?? join(ROOT, 'bench')),
    render: values.render === undefined ? undefined : resolve(values.render)
  }
}

function log(message: string): void {
  process.stderr.write(`${message}\n`)
}

/** Installs the SDK peer from its lock file unless it already is. */
function ensureSdkPeer(): void {
  if (existsSync(join(SDK_PEER_DIR, 'node_modules', '@huaweicloud', 'huaweicloud-sdk-ecs'))) return
  log('Installing the SDK peer: npm ci --prefix bench/sdk-peer …')
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  const result = spawnSync(npm, ['ci', '--prefix', SDK_PEER_DIR, '--no-audit', '--no-fund'], {
    stdio: ['ignore', 'inherit', 'inherit'],
    shell: process.platform === 'win32'
  })
  if (result.status !== 0)
    throw new Error(`npm ci --prefix bench/sdk-peer failed (${result.status ?? result.error?.message})`)
}

/** Bundles bench/nova-client.ts with the project's ncc into `folder`; returns the script. */
function bundleNovaClient(folder: string): string {
  const cli = require.resolve('@vercel/ncc/dist/ncc/cli.js')
  execFileSync(
    process.execPath,
    [cli, 'build', join(ROOT, 'bench', 'nova-client.ts'), '-o', folder, '--quiet', '--transpile-only'],
    {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit']
    }
  )
  return join(folder, 'index.js')
}

/** What the bench measured: the copy of dist/index.js taken at start. */
function bundleInfo(snapshot: string): BenchInfo['bundle'] {
  const bytes = readFileSync(snapshot)
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  let commit = 'unknown'
  let matchesCommit: boolean | undefined
  try {
    // Read-only: the commit, and whether the bundle on disk is the committed one (no index or object writes).
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()
    const committed = execFileSync('git', ['rev-parse', 'HEAD:dist/index.js'], { cwd: ROOT, encoding: 'utf8' }).trim()
    const onDisk = execFileSync('git', ['hash-object', snapshot], { cwd: ROOT, encoding: 'utf8' }).trim()
    matchesCommit = committed === onDisk
  } catch {
    matchesCommit = undefined
  }
  return {
    bytes: bytes.length,
    gzipBytes: gzipSync(bytes, { level: 9 }).length,
    sha256,
    commit,
    matchesCommit,
    changedDuringRun: sha256 !== createHash('sha256').update(readFileSync(BUNDLE)).digest('hex')
  }
}

function machineInfo(): BenchInfo['machine'] {
  const cpu = cpus()
  return {
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: totalmem() / 1024 ** 3,
    os: `${type()} ${release()} (${process.arch})`,
    node: process.version
  }
}

/** The raw results, from which RESULTS.md and chart.svg can be drawn again (`--render`). */
interface Stored {
  info: Omit<BenchInfo, 'date'> & { date: string }
  cells: Cell[]
  /** The health-gated rolling case, when it was run (possibly by another command than the plain one). */
  rolling?: { info: Omit<RollingResults['info'], 'date'> & { date: string }; cells: RollingCell[] }
}

interface Results {
  info: BenchInfo
  cells: Cell[]
  rolling: RollingResults | undefined
}

function fromStored(stored: Stored): Results {
  const { rolling } = stored
  return {
    info: { ...stored.info, date: new Date(stored.info.date) },
    cells: stored.cells,
    rolling: rolling && { info: { ...rolling.info, date: new Date(rolling.info.date) }, cells: rolling.cells }
  }
}

function toStored({ info, cells, rolling }: Results): Stored {
  return {
    info: { ...info, date: info.date.toISOString() },
    cells,
    ...(rolling && {
      rolling: { info: { ...rolling.info, date: rolling.info.date.toISOString() }, cells: rolling.cells }
    })
  }
}

/** The results.json already in `out`, if any: a run of only some cases keeps the others from it. */
function previousResults(out: string): Results | undefined {
  const file = join(out, 'results.json')
  if (!existsSync(file)) return undefined
  return fromStored(JSON.parse(readFileSync(file, 'utf8')) as Stored)
}

/** Writes `text` formatted as the project's Prettier config says, so `npm run format:check` stays green. */
async function writeFormatted(file: string, text: string, parser: 'markdown' | 'json'): Promise<void> {
  const options = (await resolveConfig(file)) ?? {}
  writeFileSync(file, await format(text, { ...options, parser }))
}

async function writeOutputs(out: string, results: Results, raw: boolean): Promise<void> {
  mkdirSync(out, { recursive: true })
  const written = [join(out, 'RESULTS.md'), join(out, 'chart.svg')]
  await writeFormatted(written[0], renderMarkdown(results.cells, results.info, results.rolling), 'markdown')
  writeFileSync(written[1], renderSvg(results.cells, results.info))
  if (raw) {
    written.push(join(out, 'results.json'))
    await writeFormatted(written[2], JSON.stringify(toStored(results)), 'json')
  }
  log(`Wrote ${written.map((file) => relative(process.cwd(), file)).join(', ')}.`)
}

function summaryLine(result: Awaited<ReturnType<typeof runContender>>): string {
  return (
    `${formatMs(result.wallMs)}, ${result.requests} requests, ${result.throttled} throttled, ` +
    `${result.exactlyOnce ? 'exactly once' : `NOT exactly once (${result.notRestarted} missed, ${result.restartedTwiceOrMore} repeated)`}, ` +
    (result.completed ? 'completed' : `not completed: ${result.outcome}`) +
    (result.notes.length > 0 ? ` [${result.notes.join('; ')}]` : '')
  )
}

function rollingLine(run: RollingRun, boundMs: number): string {
  const phases = (['drainMs', 'jobMs', 'healthyMs', 'restoreMs'] as const).map((phase) =>
    formatMs(run.waves.reduce((sum, w) => sum + w[phase], 0))
  )
  return (
    `${formatMs(run.wallMs)} (×${(run.wallMs / boundMs).toFixed(3)}), ${run.elbCalls} ELB + ${run.asCalls} AS calls, ` +
    `${run.dropped} of ${run.sent} requests dropped, ${run.waves.length} waves (drain/restart/healthy/restore ${phases.join('/')}), ` +
    `${run.exactlyOnce ? 'exactly once' : 'NOT exactly once'}, ${run.restored ? 'weights restored' : 'NOT restored'}, ` +
    (run.completed ? 'completed' : `not completed: ${run.outcome}`) +
    (run.notes.length > 0 ? ` [${run.notes.join('; ')}]` : '')
  )
}

/** The three contenders at every size, interleaved, after the cold starts. */
async function runPlainCase(
  settings: Settings,
  context: RunContext
): Promise<{ cells: Cell[]; coldStarts: BenchInfo['coldStarts'] }> {
  const { model, scratch } = context
  const coldStarts =
    settings.coldStartRuns > 0
      ? await measureColdStarts(settings.coldStartRuns, scratch, {
          action: context.actionScript,
          nova: context.novaScript
        })
      : []
  for (const cold of coldStarts) log(`Cold start, ${cold.name}: ${Math.round(cold.medianMs)} ms median`)
  const cells: Cell[] = []
  for (const n of settings.sizes) {
    const ids = serverIds(n)
    const idsFile = join(scratch, `ids-${n}.txt`)
    writeFileSync(idsFile, ids.join('\n'))
    const active: ContenderName[] = []
    for (const contender of settings.contenders) {
      const cell: Cell = { contender, n, runs: [] }
      const minutes = estimateMs(contender, n, model) / 60_000
      if (minutes > settings.maxRunMinutes) {
        cell.skipped = `not run: would take ~${Math.ceil(minutes)} min per run (over --max-run-minutes ${settings.maxRunMinutes})`
        log(`N=${n} ${contender}: ${cell.skipped}`)
      } else {
        active.push(contender)
      }
      cells.push(cell)
    }
    log(`N=${n}: lower bound ${formatMs(lowerBoundMs(n, model))}`)
    for (let run = 0; run < settings.runs; run++) {
      for (const contender of rotate(active, run)) {
        const result = await runContender(contender, ids, idsFile, context)
        cells.find((c) => c.contender === contender && c.n === n)?.runs.push(result)
        log(`  N=${n} run ${run + 1}/${settings.runs} ${contender}: ${summaryLine(result)}`)
      }
    }
  }
  return { cells, coldStarts }
}

/** The health-gated rolling restart at every rolling size. */
async function runRollingCase(settings: Settings, context: RunContext): Promise<RollingCell[]> {
  const model = settings.rollingModel
  log(`Rolling model: ${describeRollingModel(model)}`)
  const cells: RollingCell[] = []
  for (const n of settings.rollingSizes) {
    const cell: RollingCell = { n, runs: [] }
    cells.push(cell)
    const shape = rollingShape(n, model)
    const bound = rollingLowerBoundMs(n, model)
    log(
      `Rolling N=${n}: ${shape.pools} pools of up to ${shape.poolSize}, ${shape.waves} waves, lower bound ${formatMs(bound)}`
    )
    for (let run = 0; run < settings.rollingRuns; run++) {
      const result = await runRolling(serverIds(n), model, context)
      cell.runs.push(result)
      log(`  rolling N=${n} run ${run + 1}/${settings.rollingRuns}: ${rollingLine(result, bound)}`)
    }
  }
  return cells
}

async function main(): Promise<void> {
  let settings: Settings
  try {
    settings = parseSettings(process.argv.slice(2))
  } catch (error) {
    if (!(error instanceof UsageError || (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')))
      throw error
    log(`bench: ${(error as Error).message}`)
    process.exitCode = 2
    return
  }
  if (settings.render !== undefined) {
    const stored = JSON.parse(readFileSync(settings.render, 'utf8')) as Stored
    await writeOutputs(settings.out, fromStored(stored), false)
    return
  }
  const started = Date.now()
  const { model, cases } = settings
  const plain = cases.includes('plain')
  const previous = plain && cases.includes('rolling') ? undefined : previousResults(settings.out)
  if (plain) log(`Model: ${describeModel(model)}`)
  if (plain && settings.contenders.includes('sdk')) ensureSdkPeer()
  const scratch = mkdtempSync(join(tmpdir(), 'ecs-bench-'))
  try {
    // dist/index.js may be rebuilt while the bench runs: every run uses this copy.
    const actionScript = join(scratch, 'action', 'index.js')
    mkdirSync(join(scratch, 'action'))
    copyFileSync(BUNDLE, actionScript)
    mkdirSync(join(scratch, 'sdk-home'))
    const measureMemory = memoryProbe(scratch)
    let novaScript = ''
    if (plain) {
      log('Bundling the Nova client …')
      novaScript = bundleNovaClient(join(scratch, 'nova'))
    }
    const context: RunContext = { model, scratch, novaScript, actionScript, measureMemory }
    const command = `npx tsx bench/run.ts${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`
    const bundle = bundleInfo(actionScript)
    const ran = plain ? await runPlainCase(settings, context) : { cells: [], coldStarts: [] }
    const plainDone = Date.now()
    const rollingCells = cases.includes('rolling') ? await runRollingCase(settings, context) : undefined
    const fresh: BenchInfo = {
      date: new Date(started),
      command,
      machine: machineInfo(),
      bundle,
      model,
      runsPerCell: settings.runs,
      sizes: settings.sizes,
      contenders: settings.contenders,
      coldStarts: ran.coldStarts,
      coldStartRounds: settings.coldStartRuns,
      memoryMeasured: measureMemory,
      sdkWroteHome: existsSync(join(scratch, 'sdk-home', '.huaweicloud')),
      durationMs: plainDone - started
    }
    // A run of the rolling case alone keeps the plain results (and their info) of the last full run.
    const info = plain ? fresh : (previous?.info ?? fresh)
    const rolling: RollingResults | undefined =
      rollingCells === undefined
        ? previous?.rolling
        : {
            info: {
              date: new Date(plainDone),
              command,
              bundle,
              durationMs: Date.now() - plainDone,
              model: settings.rollingModel,
              runsPerCell: settings.rollingRuns
            },
            cells: rollingCells
          }
    await writeOutputs(settings.out, { info, cells: plain ? ran.cells : (previous?.cells ?? []), rolling }, true)
    log(`Done in ${formatMs(Date.now() - started)}.`)
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
}

main().catch((error: unknown) => {
  log(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
  process.exitCode = 1
})
