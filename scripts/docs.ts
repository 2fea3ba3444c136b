/**
 * `npm run docs` rewrites the README's inputs and outputs tables from action.yml;
 * `npm run docs -- --check` only says whether they are in sync (and exits 1 when not).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { syncReadme } from './readme-tables'

const root = resolve(__dirname, '..')
const readmePath = resolve(root, 'README.md')
async function main(): Promise<void> {
  const readme = readFileSync(readmePath, 'utf8')
  const synced = await syncReadme(readme, readFileSync(resolve(root, 'action.yml'), 'utf8'), readmePath)
  report(readme, synced)
}

function report(readme: string, synced: string): void {
  if (process.argv.includes('--check')) {
    if (synced !== readme) {
      console.error('README.md tables differ from action.yml: run `npm run docs` and commit the result.')
      process.exitCode = 1
    } else {
      console.log('README.md inputs and outputs tables match action.yml.')
    }
  } else if (synced !== readme) {
    writeFileSync(readmePath, synced)
    console.log('README.md tables rewritten from action.yml.')
  } else {
    console.log('README.md tables already match action.yml.')
  }
}

void main()
