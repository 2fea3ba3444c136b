import { spawn } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const root = resolve(__dirname, '../..')
let folder: string | undefined

afterAll(async () => {
  if (folder) await rm(folder, { recursive: true, force: true })
})

function bundleInto(outDir: string): Promise<{ code: number | null; log: string }> {
  return new Promise((done, fail) => {
    const ncc = resolve(root, 'node_modules/@vercel/ncc/dist/ncc/cli.js')
    const child = spawn(process.execPath, [ncc, 'build', 'src/index.ts', '-o', outDir, '--license', 'licenses.txt'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let log = ''
    child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()))
    child.on('error', fail)
    child.on('close', (code) => done({ code, log }))
  })
}

describe('dist/', () => {
  it('is exactly what `npm run bundle` builds from the sources (run it and commit dist/ if this fails)', async () => {
    folder = await mkdtemp(join(tmpdir(), 'ecs-batch-restart-dist-'))
    const { code, log } = await bundleInto(folder)
    expect(code, log).toBe(0)
    const expected = (await readdir(folder)).sort()
    expect((await readdir(join(root, 'dist'))).sort()).toEqual(expected)
    for (const file of expected) {
      const fresh = await readFile(join(folder, file), 'utf8')
      const committed = await readFile(join(root, 'dist', file), 'utf8')
      expect(committed === fresh, `dist/${file} is stale`).toBe(true)
    }
  }, 120_000)
})
