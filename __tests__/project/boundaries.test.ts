import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { cruise, type IConfiguration, type ICruiseResult } from 'dependency-cruiser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = resolve(__dirname, '../..')
const config = createRequire(__filename)(join(root, '.dependency-cruiser.cjs')) as IConfiguration
let tree: string

/** The rules `npm run lint` applies, run on a copy of src/ with `planted` files added or replaced. */
async function violations(planted: Record<string, string>): Promise<string[]> {
  const copy = await mkdtemp(join(tree, 'case-'))
  await cp(join(root, 'src'), join(copy, 'src'), { recursive: true })
  await cp(join(root, 'tsconfig.json'), join(copy, 'tsconfig.json'))
  await symlink(join(root, 'node_modules'), join(copy, 'node_modules'))
  for (const [path, code] of Object.entries(planted)) await writeFile(join(copy, path), code)
  const result = await cruise(
    ['src'],
    {
      ...config.options,
      baseDir: copy,
      ruleSet: { forbidden: config.forbidden },
      validate: true,
      tsConfig: { fileName: join(copy, 'tsconfig.json') }
    },
    undefined,
    { tsConfig: { fileName: join(copy, 'tsconfig.json') } }
  )
  const output = result.output as ICruiseResult
  return output.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`)
}

beforeAll(async () => {
  tree = await mkdtemp(join(tmpdir(), 'boundaries-'))
})
afterAll(async () => {
  await rm(tree, { recursive: true, force: true })
})

describe('layer boundaries (npm run lint)', () => {
  it('finds nothing wrong in the tree as it is', async () => {
    expect(await violations({})).toEqual([])
  })

  it('refuses cloud/ importing the engine or the action edge', async () => {
    expect(
      await violations({
        'src/cloud/planted.ts': "export { execute } from '../engine/execute'\nimport '../action/report'\n"
      })
    ).toEqual([
      'cloud-not-engine-action-main\\.ts: src/cloud/planted.ts -> src/action/report.ts',
      'cloud-not-engine-action-main\\.ts: src/cloud/planted.ts -> src/engine/execute.ts'
    ])
  })

  it('refuses engine/ importing the action edge, and shared/ importing anything', async () => {
    expect(
      await violations({
        'src/engine/planted.ts': "import type { ActionIO } from '../action/action-io'\nexport type Io = ActionIO\n",
        'src/shared/planted.ts': "import '../cloud/ecs'\n"
      })
    ).toEqual([
      'engine-not-action-main\\.ts: src/engine/planted.ts -> src/action/action-io.ts',
      'shared-not-cloud-engine-action-main\\.ts: src/shared/planted.ts -> src/cloud/ecs.ts'
    ])
  })

  it('refuses an import cycle, even one closed by a type-only import', async () => {
    // execute.ts imports wait.ts (the cycle this rule was made for): wait.ts importing a type back closes it.
    const wait = await readFile(join(root, 'src/engine/wait.ts'), 'utf8')
    const cycle = "import type { execute } from './execute'\nexport type Execute = typeof execute\n"
    expect(await violations({ 'src/engine/wait.ts': cycle + wait })).toEqual([
      'no-circular: src/engine/execute.ts -> src/engine/wait.ts'
    ])
  })
})
