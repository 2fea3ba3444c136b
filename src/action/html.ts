/** Rows shown per table: the summary must stay far below GitHub's 1 MiB per step. */
export const SUMMARY_ROW_LIMIT = 100
const CELL_TEXT_LIMIT = 300

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

function cell(text: string | number | null, tag = 'td'): string {
  const raw = text === null ? '' : String(text)
  const shown = raw.length > CELL_TEXT_LIMIT ? `${raw.slice(0, CELL_TEXT_LIMIT)}…` : raw
  return `<${tag}>${escapeHtml(shown)}</${tag}>`
}

export type Row = (string | number | null)[]

export function table(headers: string[], rows: Row[]): string {
  const head = `<tr>${headers.map((h) => cell(h, 'th')).join('')}</tr>`
  const body = rows.map((row) => `<tr>${row.map((value) => cell(value)).join('')}</tr>`).join('\n')
  return `<table>\n${head}\n${body}\n</table>`
}

/** The first SUMMARY_ROW_LIMIT of `rows`, made only for those, and a line counting the rest. */
export function cappedTable<T>(
  headers: string[],
  items: readonly T[],
  row: (item: T) => Row,
  noun: string,
  output: string
): string {
  const shown = table(headers, items.slice(0, SUMMARY_ROW_LIMIT).map(row))
  const hidden = items.length - SUMMARY_ROW_LIMIT
  if (hidden <= 0) return shown
  return `${shown}\n<p>${hidden} more ${noun} are not shown here; the <code>${output}</code> output lists them all.</p>`
}

/** Text of several lines as HTML: lines starting with "- " become a list, the others paragraphs. */
export function paragraphsAndLists(text: string, lead = ''): string {
  const parts: string[] = []
  let items: string[] = []
  const flush = (): void => {
    if (items.length > 0) parts.push(`<ul>\n${items.map((item) => `<li>${escapeHtml(item)}</li>`).join('\n')}\n</ul>`)
    items = []
  }
  for (const line of text.split('\n')) {
    if (line.startsWith('- ')) items.push(line.slice(2))
    else if (line.trim() !== '') {
      flush()
      parts.push(`<p>${parts.length === 0 ? lead : ''}${escapeHtml(line)}</p>`)
    }
  }
  flush()
  return parts.join('\n')
}
