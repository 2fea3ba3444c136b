import { setTimeout as delay } from 'node:timers/promises'
import type { ActionIO } from '../../src/action/action-io'

/** An ActionIO for `run()` and `runPost()` in-process: inputs from a record, every side effect recorded. */
export function recordingIO(inputs: Record<string, string>, overrides: Partial<ActionIO> = {}) {
  const record = {
    outputs: {} as Record<string, string>,
    files: {} as Record<string, string>,
    summaries: [] as string[],
    failed: [] as string[],
    masked: [] as string[],
    lines: [] as string[],
    /** What `saveState` passed to the post step. */
    state: {} as Record<string, string>
  }
  const io: ActionIO = {
    getInput: (name) => inputs[name] ?? '',
    env: {},
    maskSecret: (value) => record.masked.push(value),
    log: {
      info: (m) => record.lines.push(m),
      warning: (m) => record.lines.push(`warning: ${m}`),
      debug: () => {},
      error: (m, title) => record.lines.push(`error: ${title}: ${m}`),
      group: (title, lines) => record.lines.push(`group: ${title} (${lines.length} lines)`)
    },
    setOutput: (name, pieces) => {
      record.outputs[name] = [...pieces].join('')
      return Buffer.byteLength(record.outputs[name])
    },
    writeTempFile: (suffix, pieces) => {
      const path = `/runner-temp/${Object.keys(record.files).length}-${suffix}`
      record.files[path] = [...pieces].join('')
      return path
    },
    writeSummary: (html) => {
      record.summaries.push(html)
      return Promise.resolve()
    },
    setFailed: (message) => record.failed.push(message),
    runUrl: () => undefined,
    clock: () => Date.now(),
    sleep: (ms) => delay(ms),
    random: () => 0.5,
    cancellation: new AbortController().signal,
    readFile: () => '',
    getIDToken: () => Promise.reject(new Error('no OIDC in these tests')),
    saveState: (name, value) => void (record.state[name] = value),
    ...overrides
  }
  return { io, record }
}
