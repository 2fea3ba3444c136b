import { describe, expect, it } from 'vitest'
import { SUMMARY_ROW_LIMIT, escapeHtml } from '../../src/action/html'
import {
  ANNOTATION_LIMIT,
  batchAnnotations,
  batchLogGroups,
  buildOutputs,
  jsonPieces,
  overallStatus,
  renderSummary
} from '../../src/action/report'
import type { BatchRun } from '../../src/engine/batch-run'
import type { Results, ServerResult } from '../../src/engine/ledger'
import { planBatches } from '../../src/engine/plan'

const result = (id: string, outcome: ServerResult['outcome'], extra: Partial<ServerResult> = {}): ServerResult => ({
  id,
  outcome,
  job_id: 'job-1',
  error_code: null,
  error_message: null,
  ...extra
})

const byId = (...list: ServerResult[]): Results => new Map(list.map((r) => [r.id, r]))

const run = (number: number, serverIds: string[], extra: Partial<BatchRun> = {}): BatchRun => ({
  label: String(number),
  wave: 1,
  serverIds,
  jobId: `job-${number}`,
  status: 'SUCCESS',
  problem: null,
  submittedAt: null,
  finishedAt: null,
  ...extra
})

const context = {
  title: 'ECS batch restart',
  request: 'SOFT restart of 3 servers in 2 batches',
  durationMs: 12_345,
  runUrl: undefined,
  error: undefined
}

describe('overallStatus', () => {
  it('follows the documented precedence', () => {
    expect(overallStatus(byId(result('a', 'succeeded')), true)).toBe('succeeded')
    expect(overallStatus(byId(result('a', 'succeeded'), result('b', 'pending')), true)).toBe('timed-out')
    expect(overallStatus(byId(result('a', 'failed'), result('b', 'pending')), true)).toBe('failed')
    expect(overallStatus(byId(result('a', 'pending')), false)).toBe('submitted')
    expect(overallStatus(byId(result('a', 'pending'), result('b', 'failed')), false)).toBe('failed')
  })
})

describe('jsonPieces', () => {
  it('joins to exactly what JSON.stringify writes, in pieces of 500 elements', () => {
    for (const length of [0, 1, 499, 500, 501, 1234]) {
      const items = Array.from({ length }, (_, i) => ({
        id: `server-${i}`,
        note: i % 2 === 0 ? null : 'a "quoted" \\ note'
      }))
      const pieces = [...jsonPieces(items)]
      expect(pieces.join(''), `${length} items`).toBe(JSON.stringify(items))
      expect(pieces, `${length} items`).toHaveLength(2 + Math.ceil(length / 500))
    }
  })
})

describe('buildOutputs', () => {
  it('writes JSON lists that partition the servers, and job IDs in submission order', () => {
    const results = [
      result('a', 'succeeded'),
      result('b', 'failed', { error_code: 'Ecs.0100' }),
      result('c', 'pending')
    ]
    const outputs = Object.fromEntries(
      [
        ...buildOutputs(
          byId(...results),
          [run(1, ['a', 'b']), run(2, ['c'], { jobId: null }), run(3, [])],
          'failed',
          planBatches(['a', 'b', 'c'], 2, true),
          '/tmp/results.json'
        )
      ].map(([name, pieces]) => [name, [...pieces].join('')])
    )
    expect(outputs.status).toBe('failed')
    expect(JSON.parse(outputs['job-ids'])).toEqual(['job-1', 'job-3'])
    expect(JSON.parse(outputs['succeeded-ids'])).toEqual(['a'])
    expect(JSON.parse(outputs['failed-ids'])).toEqual(['b'])
    expect(JSON.parse(outputs['pending-ids'])).toEqual(['c'])
    expect(JSON.parse(outputs.results)).toEqual(results)
    expect(JSON.parse(outputs['skipped-ids'])).toEqual([])
    expect(outputs['results-file']).toBe('/tmp/results.json')
    expect(JSON.parse(outputs.plan)).toEqual([
      { wave: 1, batch: 1, server_ids: ['a', 'b'] },
      { wave: 2, batch: 2, server_ids: ['c'] }
    ])
  })
})

