/** Turns the runs into bench/RESULTS.md and the hand-written bench/chart.svg. */
import type { ColdStartResult } from './coldstart'
import { BATCH_SIZE, CONTENDER_LABELS, type ContenderName, POLL_MS, type RunResult } from './contenders'
import { type Model, describeModel, lowerBoundMs, serversPerMinute } from './model'
import { escapeCell, formatCount, formatMs, mib, thousands, yesNo } from './format'
import { type RollingResults, renderRollingSection, rollingTargetRows } from './report-rolling'
import { median } from './stats'

export { formatMs } from './format'

export interface Cell {
  contender: ContenderName
  n: number
  runs: RunResult[]
  /** Why it was not run, e.g. "not run: would take ~7 min per run". */
  skipped?: string
}

export interface BenchInfo {
  date: Date
  command: string
  machine: { cpu: string; cores: number; memoryGiB: number; os: string; node: string }
  bundle: {
    bytes: number
    gzipBytes: number
    sha256: string
    commit: string
    matchesCommit: boolean | undefined
    /** dist/index.js was rebuilt while the bench ran (the runs all used the copy taken at start). */
    changedDuringRun: boolean
  }
  model: Model
  runsPerCell: number
  sizes: number[]
  contenders: ContenderName[]
  coldStarts: ColdStartResult[]
  coldStartRounds: number
  memoryMeasured: boolean
  sdkWroteHome: boolean
  durationMs: number
}

export interface CellSummary {
  wallMs: number
  minMs: number
  maxMs: number
  requests: number
  throttled: number
  exactlyOnceRuns: number
  completedRuns: number
  errors: number
  maxRssKb: number | undefined
  ratio: number
}

export function summarize(cell: Cell, model: Model): CellSummary | undefined {
  const { runs } = cell
  if (runs.length === 0) return undefined
  const walls = runs.map((r) => r.wallMs)
  const rss = runs.map((r) => r.maxRssKb).filter((v): v is number => v !== undefined)
  const wallMs = median(walls)
  return {
    wallMs,
    minMs: Math.min(...walls),
    maxMs: Math.max(...walls),
    requests: median(runs.map((r) => r.requests)),
    throttled: median(runs.map((r) => r.throttled)),
    exactlyOnceRuns: runs.filter((r) => r.exactlyOnce).length,
    completedRuns: runs.filter((r) => r.completed).length,
    errors: median(runs.map((r) => r.errors)),
    maxRssKb: rss.length > 0 ? Math.max(...rss) : undefined,
    ratio: wallMs / lowerBoundMs(cell.n, model)
  }
}

function uniqueNotes(cell: Cell): string[] {
  const notes = new Set<string>()
  for (const run of cell.runs) {
    for (const note of run.notes) notes.add(note.replace(/\.$/, ''))
    if (!run.completed && run.outcome) notes.add(run.outcome.replace(/\.$/, ''))
    if (!run.exactlyOnce) {
      notes.add(
        `${thousands(run.notRestarted)} not restarted, ${thousands(run.restartedTwiceOrMore)} restarted twice or more`
      )
    }
  }
  return [...notes]
}

