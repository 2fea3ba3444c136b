/**
 * `npm run bench` (`npx tsx bench/run.ts [flags]`): the action against the official SDK and a
 * per-server Nova loop, on the loopback emulator with a model of the cloud's latency, job time and
 * restart rate limit. Writes bench/RESULTS.md and bench/chart.svg. See bench/README.md.
 *
 * Flags:
 *   --quick                 sizes 1,100,1000 with 2 runs each, 9 cold-start rounds
 *   --sizes 1,100,…         server counts (default 1,100,1000,10000,50000)
 *   --runs N                runs per contender and size (default 3)
 *   --contenders a,b        any of action,sdk,nova (default all three)
 *   --latency-ms N          per request (default 40)
 *   --job-ms N              job duration (default 3000)
 *   --limit-servers N       servers per window (default 1000)
 *   --window-ms N           sliding window (default 1000)
 *   --cold-start-runs N     interleaved cold-start rounds (default 15; 0 skips them)
 *   --max-run-minutes N     skip a contender at a size where one run is estimated to take longer (default 10)
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
import { CONTENDERS, type ContenderName, type RunContext, SDK_PEER_DIR, estimateMs, runContender } from './contenders'
import { memoryProbe } from './child'
import { DEFAULT_MODEL, type Model, describeModel, lowerBoundMs } from './model'
import { type BenchInfo, type Cell, formatMs, renderMarkdown, renderSvg } from './report'
import { rotate } from './stats'

const ROOT = resolve(__dirname, '..')

class UsageError extends Error {}

interface Settings {
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
      out: { type: 'string' },
      render: { type: 'string' }
    }
  })
  const quick = values.quick
  const sizes = (values.sizes ?? (quick ? '1,100,1000' : '1,100,1000,10000,50000')).split(',').map((s) => {
    const n = Number(s.replace(/_/g, '').trim())
    if (!Number.isInteger(n) || n < 1)
      throw new UsageError(`--sizes takes whole numbers >= 1, got ${JSON.stringify(s)}`)
    return n
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
  return {
    sizes: [...new Set(sizes)].sort((a, b) => a - b),
    runs: Math.round(positive('--runs', values.runs, quick ? 2 : 3)),
    contenders: [...new Set(contenders)],
    model: {
      latencyMs: positive('--latency-ms', values['latency-ms'], DEFAULT_MODEL.latencyMs, true),
      jobMs: positive('--job-ms', values['job-ms'], DEFAULT_MODEL.jobMs, true),
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

/** UUID-shaped, distinct, stable server IDs. */
function serverIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`)
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
}

/** Writes `text` formatted as the project's Prettier config says, so `npm run format:check` stays green. */
async function writeFormatted(file: string, text: string, parser: 'markdown' | 'json'): Promise<void> {
  const options = (await resolveConfig(file)) ?? {}
  writeFileSync(file, await format(text, { ...options, parser }))
}

async function writeOutputs(out: string, cells: Cell[], info: BenchInfo, raw: boolean): Promise<void> {
  mkdirSync(out, { recursive: true })
  const written = [join(out, 'RESULTS.md'), join(out, 'chart.svg')]
  await writeFormatted(written[0], renderMarkdown(cells, info), 'markdown')
  writeFileSync(written[1], renderSvg(cells, info))
  if (raw) {
    const stored: Stored = { info: { ...info, date: info.date.toISOString() }, cells }
    written.push(join(out, 'results.json'))
    await writeFormatted(written[2], JSON.stringify(stored), 'json')
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
    await writeOutputs(settings.out, stored.cells, { ...stored.info, date: new Date(stored.info.date) }, false)
    return
  }
  const started = Date.now()
  const { model } = settings
  log(`Model: ${describeModel(model)}`)
  if (settings.contenders.includes('sdk')) ensureSdkPeer()
  const scratch = mkdtempSync(join(tmpdir(), 'ecs-bench-'))
  try {
    log('Bundling the Nova client …')
    const novaScript = bundleNovaClient(join(scratch, 'nova'))
    // dist/index.js may be rebuilt while the bench runs: every run uses this copy.
    const actionScript = join(scratch, 'action', 'index.js')
    mkdirSync(join(scratch, 'action'))
    copyFileSync(BUNDLE, actionScript)
    mkdirSync(join(scratch, 'sdk-home'))
    const measureMemory = memoryProbe(scratch)
    const context: RunContext = { model, scratch, novaScript, actionScript, measureMemory }

    const coldStarts =
      settings.coldStartRuns > 0
        ? await measureColdStarts(settings.coldStartRuns, scratch, { action: actionScript, nova: novaScript })
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

    const info: BenchInfo = {
      date: new Date(started),
      command: `npx tsx bench/run.ts${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`,
      machine: machineInfo(),
      bundle: bundleInfo(actionScript),
      model,
      runsPerCell: settings.runs,
      sizes: settings.sizes,
      contenders: settings.contenders,
      coldStarts,
      coldStartRounds: settings.coldStartRuns,
      memoryMeasured: measureMemory,
      sdkWroteHome: existsSync(join(scratch, 'sdk-home', '.huaweicloud')),
      durationMs: Date.now() - started
    }
    await writeOutputs(settings.out, cells, info, true)
    log(`Done in ${formatMs(Date.now() - started)}.`)
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
}

main().catch((error: unknown) => {
  log(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
  process.exitCode = 1
})
