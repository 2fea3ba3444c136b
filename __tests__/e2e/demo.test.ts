import { spawn } from 'node:child_process'
import { readFile, rm } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = resolve(__dirname, '../..')

describe('npm run demo', () => {
  it('runs the bundled action against the emulator and shows its outputs and summary', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const code = await new Promise<number | null>((done) => child.on('close', done))
    expect(code, output).toBe(0)
    expect(output).toContain('Finished with status failed: 2497 succeeded, 3 failed, 0 pending.')
    expect(output).toMatch(/^status: failed$/m)
    expect(output).toMatch(/^failed-ids: \["[0-9a-f-]{36}","[0-9a-f-]{36}","[0-9a-f-]{36}"\]$/m)
    expect(output).toMatch(/The emulator verified (\d+) of \1 request signatures\./)
    const summaryPath = /Job summary \(HTML, as GitHub renders it on the run page\): (\S+summary\.html)$/m.exec(
      output
    )?.[1]
    expect(summaryPath, output).toBeDefined()
    // The demo keeps its folder for the person who ran it to open; the test cleans it up.
    const summary = await readFile(summaryPath as string, 'utf8')
    await rm(dirname(summaryPath as string), { recursive: true, force: true })
    expect(summary).toMatch(/^<h2>ECS batch restart: ❌ failed<\/h2>/)
    expect(output).not.toContain('::debug::')
  }, 60_000)
})
