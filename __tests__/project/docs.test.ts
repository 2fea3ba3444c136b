import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { InputErrors } from '../../src/action/errors'
import { DEFAULT_OIDC_AUDIENCE } from '../../src/action/inputs/sign-in'
import { readInputs } from '../../src/action/inputs'
import { buildOutputs } from '../../src/action/report'
import { syncReadme } from '../../scripts/readme-tables'

const root = resolve(__dirname, '../..')
const read = (file: string): Promise<string> => readFile(resolve(root, file), 'utf8')

interface ActionMetadata {
  runs: { using: string; main: string; post?: string; 'post-if'?: string }
  branding: object
  inputs: Record<string, { default?: string }>
  outputs: Record<string, unknown>
}

describe('action.yml, the code and the README agree', () => {
  it('has README inputs and outputs tables generated from action.yml (run `npm run docs` if not)', async () => {
    const readme = await read('README.md')
    expect(await syncReadme(readme, await read('action.yml'), resolve(root, 'README.md'))).toBe(readme)
  })

  it('declares exactly the inputs the code reads, with a default for every boolean and number', async () => {
    const metadata = parse(await read('action.yml')) as ActionMetadata
    const asked = new Set<string>()
    // Each way to sign in reads its own inputs, so the union of the three runs is what the code reads.
    for (const signIn of [{}, { 'idp-id': 'idp' }, { 'iam-username': 'ops' }] as Record<string, string>[]) {
      const given: Record<string, string> = { 'server-ids': '616fb98f-46ca-475e-917e-2563e5a8cd19', ...signIn }
      try {
        readInputs({
          getInput: (name) => {
            asked.add(name)
            return given[name] ?? ''
          },
          env: {
            HUAWEI_CLOUD_REGION: 'ap-southeast-1',
            HUAWEI_CLOUD_ACCESS_KEY_ID: 'AK',
            HUAWEI_CLOUD_SECRET_ACCESS_KEY: 'SK'
          },
          maskSecret: () => {},
          readFile: () => ''
        })
      } catch (error) {
        // The password sign-in lacks its password and domain here; only the names read matter.
        if (!(error instanceof InputErrors)) throw error
      }
    }
    expect([...asked].sort()).toEqual(Object.keys(metadata.inputs).sort())
    for (const name of ['batch-size', 'wait', 'timeout-seconds', 'poll-interval-seconds', 'fail-on-error', 'type']) {
      expect(metadata.inputs[name].default, name).toBeDefined()
    }
    // The code falls back to the same audience when the input is empty (e.g. `oidc-audience: ''`).
    expect(metadata.inputs['oidc-audience'].default).toBe(DEFAULT_OIDC_AUDIENCE)
  })

  it('declares exactly the outputs the code sets, and runs the bundle on node24', async () => {
    const metadata = parse(await read('action.yml')) as ActionMetadata
    expect(Object.keys(Object.fromEntries(buildOutputs(new Map(), [], 'succeeded', undefined, ''))).sort()).toEqual(
      Object.keys(metadata.outputs).sort()
    )
    expect(metadata.runs).toEqual({
      using: 'node24',
      main: 'dist/index.js',
      post: 'dist/post/index.js',
      'post-if': 'always()'
    })
    expect(metadata.branding).toBeDefined()
  })
})
