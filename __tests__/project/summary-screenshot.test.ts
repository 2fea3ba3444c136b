import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { type SummarySection, summaryHeadings } from '../../scripts/summary-headings'
import { runScript, takeSummaries } from '../support/run-script'

// The README shows docs/job-summary.png, a picture of the summary `npm run demo` writes (it runs the
// bundle: `npm run bundle` first). scripts/screenshot-summary.sh renders it and records the
// summary's sections and columns in docs/job-summary.json; this compares them with today's demo.

const root = resolve(__dirname, '../..')

describe('the README screenshot of the job summary', () => {
  it('shows the sections and columns the demo summary has today (if not: run scripts/screenshot-summary.sh)', async () => {
    const recorded = JSON.parse(await readFile(resolve(root, 'docs/job-summary.json'), 'utf8')) as {
      sections: SummarySection[]
    }
    const { code, output } = await runScript('scripts/demo.ts')
    expect(code, output).toBe(0)
    const summaries = await takeSummaries(output)
    expect(summaries, output).toHaveLength(1)
    expect(
      summaryHeadings(summaries[0]),
      'The job summary of `npm run demo` no longer matches docs/job-summary.png: run scripts/screenshot-summary.sh and commit docs/job-summary.png and docs/job-summary.json'
    ).toEqual(recorded.sections)
    expect((await readFile(resolve(root, 'docs/job-summary.png'))).subarray(1, 4).toString()).toBe('PNG')
  }, 60_000)

  it('reads sections and columns from a summary, whatever the values', () => {
    const html = [
      '<h2>ECS batch restart: ✅ succeeded</h2>',
      '<p>SOFT restart of 2 servers; took 1.0 s.</p>',
      '<table>\n<tr><th>Servers</th><th>Failed</th></tr>\n<tr><td>2</td><td>0</td></tr>\n</table>',
      '<h3>Failed servers &#38; why</h3>',
      '<table>\n<tr><th>Server ID</th><th>Error <code>code</code></th></tr>\n</table>',
      '<table>\n<tr><th>Reason</th></tr>\n</table>'
    ].join('\n')
    expect(summaryHeadings(html)).toEqual([
      { title: 'ECS batch restart: ✅ succeeded', tables: [['Servers', 'Failed']] },
      { title: 'Failed servers & why', tables: [['Server ID', 'Error code'], ['Reason']] }
    ])
  })
})
