import { format, resolveConfig } from 'prettier'
import { parse } from 'yaml'

/**
 * The README's inputs and outputs tables are generated from action.yml, so the two can never
 * disagree. Each table sits between `<!-- name:start -->` and `<!-- name:end -->` markers.
 */
interface ActionMetadata {
  inputs: Record<string, { description: string; required?: boolean; default?: string }>
  outputs: Record<string, { description: string }>
}

function cell(text: string): string {
  return text.replace(/\s+/g, ' ').trim().replace(/\|/g, '\\|')
}

export function renderTables(actionYml: string): Record<'inputs' | 'outputs', string> {
  const metadata = parse(actionYml) as ActionMetadata
  const inputs = Object.entries(metadata.inputs).map(([name, input]) => {
    const fallback = input.required ? '(required)' : '—'
    return `| \`${name}\` | ${input.default !== undefined ? `\`${input.default}\`` : fallback} | ${cell(input.description)} |`
  })
  const outputs = Object.entries(metadata.outputs).map(
    ([name, output]) => `| \`${name}\` | ${cell(output.description)} |`
  )
  return {
    inputs: ['| Input | Default | Meaning |', '|---|---|---|', ...inputs].join('\n'),
    outputs: ['| Output | Value |', '|---|---|', ...outputs].join('\n')
  }
}

/**
 * The README with each marked section replaced by the table generated from action.yml,
 * formatted as Prettier formats the file.
 */
export async function syncReadme(readme: string, actionYml: string, readmePath: string): Promise<string> {
  let synced = readme
  for (const [name, table] of Object.entries(renderTables(actionYml))) {
    const start = `<!-- ${name}:start -->`
    const end = `<!-- ${name}:end -->`
    const from = synced.indexOf(start)
    const to = synced.indexOf(end)
    if (from === -1 || to < from) throw new Error(`README.md has no ${start} … ${end} section`)
    synced = `${synced.slice(0, from + start.length)}\n${table}\n${synced.slice(to)}`
  }
  const options = (await resolveConfig(readmePath)) ?? {}
  return format(synced, { ...options, filepath: readmePath })
}
