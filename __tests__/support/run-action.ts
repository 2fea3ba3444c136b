import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { ServerResult } from '../../src/engine/ledger'

export const BUNDLE = resolve(__dirname, '../../dist/index.js')

export interface ActionRun {
  exitCode: number | null
  /** The signal that ended the process, or null when it exited on its own. */
  exitSignal: NodeJS.Signals | null
  /** The signals `signalWhen` sent, in order (the runner's escalation included). */
  signalsSent: NodeJS.Signals[]
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
  summaryPath: string
  /** RUNNER_TEMP of the run (removed with the rest unless `keepFiles`). */
  runnerTemp: string
  /** What the file named by the `results-file` output held, if it named one. */
  resultsFile: string | undefined
}

export interface RunOptions {
  /** Extra environment, e.g. HUAWEI_CLOUD_* fallbacks or RUNNER_DEBUG. */
  env?: Record<string, string>
  /** Copy the action's output to this process's stdout while it runs. */
  echo?: boolean
  /** Keep the temporary folder with the summary file (the demo shows its path). */
  keepFiles?: boolean
  /**
   * Sends `signal` once, as soon as `ready()` holds: checked every few milliseconds while the action
   * runs, e.g. on what an emulator has received. A SIGINT is the runner's cancellation and escalates
   * as the runner's does (`CANCEL_ESCALATION`) while the process is still alive.
   */
  signalWhen?: { ready: () => boolean; signal: NodeJS.Signals }
}

/**
 * What the runner does to a step still running after its SIGINT: SIGTERM 7.5 s later, then
 * SIGKILL 2.5 s after that. A step that exits on its own before SIGTERM ends within its grace period.
 */
export const CANCEL_ESCALATION: readonly { signal: NodeJS.Signals; afterMs: number }[] = [
  { signal: 'SIGTERM', afterMs: 7500 },
  { signal: 'SIGKILL', afterMs: 2500 }
]

/** Reads the `name<<delimiter … delimiter` blocks that @actions/core writes to GITHUB_OUTPUT. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<]+)<<(.+)$/.exec(lines[i])
    if (!match) continue
    const [, name, delimiter] = match
    const end = lines.indexOf(delimiter, i + 1)
    if (end === -1) throw new Error(`output ${name} has no closing delimiter`)
    outputs[name] = lines.slice(i + 1, end).join('\n')
    i = end
  }
  return outputs
}

/**
 * Runs the bundled action the way the runner does: a separate Node process with `INPUT_*`
 * variables and GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files, and nothing inherited but PATH.
 * Asynchronous on purpose: an emulator in this process must keep answering meanwhile.
 */
export async function runAction(inputs: Record<string, string>, options: RunOptions = {}): Promise<ActionRun> {
  const folder = await mkdtemp(join(tmpdir(), 'ecs-batch-restart-'))
  const outputPath = join(folder, 'output')
  const summaryPath = join(folder, 'summary.html')
  await writeFile(outputPath, '')
  await writeFile(summaryPath, '')
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    // Windows needs SystemRoot for sockets and crypto in any process.
    ...(process.env.SystemRoot !== undefined && { SystemRoot: process.env.SystemRoot }),
    GITHUB_OUTPUT: outputPath,
    GITHUB_STEP_SUMMARY: summaryPath,
    RUNNER_TEMP: folder,
    ...options.env
  }
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value

  const child = spawn(process.execPath, [BUNDLE], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    if (options.echo) process.stdout.write(chunk)
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
    if (options.echo) process.stderr.write(chunk)
  })
  const { signalWhen } = options
  const signalsSent: NodeJS.Signals[] = []
  let escalation: NodeJS.Timeout | undefined
  const send = (signal: NodeJS.Signals, then: typeof CANCEL_ESCALATION): void => {
    signalsSent.push(signal)
    child.kill(signal)
    if (then.length === 0) return
    const [next, ...rest] = then
    escalation = setTimeout(() => send(next.signal, rest), next.afterMs)
  }
  const watcher =
    signalWhen &&
    setInterval(() => {
      if (signalWhen.ready()) {
        clearInterval(watcher)
        send(signalWhen.signal, signalWhen.signal === 'SIGINT' ? CANCEL_ESCALATION : [])
      }
    }, 2)
  const [exitCode, exitSignal] = await new Promise<[number | null, NodeJS.Signals | null]>((done, fail) => {
    child.on('error', fail)
    child.on('close', (code, signal) => done([code, signal]))
  })
  if (watcher) clearInterval(watcher)
  clearTimeout(escalation)
  const outputs = parseOutputFile(await readFile(outputPath, 'utf8'))
  const summary = await readFile(summaryPath, 'utf8')
  const resultsFile = outputs['results-file'] ? await readFile(outputs['results-file'], 'utf8') : undefined
  if (!options.keepFiles) await rm(folder, { recursive: true, force: true })
  return {
    exitCode,
    exitSignal,
    signalsSent,
    stdout,
    stderr,
    outputs,
    summary,
    summaryPath,
    runnerTemp: folder,
    resultsFile
  }
}

/** The action's JSON outputs, parsed. */
export function outcomes(run: ActionRun) {
  const list = (name: string): string[] => JSON.parse(run.outputs[name]) as string[]
  return {
    succeeded: list('succeeded-ids'),
    failed: list('failed-ids'),
    pending: list('pending-ids'),
    skipped: list('skipped-ids'),
    jobs: list('job-ids'),
    results: JSON.parse(run.outputs.results) as ServerResult[],
    plan: JSON.parse(run.outputs.plan) as { wave: number; batch: number; server_ids: string[] }[]
  }
}

/** A step's output without its masking commands (which must name secrets). */
export function withoutMaskCommands(stdout: string): string {
  return stdout.replace(/^::add-mask::.*$/gm, '')
}

/** Everything the action printed or wrote, except the masking commands (which must name secrets). */
export function printedOutsideMasks(run: ActionRun): string {
  return [withoutMaskCommands(run.stdout), run.stderr, run.summary, JSON.stringify(run.outputs)].join('\n')
}
