/**
 * The shape of a job summary without its numbers: each section's title (`<h2>`, `<h3>`) and the
 * column names (`<th>`) of each table under it. That is what the README's screenshot shows apart
 * from the values of one run. scripts/screenshot-summary.sh writes the shape of the summary it
 * rendered to docs/job-summary.json, next to docs/job-summary.png, and
 * __tests__/project/summary-screenshot.test.ts compares it with the summary `npm run demo` writes
 * today, so a summary whose sections or columns change asks for a new screenshot.
 *
 * `tsx scripts/summary-headings.ts <summary.html>` prints the shape as JSON.
 */
import { readFileSync } from 'node:fs'

export interface SummarySection {
  title: string
  /** The column names of each table in the section, in order. */
  tables: string[][]
}

/** Text of an HTML fragment: tags dropped, the entities the summary writes decoded, spaces collapsed. */
function text(html: string): string {
  return html
    .replace(/<[^>]*>/g, '')
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/&(lt|gt|quot|amp);/g, (_, name: string) => ({ lt: '<', gt: '>', quot: '"', amp: '&' })[name] ?? '')
    .replace(/\s+/g, ' ')
    .trim()
}

/** The sections of a job summary, each with the column names of its tables. */
export function summaryHeadings(html: string): SummarySection[] {
  const sections: SummarySection[] = []
  for (const [element, heading] of html.matchAll(/<h[23]>([\s\S]*?)<\/h[23]>|<table>[\s\S]*?<\/table>/g)) {
    if (!element.startsWith('<table>')) {
      sections.push({ title: text(heading), tables: [] })
      continue
    }
    const columns = [...element.matchAll(/<th>([\s\S]*?)<\/th>/g)].map(([, cell]) => text(cell))
    if (sections.length === 0) sections.push({ title: '', tables: [] })
    sections[sections.length - 1].tables.push(columns)
  }
  return sections
}

if (require.main === module) {
  const [, , file] = process.argv as (string | undefined)[]
  if (file === undefined) {
    console.error('Usage: tsx scripts/summary-headings.ts <summary.html>')
    process.exitCode = 2
  } else {
    console.log(JSON.stringify({ sections: summaryHeadings(readFileSync(file, 'utf8')) }, null, 2))
  }
}
