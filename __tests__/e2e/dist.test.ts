import { spawn } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const root = resolve(__dirname, '../..')
let folder: string | undefined

afterAll(async () => {
  if (folder) await rm(folder, { recursive: true, force: true })
})

/** Each `ncc …` command of package.json's `bundle` script, as its arguments. */
async function bundleCommands(): Promise<string[][]> {
  const { scripts } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { scripts: { bundle: string } }
  return scripts.bundle.split('&&').map((command) => command.trim().split(/\s+/).slice(1))
}

/** Runs ncc with `args`, its `-o` folder (under dist/) moved under `folder`. */
function bundleInto(args: string[], folder: string): Promise<{ code: number | null; log: string }> {
  const out = args.indexOf('-o') + 1
  const moved = args.map((arg, i) => (i === out ? join(folder, relative('dist', arg)) : arg))
  return new Promise((done, fail) => {
    const ncc = resolve(root, 'node_modules/@vercel/ncc/dist/ncc/cli.js')
    const child = spawn(process.execPath, [ncc, ...moved], {
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

/** The files of `folder`, relative to it, sub-folders included. */
async function filesOf(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true })
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(folder.length + 1))
    .sort()
}

describe('dist/', () => {
  it('is exactly what `npm run bundle` builds from the sources, both entries (run it and commit dist/ if this fails)', async () => {
    folder = await mkdtemp(join(tmpdir(), 'ecs-batch-restart-dist-'))
    // The main step, and the post step (action.yml `runs.post`) in dist/post: the bundle script's own commands.
    const commands = await bundleCommands()
    expect(commands.map((args) => args[1])).toEqual(['src/index.ts', 'src/post.ts'])
    for (const args of commands) {
      const { code, log } = await bundleInto(args, folder)
      expect(code, log).toBe(0)
    }
    const expected = await filesOf(folder)
    expect(expected).toContain(join('post', 'index.js'))
    expect(await filesOf(join(root, 'dist'))).toEqual(expected)
    for (const file of expected) {
      const fresh = await readFile(join(folder, file), 'utf8')
      const committed = await readFile(join(root, 'dist', file), 'utf8')
      expect(committed === fresh, `dist/${file} is stale`).toBe(true)
    }
  }, 240_000)
})