/** The targets the action is held to (issues 5 and 14), each with what the runs measured. */
export function renderTargets(cells: Cell[], info: BenchInfo, rolling?: RollingResults): string[] {
  const { model } = info
  const ran = (contender: ContenderName): Map<number, Cell> =>
    new Map(cells.filter((c) => c.contender === contender && c.runs.length > 0).map((c) => [c.n, c]))
  const action = ran('action')
  const sdk = ran('sdk')
  const rows: [target: string, measured: string, met: boolean | undefined][] = []
  const sizes = [...action.keys()].sort((a, b) => a - b)
  const perSize = (
    describe: (cell: Cell, n: number) => [string, boolean] | undefined
  ): [string, boolean | undefined] => {
    const parts = sizes.flatMap((n) => {
      const part = describe(action.get(n) as Cell, n)
      return part === undefined ? [] : [{ n, text: part[0], met: part[1] }]
    })
    if (parts.length === 0) return ['not measured', undefined]
    return [parts.map((p) => `${thousands(p.n)}: ${p.text}`).join('; '), parts.every((p) => p.met)]
  }
  const medianOf = (cell: Cell, pick: (run: RunResult) => number): number => median(cell.runs.map(pick))
  rows.push([
    'Wall time within 1.2× the lower bound at every N',
    ...perSize((cell) => {
      const ratio = (summarize(cell, model) as CellSummary).ratio
      return [`×${ratio.toFixed(2)}`, ratio <= 1.2]
    })
  ])
  rows.push([
    'Never slower than the official SDK',
    ...perSize((cell, n) => {
      const other = sdk.get(n)
      if (other === undefined) return undefined
      const mine = medianOf(cell, (r) => r.wallMs)
      const theirs = medianOf(other, (r) => r.wallMs)
      return [`${formatMs(mine)} vs ${formatMs(theirs)}`, mine <= theirs]
    })
  ])
  rows.push([
    `At most ceil(N / ${BATCH_SIZE}) restart calls`,
    ...perSize((cell, n) => {
      const submits = Math.max(...cell.runs.map((r) => r.byRoute.submit ?? 0))
      return [`${thousands(submits)} of ${thousands(Math.ceil(n / BATCH_SIZE))}`, submits <= Math.ceil(n / BATCH_SIZE)]
    })
  ])
  const pollsPerJob = Math.ceil(model.jobMs / POLL_MS) + 1
  rows.push([
    `At most one status poll per job per ${POLL_MS / 1000} s interval (≤ ${pollsPerJob} per ${model.jobMs / 1000} s job)`,
    ...perSize((cell, n) => {
      const jobs = Math.ceil(n / BATCH_SIZE)
      const polls = Math.max(...cell.runs.map((r) => r.byRoute.job ?? 0))
      return [`${thousands(polls)} for ${thousands(jobs)} job${jobs === 1 ? '' : 's'}`, polls <= jobs * pollsPerJob]
    })
  ])
  rows.push([
    'Zero throttled calls',
    ...perSize((cell) => {
      const throttled = cell.runs.reduce((sum, r) => sum + r.throttled, 0)
      return [String(throttled), throttled === 0]
    })
  ])
  const baseline = info.coldStarts.find((c) => c.name === 'node -e 0')
  const actionCold = info.coldStarts.find((c) => c.name === 'action, bad input')
  const coldExtra = baseline && actionCold ? actionCold.medianMs - baseline.medianMs : undefined
  rows.push([
    'Cold start under 100 ms over bare Node',
    coldExtra === undefined ? 'not measured' : `+${Math.round(coldExtra)} ms`,
    coldExtra === undefined ? undefined : coldExtra < 100
  ])
  rows.push(['Bundle under 1.5 MB', `${(info.bundle.bytes / 1e6).toFixed(2)} MB`, info.bundle.bytes < 1_500_000])
  const rss50k =
    action
      .get(50_000)
      ?.runs.map((r) => r.maxRssKb)
      .filter((kb): kb is number => kb !== undefined) ?? []
  const peakBytes = rss50k.length > 0 ? Math.max(...rss50k) * 1024 : undefined
  rows.push([
    'Peak memory at N = 50,000 under 150 MB',
    peakBytes === undefined
      ? 'not measured'
      : `${(peakBytes / 1e6).toFixed(0)} MB (${mib(peakBytes / 1024)}), ${rss50k.length === 1 ? 'one run' : `largest of ${rss50k.length} runs`}`,
    peakBytes === undefined ? undefined : peakBytes < 150e6
  ])
  rows.push(...rollingTargetRows(rolling))
  return [
    '| Target | Measured (this action) | Met |',
    '| --- | --- | :-: |',
    ...rows.map(
      ([target, measured, met]) => `| ${target} | ${measured} | ${met === undefined ? '—' : met ? 'yes' : '**no**'} |`
    )
  ]
}

