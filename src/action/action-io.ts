import { randomUUID } from 'node:crypto'
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs'
import { EOL, tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import * as core from '@actions/core'
import { context } from '@actions/github'
import type { Logger, Sleep } from '../shared/ports'
import type { InputSource } from './inputs/source'

export interface ActionLog extends Logger {
  error(message: string, title: string): void
  group(title: string, lines: readonly string[]): void
}

/** Everything the action does to the outside world, so tests can run it in-process. */
export interface ActionIO extends InputSource {
  log: ActionLog
  /**
   * Sets an output whose value comes in pieces, so that a value of megabytes never has to be
   * one string; returns the value's size in bytes.
   */
  setOutput(name: string, pieces: Iterable<string>): number
  /** Writes a new file in the runner's temporary folder (emptied after the job); returns its path. */
  writeTempFile(suffix: string, pieces: Iterable<string>): string
  writeSummary(html: string): Promise<void>
  setFailed(message: string): void
  runUrl(): string | undefined
  clock: () => number
  sleep: Sleep
  random: () => number
  /** Aborted, with the signal's name as reason, when the runner cancels the workflow. */
  cancellation: AbortSignal
  /** The workflow's OIDC ID token for `audience` (needs `permissions: id-token: write`). */
  getIDToken(audience: string): Promise<string>
  /** Passes a value to the post step (`STATE_<name>` there), at once: it survives a kill of this step. */
  saveState?(name: string, value: string): void
}

/** The workflow run's page, when the runner's variables are there to build it from. */
function workflowRunUrl(): string | undefined {
  if (!process.env.GITHUB_REPOSITORY || !process.env.GITHUB_RUN_ID) return undefined
  const { owner, repo } = context.repo
  return `${context.serverUrl}/${owner}/${repo}/actions/runs/${context.runId}`
}

/** The runner sends SIGINT when a workflow is cancelled, then SIGTERM, then kills the process. */
function cancellationSignal(): AbortSignal {
  const controller = new AbortController()
  for (const name of ['SIGINT', 'SIGTERM'] as const) {
    process.on(name, () => {
      if (!controller.signal.aborted) core.warning(`Received ${name}: stopping, and reporting what is known.`)
      controller.abort(name)
    })
  }
  return controller.signal
}

async function sleepUnlessAborted(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal })
  } catch (error) {
    if (!signal?.aborted) throw error
  }
}

/** Writes each piece to the open file `fd` as it comes; returns the bytes written. */
function writePieces(fd: number, pieces: Iterable<string>): number {
  let bytes = 0
  for (const piece of pieces) bytes += writeSync(fd, piece)
  return bytes
}

function* refusingDelimiter(pieces: Iterable<string>, delimiter: string, name: string): Generator<string> {
  // The end of what came before, so that a delimiter spread over several pieces is found too.
  let tail = ''
  for (const piece of pieces) {
    const text = `${tail}${piece}`
    // The delimiter is random, so this never happens unless someone can guess it; core checks the same.
    if (text.includes(delimiter)) throw new Error(`The value of output '${name}' contains its delimiter`)
    yield piece
    tail = text.slice(-(delimiter.length - 1))
  }
}

/**
 * Appends one output to the runner's output file in the multi-line form `@actions/core` writes
 * (`name<<delimiter`, value, `delimiter`), piece by piece; `core.setOutput` would need the whole
 * value as one string and copy it three times.
 */
export function appendOutput(
  file: string,
  name: string,
  pieces: Iterable<string>,
  delimiter = `ghadelimiter_${randomUUID()}`
): number {
  if (!existsSync(file)) throw new Error(`Missing file at path: ${file}`)
  const fd = openSync(file, 'a')
  try {
    writeSync(fd, `${name}<<${delimiter}${EOL}`)
    const bytes = writePieces(fd, refusingDelimiter(pieces, delimiter, name))
    writeSync(fd, `${EOL}${delimiter}${EOL}`)
    return bytes
  } finally {
    closeSync(fd)
  }
}

/** A new file `ecs-batch-restart-<uuid>-<suffix>` in `folder`, written piece by piece. */
function writeNewFile(folder: string, suffix: string, pieces: Iterable<string>): string {
  const path = join(folder, `ecs-batch-restart-${randomUUID()}-${suffix}`)
  const fd = openSync(path, 'wx')
  try {
    writePieces(fd, pieces)
  } finally {
    closeSync(fd)
  }
  return path
}

function setOutput(name: string, pieces: Iterable<string>): number {
  const file = process.env.GITHUB_OUTPUT
  if (file) return appendOutput(file, name, pieces)
  const value = [...pieces].join('')
  core.setOutput(name, value)
  return Buffer.byteLength(value)
}

export function githubActionIO(): ActionIO {
  return {
    getInput: (name) => core.getInput(name),
    env: process.env,
    maskSecret: (value) => core.setSecret(value),
    readFile: (path) => readFileSync(path, 'utf8'),
    log: {
      info: (message) => core.info(message),
      warning: (message) => core.warning(message),
      debug: (message) => core.debug(message),
      error: (message, title) => core.error(message, { title }),
      group(title, lines) {
        core.startGroup(title)
        // One write for the group, not one per line: at 50,000 servers that is 50 writes instead of 50,000.
        if (lines.length > 0) core.info(lines.join(EOL))
        core.endGroup()
      }
    },
    setOutput,
    writeTempFile: (suffix, pieces) => writeNewFile(process.env.RUNNER_TEMP || tmpdir(), suffix, pieces),
    async writeSummary(html) {
      if (!process.env.GITHUB_STEP_SUMMARY) {
        core.info('GITHUB_STEP_SUMMARY is not set, so no job summary was written.')
        return
      }
      await core.summary.addRaw(html).write()
    },
    setFailed: (message) => core.setFailed(message),
    runUrl: workflowRunUrl,
    clock: () => Date.now(),
    sleep: sleepUnlessAborted,
    random: () => Math.random(),
    cancellation: cancellationSignal(),
    getIDToken: (audience) => core.getIDToken(audience),
    saveState: (name, value) => core.saveState(name, value)
  }
}
