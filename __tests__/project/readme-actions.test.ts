import { readdir, readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { usesAction } from '../../scripts/show-run'

// The README's examples are copied into users' workflows: they must pin actions the way this
// repository's own workflows do (same commit, same version comment), and name this action by the
// release package.json is at.

const root = resolve(__dirname, '../..')
const read = (file: string): Promise<string> => readFile(resolve(root, file), 'utf8')

interface Use {
  /** `actions/checkout`, `github/codeql-action/init`, `<owner>/ecs-batch-restart`. */
  action: string
  /** Everything after the `@`, comment included: `3d3c…90b1 # v7.0.1`. */
  pin: string
  where: string
}

/** Every `uses: owner/repo@ref # comment` in a text (local `./` actions have no `@`). */
function usesIn(text: string, file: string): Use[] {
  return text.split('\n').flatMap((line, index) => {
    const match = /^\s*(?:-\s+)?uses:\s+([^@\s]+)@(.+?)\s*$/.exec(line)
    return match === null ? [] : [{ action: match[1], pin: match[2], where: `${file}:${index + 1}` }]
  })
}

async function workflowUses(): Promise<Use[]> {
  const folder = '.github/workflows'
  const files = (await readdir(resolve(root, folder))).filter((file) => /\.ya?ml$/.test(file))
  const uses = await Promise.all(
    files.map(async (file) => usesIn(await read(`${folder}/${file}`), `${folder}/${file}`))
  )
  return uses.flat()
}

describe('the actions the README examples use', () => {
  it('are pinned like the repository workflows pin them, each to a full commit SHA with its version', async () => {
    const pinned = new Map<string, Use>()
    for (const use of await workflowUses()) {
      expect(use.pin, `${use.where}: pin ${use.action} to a full commit SHA with a # vX.Y.Z comment`).toMatch(
        /^[0-9a-f]{40} # v\d+\.\d+\.\d+$/
      )
      const earlier = pinned.get(use.action)
      if (earlier !== undefined)
        expect(use.pin, `${use.where} pins ${use.action} unlike ${earlier.where}`).toBe(earlier.pin)
      pinned.set(use.action, use)
    }
    const readme = usesIn(await read('README.md'), 'README.md').filter(
      (use) => !use.action.endsWith('/ecs-batch-restart')
    )
    expect(readme.length).toBeGreaterThan(0)
    for (const use of readme) {
      const workflow = pinned.get(use.action)
      if (workflow === undefined) {
        // An action the workflows do not use (e.g. download-artifact): pinned the same way.
        expect(use.pin, `${use.where}: pin ${use.action} to a full commit SHA with a # vX.Y.Z comment`).toMatch(
          /^[0-9a-f]{40} # v\d+\.\d+\.\d+$/
        )
      } else {
        expect(use.pin, `${use.where} uses ${use.action} unlike ${workflow.where}`).toBe(workflow.pin)
      }
    }
  })

  it('name this action by the commit of the release package.json is at, in every example and in npm run try', async () => {
    const own = usesIn(await read('README.md'), 'README.md').filter((use) => use.action.endsWith('/ecs-batch-restart'))
    expect(own.length).toBeGreaterThan(5)
    for (const use of own) expect(`${use.action}@${use.pin}`, use.where).toBe(usesAction())
    const { version } = JSON.parse(await read('package.json')) as { version: string }
    expect(usesAction()).toMatch(
      new RegExp(`@<sha-of-v${version.replace(/\./g, '\\.')}> # v${version.replace(/\./g, '\\.')}$`)
    )
    // The README says how to find that commit.
    expect(await read('README.md')).toContain(
      `git ls-remote https://github.com/<owner>/ecs-batch-restart refs/tags/v${version}`
    )
  })
})
