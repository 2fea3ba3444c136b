import { describe, expect, it } from 'vitest'
import type { RunResult } from '../../bench/contenders'
import { DEFAULT_MODEL, DEFAULT_ROLLING_MODEL, lowerBoundMs, rollingLowerBoundMs } from '../../bench/model'
import { type BenchInfo, type Cell, renderTargets } from '../../bench/report'
import type { RollingResults } from '../../bench/report-rolling'
import type { RollingRun } from '../../bench/rolling'

// The bench's verdict on the targets, from made-up runs on the default model.

function runOf(contender: RunResult['contender'], n: number, change: Partial<RunResult> = {}): RunResult {
  const jobs = Math.ceil(n / 1000)
  return {
    contender,
    n,
    wallMs: 1.05 * lowerBoundMs(n, DEFAULT_MODEL),
    requests: 4 * jobs,
    byRoute: { submit: jobs, job: 3 * jobs },
    throttled: 0,
    exactlyOnce: true,
    notRestarted: 0,
    restartedTwiceOrMore: 0,
    errors: 0,
    completed: true,
    outcome: 'succeeded',
    maxRssKb: 120 * 1024,
    notes: [],
    ...change
  }
}

const info = (bundleBytes: number, actionColdMs: number): BenchInfo => ({
  date: new Date('2026-11-27T00:00:00Z'),
  command: 'test',
  machine: { cpu: 'cpu', cores: 2, memoryGiB: 1, os: 'os', node: 'v20' },
  bundle: { bytes: bundleBytes, gzipBytes: 1, sha256: '0', commit: 'c', matchesCommit: true, changedDuringRun: false },
  model: DEFAULT_MODEL,
  runsPerCell: 1,
  sizes: [1000, 50_000],
  contenders: ['action', 'sdk'],
  coldStarts: [
    { name: 'node -e 0', what: '', medianMs: 20, p25Ms: 20, p75Ms: 20, runs: 1, unexpected: 0 },
    { name: 'action, bad input', what: '', medianMs: actionColdMs, p25Ms: 0, p75Ms: 0, runs: 1, unexpected: 0 }
  ],
  coldStartRounds: 1,
  memoryMeasured: true,
  sdkWroteHome: false,
  durationMs: 1
})

const cell = (run: RunResult): Cell => ({ contender: run.contender, n: run.n, runs: [run] })

function rollingRun(n: number, change: Partial<RollingRun> = {}): RollingRun {
  return {
    n,
    wallMs: 1.1 * rollingLowerBoundMs(n, DEFAULT_ROLLING_MODEL),
    elbCalls: 80,
    asCalls: 15,
    byRoute: {},
    sent: 1000,
    dropped: 0,
    exactlyOnce: true,
    restored: true,
    completed: true,
    outcome: 'succeeded',
    waves: [],
    notes: [],
    ...change
  }
}

const rolling = (...runs: RollingRun[]): RollingResults => ({
  info: { ...info(1, 1), model: DEFAULT_ROLLING_MODEL, runsPerCell: 1 },
  cells: runs.map((run) => ({ n: run.n, runs: [run] }))
})

/** Each target's verdict, by the start of its text. */
function verdicts(lines: string[]): Record<string, string> {
  return Object.fromEntries(
    lines.slice(2).map((line) => {
      const [target, , met] = line.split(' | ').map((part) => part.replace(/^\| |\s*\|$/g, ''))
      return [target.split(' ').slice(0, 3).join(' '), met]
    })
  )
}

describe('renderTargets', () => {
  it('says yes to every target the runs meet', () => {
    const cells = [1000, 50_000].flatMap((n) => [
      cell(runOf('action', n)),
      cell(runOf('sdk', n, { wallMs: 3 * lowerBoundMs(n, DEFAULT_MODEL) }))
    ])
    const lines = renderTargets(cells, info(1_400_000, 75), rolling(rollingRun(10), rollingRun(1000)))
    expect(Object.values(verdicts(lines))).toEqual(Array<string>(10).fill('yes'))
    expect(lines.join('\n')).toContain('1,000: ×1.05; 50,000: ×1.05')
    expect(lines.join('\n')).toContain('10: 66.9 s / 60.8 s = ×1.100; 1,000: 66.9 s / 60.8 s = ×1.100')
    expect(lines.join('\n')).toContain('10: 0 dropped of 1,000; 1,000: 0 dropped of 1,000')
    expect(lines.join('\n')).toContain('126 MB (120 MiB), one run')
  })

  it('says no to each target a run misses, and "not measured" where nothing was run', () => {
    const n = 50_000
    const bound = lowerBoundMs(n, DEFAULT_MODEL)
    const cells = [
      cell(
        runOf('action', n, {
          wallMs: 1.3 * bound,
          byRoute: { submit: 51, job: 201 },
          throttled: 1,
          maxRssKb: 150_000
        })
      ),
      cell(runOf('sdk', n, { wallMs: 1.2 * bound }))
    ]
    const gated = rolling(
      rollingRun(10),
      rollingRun(1000, { wallMs: 1.16 * rollingLowerBoundMs(1000, DEFAULT_ROLLING_MODEL), dropped: 3 })
    )
    expect(verdicts(renderTargets(cells, info(1_500_000, 120), gated))).toEqual({
      'Wall time within': '**no**',
      'Never slower than': '**no**',
      'At most ceil(N': '**no**',
      'At most one': '**no**',
      'Zero throttled calls': '**no**',
      'Cold start under': '**no**',
      'Bundle under 1.5': '**no**',
      'Peak memory at': '**no**',
      'Health-gated rolling: wall': '**no**',
      'Health-gated rolling: no': '**no**'
    })
    const nothing = verdicts(renderTargets([], { ...info(1, 30), coldStarts: [] }))
    expect(nothing['Wall time within']).toBe('—')
    expect(nothing['Cold start under']).toBe('—')
    expect(nothing['Peak memory at']).toBe('—')
    expect(nothing['Health-gated rolling: wall']).toBe('—')
    expect(nothing['Health-gated rolling: no']).toBe('—')
  })

  it('holds the health-gated rolling restart to 1.15× its bound, and to a clean run, each on its own', () => {
    const bound = rollingLowerBoundMs(100, DEFAULT_ROLLING_MODEL)
    const of = (...runs: RollingRun[]) => {
      const all = verdicts(renderTargets([], info(1, 30), rolling(...runs)))
      return [all['Health-gated rolling: wall'], all['Health-gated rolling: no']]
    }
    expect(of(rollingRun(100, { wallMs: 1.149 * bound }))).toEqual(['yes', 'yes'])
    expect(of(rollingRun(100, { wallMs: 1.151 * bound }))).toEqual(['**no**', 'yes'])
    expect(of(rollingRun(100, { restored: false }))).toEqual(['yes', '**no**'])
    expect(of(rollingRun(100, { exactlyOnce: false }))).toEqual(['yes', '**no**'])
    expect(of(rollingRun(100, { completed: false, outcome: 'failed' }))).toEqual(['yes', '**no**'])
    expect(of(rollingRun(100, { dropped: 1 }))).toEqual(['yes', '**no**'])
  })
})