describe('renderSummary', () => {
  it('has a heading, the counts, a row per batch and the failed servers with code and reason', () => {
    const results = [
      result('a', 'succeeded'),
      result('b', 'failed', { error_code: 'Ecs.0100', error_message: 'The ECS status does not meet requirements.' }),
      result('c', 'pending', { job_id: 'job-2', error_message: 'Not confirmed' })
    ]
    const html = renderSummary(
      byId(...results),
      [run(1, ['a', 'b'], { status: 'FAIL' }), run(2, ['c'], { status: 'timed out' })],
      'failed',
      {
        ...context,
        runUrl: 'https://github.com/o/r/actions/runs/7'
      }
    )
    expect(html).toContain('<h2>ECS batch restart: ❌ failed</h2>')
    expect(html).toContain(
      'SOFT restart of 3 servers in 2 batches; took 12.35 s. <a href="https://github.com/o/r/actions/runs/7">Workflow run</a>.'
    )
    expect(html).toContain('<tr><td>3</td><td>1</td><td>1</td><td>1</td><td>0</td></tr>')
    expect(html).toContain(
      '<tr><td>1</td><td>1</td><td>job-1</td><td>2</td><td>1</td><td>1</td><td>0</td><td>0</td><td>FAIL</td></tr>'
    )
    expect(html).toContain(
      '<tr><td>1</td><td>2</td><td>job-2</td><td>1</td><td>0</td><td>0</td><td>1</td><td>0</td><td>timed out</td></tr>'
    )
    expect(html).toContain('<h3>Failed servers</h3>')
    expect(html).toContain(
      '<tr><td>b</td><td>job-1</td><td>Ecs.0100</td><td>The ECS status does not meet requirements.</td></tr>'
    )
    expect(html).toContain('<h3>Pending servers (outcome not confirmed)</h3>')
  })

  it('escapes all text that comes from inputs or the cloud', () => {
    const evil = '<img src=x onerror="alert(1)">&\''
    const html = renderSummary(
      byId(result('a', 'failed', { error_code: evil, error_message: evil })),
      [run(1, ['a'], { status: evil })],
      'failed',
      {
        ...context,
        error: evil,
        runUrl: 'https://x/"><script>'
      }
    )
    expect(html).not.toContain('<img')
    expect(html).not.toContain('<script>')
    expect(html).toContain(escapeHtml(evil))
    expect(escapeHtml(`<a href="x">'&`)).toBe('&#60;a href=&#34;x&#34;&#62;&#39;&#38;')
  })

  it('caps long tables and says how many rows were left out, staying far below 1 MiB', () => {
    const count = 50_000
    const results = Array.from({ length: count }, (_, i) =>
      result(`server-${i}`, 'failed', { error_code: 'Ecs.0227', error_message: 'x'.repeat(2000) })
    )
    const runs = Array.from({ length: 500 }, (_, i) =>
      run(
        i + 1,
        results.slice(i * 100, i * 100 + 100).map((r) => r.id)
      )
    )
    const html = renderSummary(byId(...results), runs, 'failed', context)
    expect(html.match(/<tr><td>server-/g)).toHaveLength(SUMMARY_ROW_LIMIT)
    expect(html).toContain(
      `${count - SUMMARY_ROW_LIMIT} more servers are not shown here; the <code>failed-ids</code> output lists them all.`
    )
    expect(html).toContain(`${500 - SUMMARY_ROW_LIMIT} more batches are not shown here`)
    expect(html).toContain(`${'x'.repeat(300)}…`)
    expect(Buffer.byteLength(html)).toBeLessThan(256 * 1024)
  })
})