export function renderMarkdown(cells: Cell[], info: BenchInfo, rolling?: RollingResults): string {
  const { model } = info
  const lines: string[] = []
  const push = (...more: string[]): void => void lines.push(...more)
  push(
    '# Benchmark results',
    '',
    `Generated by \`${info.command}\` on ${info.date.toISOString().replace(/\.\d+Z$/, 'Z')}, in ${formatMs(info.durationMs)}. ` +
      'Every number comes from this run; rerun the bench to refresh them (see [README.md](README.md)).',
    '',
    '## Machine',
    '',
    `- CPU: ${info.machine.cpu}, ${info.machine.cores} cores`,
    `- Memory: ${info.machine.memoryGiB.toFixed(1)} GiB`,
    `- OS: ${info.machine.os}`,
    `- Node: ${info.machine.node}`,
    `- Bundle measured: \`dist/index.js\`, ${thousands(info.bundle.bytes)} bytes (${thousands(info.bundle.gzipBytes)} gzipped), ` +
      `sha256 \`${info.bundle.sha256.slice(0, 12)}\`, ` +
      (info.bundle.matchesCommit === undefined
        ? `commit \`${info.bundle.commit}\``
        : info.bundle.matchesCommit
          ? `as committed in \`${info.bundle.commit}\``
          : `**differs from the one committed in \`${info.bundle.commit}\`** (work in progress)`) +
      (info.bundle.changedDuringRun
        ? '; dist/index.js was rebuilt while the bench ran, but every run used this copy, taken at the start'
        : ''),
    '',
    '## Model',
    '',
    `- ${describeModel(model)}; the action is given \`max-servers-per-minute: ${serversPerMinute(model)}\`.`,
    '- Real cloud: jobs take 15–35 s and the documented limit is 1000 servers per minute; the model compresses both.',
    `- Lower bound for N servers = (ceil(N / ${model.limitServers}) − 1) × ${model.windowMs} ms + ${model.jobMs} ms + 2 × ${model.latencyMs} ms ` +
      '(the first window’s worth goes at once; one submit and one status check).',
    `- Every contender polls every 1 s. Runs per cell: ${info.runsPerCell}, interleaved round-robin per size (run r of every contender before run r + 1 of any), ` +
      'each against a fresh emulator on 127.0.0.1. Wall time is the whole process, from spawn to exit (cold start included).',
    '',
    '## Wall time and requests',
    '',
    '"Exactly once": the emulator counted one restart for every server and none for anything else (runs that passed / runs). ' +
      '"Completed": the contender itself exited 0 and reported every server restarted. HTTP requests and throttled (429) answers are medians over the runs, as counted by the emulator. ' +
      `Peak RSS is the largest over the runs (GNU time's max resident set size)${info.memoryMeasured ? '' : ' — not measured on this machine'}.`,
    '',
    '| N | Contender | Wall time (median) | Range | Lower bound | × bound | HTTP requests | Throttled | Exactly once | Completed | Peak RSS | Notes |',
    '| --: | --- | --: | --: | --: | --: | --: | --: | :-: | :-: | --: | --- |'
  )
  for (const cell of cells) {
    const bound = formatMs(lowerBoundMs(cell.n, model))
    const label = CONTENDER_LABELS[cell.contender]
    const summary = summarize(cell, model)
    if (!summary) {
      push(
        `| ${thousands(cell.n)} | ${label} | — | — | ${bound} | — | — | — | — | — | — | ${escapeCell(cell.skipped ?? 'not run')} |`
      )
      continue
    }
    const total = cell.runs.length
    const notes = uniqueNotes(cell)
    push(
      `| ${thousands(cell.n)} | ${label} | ${formatMs(summary.wallMs)} | ${formatMs(summary.minMs)}–${formatMs(summary.maxMs)} | ${bound} | ` +
        `${summary.ratio.toFixed(2)} | ${formatCount(summary.requests)} | ${formatCount(summary.throttled)} | ` +
        `${yesNo(summary.exactlyOnceRuns, total)} | ${yesNo(summary.completedRuns, total)} | ${mib(summary.maxRssKb)} | ${escapeCell(notes.join('; '))} |`
    )
  }
  push('', '## Targets', '', ...renderTargets(cells, info, rolling))
  if (rolling !== undefined) push('', ...renderRollingSection(rolling))
  const actionAtMax = cells
    .filter((c) => c.contender === 'action' && c.runs.length > 0)
    .sort((a, b) => b.n - a.n)
    .at(0)
  push('', '## Peak memory of the action', '')
  if (actionAtMax && info.memoryMeasured) {
    const rss = actionAtMax.runs.map((r) => r.maxRssKb).filter((v): v is number => v !== undefined)
    push(
      `At N = ${thousands(actionAtMax.n)}: ${rss.map((kb) => mib(kb)).join(', ')} max RSS over its ${rss.length} runs ` +
        '(`/usr/bin/time -f %M` around the child process).'
    )
  } else {
    push('Not measured (GNU time was not available, or the action was not run).')
  }
  push(
    '',
    '## Cold start',
    '',
    `Wall time of a fresh process, ${info.coldStartRounds} interleaved rounds; median and interquartile range.`,
    '',
    '| Variant | What it does | Median | p25–p75 | vs. bare Node |',
    '| --- | --- | --: | --: | --: |'
  )
  const baseline = info.coldStarts.find((c) => c.name === 'node -e 0')?.medianMs ?? Number.NaN
  for (const cold of info.coldStarts) {
    const extra = cold.name === 'node -e 0' ? '—' : `+${Math.round(cold.medianMs - baseline)} ms`
    const odd = cold.unexpected > 0 ? ` (${cold.unexpected} runs exited unexpectedly)` : ''
    push(
      `| ${cold.name} | ${escapeCell(cold.what)}${odd} | ${Math.round(cold.medianMs)} ms | ${Math.round(cold.p25Ms)}–${Math.round(cold.p75Ms)} ms | ${extra} |`
    )
  }
  push(
    '',
    `The SDK ${info.sdkWroteHome ? '**wrote**' : 'did not write'} \`~/.huaweicloud\` in its own temporary HOME (it is given a custom user agent so that it does not).`,
    '',
    '## Chart',
    '',
    '![Wall time against N for the three contenders and the lower bound, log-log](chart.svg)',
    ''
  )
  return lines.join('\n')
}

