import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'

export interface ChildRun {
  /** Exit code; null when killed by a signal (e.g. our timeout). */
  exitCode: number | null
  /** From just before spawning to the exit of the process, pipes drained. */
  wallMs: number
  /** Peak resident set size in KiB, when measured (GNU time's %M). */
  maxRssKb: number | undefined
  stdout: string
  stderr: string
  /** Set when the process could not be started, e.g. E2BIG for an environment string over 128 KiB. */
  spawnError: string | undefined
  timedOut: boolean
}

export interface ChildOptions {
  env: Record<string, string>
  /** Killed (the whole process group) after this long. */
  timeoutMs: number
  /** Wrap in GNU time to read the peak RSS (only where `memoryProbe()` said it works). */
  measureMemory?: boolean
  /** Folder for GNU time's output file. */
  scratch: string
  /**
   * Keep about this many characters of the start of stdout and stderr, and as many of the end
   * (the action's log at 50,000 servers is megabytes; what matters is before its per-server listing).
   */
  keepOutput?: number
}

const GNU_TIME = '/usr/bin/time'
let memoryProbeResult: boolean | undefined

/** Whether `/usr/bin/time -f %M` works here (GNU time); checked once. */
export function memoryProbe(scratch: string): boolean {
  if (memoryProbeResult !== undefined) return memoryProbeResult
  const file = join(scratch, 'time-probe')
  const probe = existsSync(GNU_TIME)
    ? spawnSync(GNU_TIME, ['-f', '%M', '-o', file, process.execPath, '-e', '0'], { stdio: 'ignore' })
    : undefined
  memoryProbeResult = probe?.status === 0 && existsSync(file) && /^\d+\s*$/.test(readFileSync(file, 'utf8'))
  rmSync(file, { force: true })
  return memoryProbeResult
}

/** The start and the end of a stream, with what lies between dropped as it arrives. */
class Capture {
  private head = ''
  private tail = ''
  private dropped = false

  constructor(private readonly limit: number) {}

  add(chunk: string): void {
    if (this.head.length < this.limit) {
      const room = this.limit - this.head.length
      this.head += chunk.slice(0, room)
      chunk = chunk.slice(room)
    }
    if (chunk === '') return
    this.tail += chunk
    if (this.tail.length > 2 * this.limit) {
      this.tail = this.tail.slice(this.tail.length - this.limit)
      this.dropped = true
    }
  }

  text(): string {
    if (!this.dropped && this.tail.length <= this.limit) return this.head + this.tail
    return `${this.head}\n…\n${this.tail.slice(Math.max(0, this.tail.length - this.limit))}`
  }
}

/** Runs `command args` with exactly `env`, timing it from spawn to exit. Never rejects. */
export function runChild(command: string, args: string[], options: ChildOptions): Promise<ChildRun> {
  const keep = options.keepOutput ?? 200_000
  const rssFile = join(options.scratch, `rss-${process.pid}-${Math.random().toString(36).slice(2)}`)
  const wrapped = options.measureMemory === true && memoryProbe(options.scratch)
  const [file, argv] = wrapped ? [GNU_TIME, ['-f', '%M', '-o', rssFile, command, ...args]] : [command, args]
  return new Promise((resolve) => {
    const started = performance.now()
    const stdout = new Capture(keep)
    const stderr = new Capture(keep)
    let timedOut = false
    let settled = false
    let child: ChildProcess | undefined
    const timer = setTimeout(() => {
      timedOut = true
      if (child?.pid === undefined) return
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {
        child.kill('SIGKILL')
      }
    }, options.timeoutMs)
    const done = (exitCode: number | null, spawnError?: string): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      const wallMs = performance.now() - started
      let maxRssKb: number | undefined
      if (wrapped && existsSync(rssFile)) {
        // GNU time prints "Command exited with non-zero status N" before the value when it fails.
        const lines = readFileSync(rssFile, 'utf8').trim().split('\n')
        const value = Number(lines[lines.length - 1])
        maxRssKb = Number.isFinite(value) && value > 0 ? value : undefined
        rmSync(rssFile, { force: true })
      }
      resolve({
        exitCode,
        wallMs,
        maxRssKb,
        stdout: stdout.text(),
        stderr: stderr.text(),
        spawnError,
        timedOut
      })
    }
    try {
      // Its own process group, so a timeout kills GNU time and the process it runs alike.
      child = spawn(file, argv, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    } catch (error) {
      done(null, (error as NodeJS.ErrnoException).code ?? String(error))
      return
    }
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => stdout.add(chunk))
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => stderr.add(chunk))
    child.on('error', (error: NodeJS.ErrnoException) => done(null, error.code ?? error.message))
    child.on('close', (code) => done(code))
  })
}