describe('batchAnnotations', () => {
  it('annotates each troubled batch, capped with a closing count', () => {
    const runs = Array.from({ length: ANNOTATION_LIMIT + 3 }, (_, i) =>
      run(i + 1, [], { status: 'FAIL', problem: `problem ${i + 1}` })
    )
    runs.push(run(99, [], { problem: null }))
    const annotations = batchAnnotations(runs)
    expect(annotations).toHaveLength(ANNOTATION_LIMIT + 1)
    expect(annotations[0]).toEqual({ title: 'Batch 1: FAIL', message: 'problem 1' })
    expect(annotations.at(-1)?.message).toBe('3 more batches did not fully succeed; the job summary lists them all.')
    expect(batchAnnotations([run(1, [])])).toEqual([])
  })
})

describe('batchLogGroups', () => {
  it('titles each batch with its counts and lists every server with its outcome', () => {
    const results = [
      result('a', 'succeeded'),
      result('b', 'failed', { error_code: 'Ecs.0100', error_message: 'wrong state' })
    ]
    expect([...batchLogGroups([run(1, ['a', 'b'], { status: 'FAIL' })], byId(...results))]).toEqual([
      {
        title: 'Batch 1: job job-1, FAIL, 1 succeeded, 1 failed, 0 pending',
        lines: ['a succeeded', 'b failed Ecs.0100 wrong state']
      }
    ])
  })
})