const COLORS: Record<ContenderName | 'bound', string> = {
  action: '#1f6fb4',
  sdk: '#c0392b',
  nova: '#2e8b3a',
  bound: '#555555'
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

function decadeLabel(exponent: number, unit: string): string {
  const value = 10 ** exponent
  if (unit === 's') return value >= 1 ? `${value.toLocaleString('en-US')} s` : `${value} s`
  return value.toLocaleString('en-US')
}

/** Wall time (s) against N, both on log scales, one line per contender plus the lower bound. */
export function renderSvg(cells: Cell[], info: BenchInfo): string {
  const width = 1100
  const height = 620
  const margin = { left: 90, right: 420, top: 64, bottom: 70 }
  const plotW = width - margin.left - margin.right
  const plotH = height - margin.top - margin.bottom
  const sizes = [...new Set(info.sizes)].sort((a, b) => a - b)
  const points = new Map<ContenderName, { n: number; s: number; ok: boolean }[]>()
  for (const cell of cells) {
    const summary = summarize(cell, info.model)
    if (!summary) continue
    const list = points.get(cell.contender) ?? []
    const ok = summary.completedRuns === cell.runs.length && summary.exactlyOnceRuns === cell.runs.length
    list.push({ n: cell.n, s: summary.wallMs / 1000, ok })
    points.set(cell.contender, list)
  }
  // The bound is a staircase in N: draw it on a fine grid between the smallest and largest size.
  const [smallest, largest] = [sizes[0], sizes[sizes.length - 1]]
  const steps = 400
  const grid = Array.from({ length: steps + 1 }, (_, i) => Math.round(smallest * (largest / smallest) ** (i / steps)))
  const bound = [...new Set([...grid, ...sizes])]
    .sort((a, b) => a - b)
    .map((n) => ({ n, s: lowerBoundMs(n, info.model) / 1000 }))
  const allSeconds = [...bound.map((p) => p.s), ...[...points.values()].flat().map((p) => p.s)]
  const xMin = 0
  const xMax = Math.max(1, Math.ceil(Math.log10(Math.max(...sizes, 10))))
  const yMin = Math.floor(Math.log10(Math.min(...allSeconds)))
  const yMax = Math.max(yMin + 1, Math.ceil(Math.log10(Math.max(...allSeconds))))
  const x = (n: number): number => margin.left + ((Math.log10(Math.max(n, 1)) - xMin) / (xMax - xMin)) * plotW
  const y = (s: number): number => margin.top + plotH - ((Math.log10(s) - yMin) / (yMax - yMin)) * plotH
  const out: string[] = []
  const add = (line: string): void => void out.push(line)
  add(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="14">`
  )
  add(`<rect width="${width}" height="${height}" fill="#ffffff"/>`)
  add(
    `<text x="${margin.left}" y="30" font-size="18" font-weight="bold">Restarting N servers: wall time (median of ${info.runsPerCell} runs)</text>`
  )
  add(`<text x="${margin.left}" y="50" font-size="12" fill="#444">${escapeXml(describeModel(info.model))}</text>`)
  // Grid and ticks.
  for (let e = xMin; e <= xMax; e++) {
    const px = x(10 ** e)
    add(`<line x1="${px}" y1="${margin.top}" x2="${px}" y2="${margin.top + plotH}" stroke="#dddddd"/>`)
    add(`<text x="${px}" y="${margin.top + plotH + 22}" text-anchor="middle">${decadeLabel(e, '')}</text>`)
  }
  for (let e = yMin; e <= yMax; e++) {
    const py = y(10 ** e)
    add(`<line x1="${margin.left}" y1="${py}" x2="${margin.left + plotW}" y2="${py}" stroke="#dddddd"/>`)
    add(`<text x="${margin.left - 10}" y="${py + 5}" text-anchor="end">${decadeLabel(e, 's')}</text>`)
    for (const k of [2, 5]) {
      const minor = 10 ** e * k
      if (Math.log10(minor) < yMax) {
        add(
          `<line x1="${margin.left}" y1="${y(minor)}" x2="${margin.left + plotW}" y2="${y(minor)}" stroke="#eeeeee"/>`
        )
        add(
          `<text x="${margin.left - 10}" y="${y(minor) + 4}" text-anchor="end" font-size="11" fill="#666">${minor < 1 ? minor.toFixed(1) : minor.toLocaleString('en-US')} s</text>`
        )
      }
    }
  }
  add(`<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333333"/>`)
  add(
    `<text x="${margin.left + plotW / 2}" y="${height - 20}" text-anchor="middle">servers restarted, N (log scale)</text>`
  )
  add(
    `<text transform="translate(24 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">wall time (log scale)</text>`
  )
  // Lower bound.
  const path = (list: { n: number; s: number }[]): string =>
    list.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.n).toFixed(1)},${y(p.s).toFixed(1)}`).join(' ')
  add(`<path d="${path(bound)}" fill="none" stroke="${COLORS.bound}" stroke-width="2" stroke-dasharray="6 5"/>`)
  // Contenders; the value of each line's last point is written beside it, nudged apart when they crowd.
  const endLabels: { px: number; py: number; text: string; color: string }[] = []
  for (const contender of info.contenders) {
    const list = (points.get(contender) ?? []).sort((a, b) => a.n - b.n)
    if (list.length === 0) continue
    add(`<path d="${path(list)}" fill="none" stroke="${COLORS[contender]}" stroke-width="2.5"/>`)
    for (const p of list) {
      const fill = p.ok ? COLORS[contender] : '#ffffff'
      add(
        `<circle cx="${x(p.n).toFixed(1)}" cy="${y(p.s).toFixed(1)}" r="5" fill="${fill}" stroke="${COLORS[contender]}" stroke-width="2"><title>${escapeXml(`${CONTENDER_LABELS[contender]}, N = ${p.n}: ${formatMs(p.s * 1000)}`)}</title></circle>`
      )
    }
    const last = list[list.length - 1]
    const text = `${formatMs(last.s * 1000)}${last.ok ? '' : ', incomplete'}`
    endLabels.push({ px: x(last.n) + 10, py: y(last.s) + 4, text, color: COLORS[contender] })
  }
  endLabels.sort((a, b) => a.py - b.py)
  for (let i = 1; i < endLabels.length; i++) {
    const previous = endLabels[i - 1]
    if (Math.abs(endLabels[i].px - previous.px) < 60 && endLabels[i].py - previous.py < 15) {
      endLabels[i].py = previous.py + 15
    }
  }
  for (const label of endLabels) {
    add(
      `<text x="${label.px.toFixed(1)}" y="${label.py.toFixed(1)}" font-size="12" font-weight="bold" fill="${label.color}">${escapeXml(label.text)}</text>`
    )
  }
  // Legend.
  const legendX = margin.left + plotW + 110
  let legendY = margin.top + 10
  const legend: [string, string, boolean][] = [
    ...info.contenders.map((c): [string, string, boolean] => [CONTENDER_LABELS[c], COLORS[c], false]),
    ['lower bound of the model', COLORS.bound, true]
  ]
  for (const [label, color, dashed] of legend) {
    add(
      `<line x1="${legendX}" y1="${legendY}" x2="${legendX + 28}" y2="${legendY}" stroke="${color}" stroke-width="${dashed ? 2 : 2.5}"${dashed ? ' stroke-dasharray="6 5"' : ''}/>`
    )
    add(`<text x="${legendX + 36}" y="${legendY + 5}" font-size="13">${escapeXml(label)}</text>`)
    legendY += 26
  }
  add(
    `<circle cx="${legendX + 14}" cy="${legendY}" r="5" fill="#ffffff" stroke="#333333" stroke-width="2"/><text x="${legendX + 36}" y="${legendY + 5}" font-size="13">hollow: not every run</text>`
  )
  add(`<text x="${legendX + 36}" y="${legendY + 21}" font-size="13">completed exactly once</text>`)
  add('</svg>')
  return `${out.join('\n')}\n`
}
