import { readFileSync } from 'node:fs'
import { setTimeout as delay } from 'node:timers/promises'
import * as core from '@actions/core'
import { context } from '@actions/github'
import type { Logger, Sleep } from './api'
import type { InputSource } from './inputs'

export interface ActionLog extends Logger {
  error(message: string, title: string): void
  group(title: string, lines: readonly string[]): void
}

/** Everything the action does to the outside world, so tests can run it in-process. */
export interface ActionIO extends InputSource {
  log: ActionLog
  setOutput(name: string, value: string): void
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
        for (const line of lines) core.info(line)
        core.endGroup()
      }
    },
    setOutput: (name, value) => core.setOutput(name, value),
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
    getIDToken: (audience) => core.getIDToken(audience)
  }
}