describe('names, plans and times in the report', () => {
  const A = '6f1c2a3b-0000-4000-8000-000000000001'
  const B = '7a2d3e4f-0000-4000-8000-000000000002'
  const C = '8b3e4f50-0000-4000-8000-000000000003'
  const known = new Map([
    [A, { name: 'web-1', status: 'ACTIVE' }],
    [B, { name: 'web-2', status: 'SHUTOFF' }]
  ])

  it('names the troubled servers in annotations, with codes, then "and N more"', () => {
    const ids = Array.from({ length: 8 }, (_, i) => `${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`)
    const results = byId(
      result(A, 'failed', { error_code: 'Ecs.0100' }),
      result(B, 'pending'),
      result(C, 'succeeded'),
      ...ids.map((id) => result(id, 'failed', { error_code: null }))
    )
    const annotations = batchAnnotations(
      [run(1, [A, B, C, ...ids], { status: 'FAIL', problem: '9 of 11 servers failed (job job-1, FAIL)' })],
      results,
      known
    )
    expect(annotations).toEqual([
      {
        title: 'Batch 1: FAIL',
        message: `9 of 11 servers failed (job job-1, FAIL). Servers: web-1 (6f1c2a3b…) Ecs.0100, web-2 (7a2d3e4f…) pending, ${ids[0]} failed, ${ids[1]} failed, ${ids[2]} failed and 5 more.`
      }
    ])
    // A split batch's parts have their own annotations: the split one names no servers.
    expect(
      batchAnnotations([run(2, [A], { status: 'split', problem: 'refused; split in two' })], results, known)
    ).toEqual([{ title: 'Batch 2: split', message: 'refused; split in two' }])
    const many = Array.from({ length: ANNOTATION_LIMIT + 1 }, (_, i) => run(i + 1, [], { problem: 'x' }))
    expect(batchAnnotations(many).at(-1)?.message).toBe(
      '1 more batch did not fully succeed; the job summary lists them all.'
    )
  })

  it('adds the names to the log lines of listed servers', () => {
    const results = byId(result(A, 'succeeded'), result(C, 'failed', { error_code: 'Ecs.0100' }))
    expect([...batchLogGroups([run(1, [A, C])], results, known)][0].lines).toEqual([
      `${A} (web-1) succeeded`,
      `${C} failed Ecs.0100`
    ])
  })

  it('renders a dry run as a plan: planned and skipped counts, each batch with names, states and a warning', () => {
    const plan = planBatches([A, B], 1, true)
    const results = byId(
      result(A, 'skipped', { job_id: null, error_message: 'Dry run: would soft restart in batch 1, wave 1.' }),
      result(B, 'skipped', { job_id: null, error_message: 'Dry run: would soft restart in batch 2, wave 2.' }),
      result(C, 'skipped', { job_id: null, error_message: 'Skipped: not found: the project lists no such server.' })
    )
    const warning = '1 planned server is not ACTIVE, which a SOFT restart needs'
    const html = renderSummary(
      results,
      [run(1, [A], { status: 'planned', jobId: null }), run(2, [B], { status: 'planned', jobId: null, wave: 2 })],
      'dry-run',
      { ...context, warnings: [warning] },
      { plan, known, requiredState: 'ACTIVE' }
    )
    expect(html).toContain(
      '<tr><th>Servers</th><th>Planned</th><th>Skipped</th></tr>\n<tr><td>3</td><td>2</td><td>1</td></tr>'
    )
    expect(html).toContain(`<p><strong>⚠️ Warning:</strong> ${warning}</p>`)
    expect(html).toContain('<h3>Plan: 2 batches in 2 waves</h3>')
    expect(html).toContain(`<tr><td>1</td><td>1</td><td>${A}</td><td>web-1</td><td>ACTIVE</td><td></td></tr>`)
    expect(html).toContain(
      `<tr><td>2</td><td>2</td><td>${B}</td><td>web-2</td><td>SHUTOFF</td><td>⚠️ not ACTIVE: will fail</td></tr>`
    )
    // Only the server left out by the selection is listed as skipped.
    expect(html).toContain('<h3>Skipped servers</h3>')
    expect(html).toContain(`<tr><td>${C}</td><td></td><td></td><td></td><td>Skipped: not found`)
    expect(html).not.toContain(`<tr><td>${A}</td><td>web-1</td>`)
    expect(html).not.toContain('Job ID</th><th>Servers')
  })

  it('shows a timeline of when each wave and batch was sent and finished', () => {
    const results = byId(result(A, 'succeeded'), result(B, 'pending'))
    const runs = [
      run(1, [A], { wave: 1, submittedAt: 2_000, finishedAt: 14_500 }),
      run(2, [B], { wave: 2, status: 'timed out', submittedAt: 80_000, finishedAt: null })
    ]
    const html = renderSummary(results, runs, 'timed-out', { ...context, startedAt: 1_000 })
    expect(html).toContain('<h3>Timeline</h3>')
    expect(html).toContain('<tr><td>1</td><td>all 1</td><td>+1 s</td><td>+13.5 s</td><td>12.5 s</td><td></td></tr>')
    expect(html).toContain('<tr><td>1</td><td>1</td><td>+1 s</td><td>+13.5 s</td><td>12.5 s</td><td>SUCCESS</td></tr>')
    expect(html).toContain('<tr><td>2</td><td>all 1</td><td>+1 min 19 s</td><td></td><td></td><td></td></tr>')
    expect(html).toContain('<tr><td>2</td><td>2</td><td>+1 min 19 s</td><td></td><td></td><td>timed out</td></tr>')
    // Nothing sent, no timeline.
    expect(renderSummary(results, [run(1, [A])], 'failed', { ...context, startedAt: 0 })).not.toContain('Timeline')
  })

  it('renders several input errors as a list', () => {
    const error = "2 inputs are invalid:\n- Input 'wait': \"maybe\" is not allowed\n- Input 'type': <x>"
    const html = renderSummary(new Map(), [], 'failed', { ...context, error })
    expect(html).toContain(
      `<p><strong>Error:</strong> 2 inputs are invalid:</p>\n<ul>\n<li>Input &#39;wait&#39;: &#34;maybe&#34; is not allowed</li>\n<li>Input &#39;type&#39;: &#60;x&#62;</li>\n</ul>`
    )
  })
})
