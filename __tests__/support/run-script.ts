import { spawn } from 'node:child_process'
import { readFile, rm } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'

const root = resolve(__dirname, '../..')

/** Runs a script of scripts/ through tsx (async: it may start an emulator); stdout and stderr together. */
export async function runScript(script: string, args: string[] = []): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const code = await new Promise<number | null>((done) => child.on('close', done))
  return { code, output }
}

/**
 * The job summaries a demo or try run printed the path of, in order. Those scripts keep their
 * folders for the person who ran them to open; this reads and removes them.
 */
export async function takeSummaries(output: string): Promise<string[]> {
  const summaries: string[] = []
  for (const [, path] of output.matchAll(
    /^Job summary \(HTML, as GitHub renders it on the run page\): (\S+summary\.html)$/gm
  )) {
    summaries.push(await readFile(path, 'utf8'))
    await rm(dirname(path), { recursive: true, force: true })
  }
  return summaries
}
