import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import * as core from '@actions/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { appendOutput, githubActionIO } from '../../src/action/action-io'
import { savedState } from '../support/elb-run'
import { useEmulator } from '../support/fixtures'
import { createOidcFixture, decodeJwt, oidcEmulatorOptions } from '../support/oidc'
import { parseOutputFile } from '../support/run-action'

// @actions/github reads the server URL and run ID once, when it is loaded, as on a runner.
vi.hoisted(() => {
  process.env.GITHUB_SERVER_URL = 'https://github.example.com'
  process.env.GITHUB_RUN_ID = '99'
})

// The real @actions/core and @actions/github behind ActionIO, with the runner's files in a temp folder.

const emulators = useEmulator()
let folder: string
let written: string[]
const saved = { ...process.env }

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'action-io-'))
  written = []
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk))
    return true
  })
})

afterEach(async () => {
  vi.restoreAllMocks()
  process.env = { ...saved }
  process.exitCode = undefined
  core.summary.emptyBuffer()
  await rm(folder, { recursive: true, force: true })
})

describe('githubActionIO', () => {
  it('reads inputs and writes outputs, logs, groups, masks and failures as workflow commands', async () => {
    const outputFile = join(folder, 'output')
    await writeFile(outputFile, '')
    process.env['INPUT_SERVER-IDS'] = '  a,b  '
    process.env.GITHUB_OUTPUT = outputFile
    const io = githubActionIO()
    expect(io.getInput('server-ids')).toBe('a,b')
    expect(io.env).toBe(process.env)
    expect(io.setOutput('status', ['succeed', 'ed'])).toBe(9)
    expect(await readFile(outputFile, 'utf8')).toMatch(
      /^status<<ghadelimiter_[\w-]+\nsucceeded\nghadelimiter_[\w-]+\n$/
    )
    io.maskSecret('s3cret')
    io.log.info('hello')
    io.log.warning('careful')
    io.log.debug('details')
    io.log.error('broken', 'Batch 1: FAIL')
    io.log.group('Batch 1', ['line 1', 'line 2'])
    io.setFailed('it failed')
    expect(written.join('')).toBe(
      [
        '::add-mask::s3cret',
        'hello',
        '::warning::careful',
        '::debug::details',
        '::error title=Batch 1%3A FAIL::broken',
        '::group::Batch 1',
        'line 1',
        'line 2',
        '::endgroup::',
        '::error::it failed',
        ''
      ].join('\n')
    )
    expect(process.exitCode).toBe(1)
  })

  it('appends outputs piece by piece in the form the runner reads, counting bytes, after what is there', async () => {
    const outputFile = join(folder, 'output')
    await writeFile(outputFile, 'earlier<<EOF\nkept\nEOF\n')
    expect(appendOutput(outputFile, 'ids', ['["a",', '"b"]'])).toBe(9)
    expect(appendOutput(outputFile, 'note', ['naïve ', 'line\nnext'])).toBe(16)
    expect(parseOutputFile(await readFile(outputFile, 'utf8'))).toEqual({
      earlier: 'kept',
      ids: '["a","b"]',
      note: 'naïve line\nnext'
    })
  })

  it('refuses a value containing its delimiter, also across pieces, and a missing output file', async () => {
    const outputFile = join(folder, 'output')
    await writeFile(outputFile, '')
    expect(() => appendOutput(outputFile, 'x', ['ok ghadelim', 'iter_1 more'], 'ghadelimiter_1')).toThrow(
      "The value of output 'x' contains its delimiter"
    )
    expect(() => appendOutput(outputFile, 'y', ['ok ghadel', 'imi', 'ter_1 more'], 'ghadelimiter_1')).toThrow(
      "The value of output 'y' contains its delimiter"
    )
    expect(appendOutput(outputFile, 'z', ['ghadelimiter_', '2 ghadelimiter', '_3'], 'ghadelimiter_1')).toBe(29)
    expect(() => appendOutput(join(folder, 'absent'), 'x', ['1'])).toThrow(/^Missing file at path: .*absent$/)
  })

  it("writes new files piece by piece in the runner's temporary folder, each under its own name", async () => {
    process.env.RUNNER_TEMP = folder
    const io = githubActionIO()
    const first = io.writeTempFile('results.json', ['[{"id":"a"}', ',{"id":"b"}]'])
    const second = io.writeTempFile('results.json', ['[]'])
    expect(dirname(first)).toBe(folder)
    expect(basename(first)).toMatch(/^ecs-batch-restart-[0-9a-f-]{36}-results\.json$/)
    expect(second).not.toBe(first)
    expect(JSON.parse(await readFile(first, 'utf8'))).toEqual([{ id: 'a' }, { id: 'b' }])
    expect(await readFile(second, 'utf8')).toBe('[]')
  })

  it('falls back to the set-output command without GITHUB_OUTPUT', () => {
    delete process.env.GITHUB_OUTPUT
    expect(githubActionIO().setOutput('status', ['ok'])).toBe(2)
    expect(written.join('')).toContain('::set-output name=status::ok')
  })

  it('writes the summary to GITHUB_STEP_SUMMARY, and says so when there is none', async () => {
    const summaryFile = join(folder, 'summary')
    await writeFile(summaryFile, '')
    process.env.GITHUB_STEP_SUMMARY = summaryFile
    await githubActionIO().writeSummary('<h2>done</h2>')
    expect(await readFile(summaryFile, 'utf8')).toBe('<h2>done</h2>')
    delete process.env.GITHUB_STEP_SUMMARY
    await githubActionIO().writeSummary('<h2>again</h2>')
    expect(written.join('')).toContain('GITHUB_STEP_SUMMARY is not set, so no job summary was written.')
  })

  it('builds the run URL only when the runner variables are there', () => {
    process.env.GITHUB_REPOSITORY = 'octo/fleet'
    expect(githubActionIO().runUrl()).toBe('https://github.example.com/octo/fleet/actions/runs/99')
    delete process.env.GITHUB_REPOSITORY
    expect(githubActionIO().runUrl()).toBeUndefined()
  })

  it('reads the clock in milliseconds since the epoch', () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      vi.setSystemTime(new Date('2026-03-04T05:06:07.089Z'))
      expect(githubActionIO().clock()).toBe(Date.UTC(2026, 2, 4, 5, 6, 7, 89))
    } finally {
      vi.useRealTimers()
    }
  })

  it('ends a sleep at once, without rejecting, when the run is cancelled', async () => {
    const io = githubActionIO()
    const controller = new AbortController()
    const sleeping = io.sleep(3_600_000, controller.signal)
    controller.abort('SIGINT')
    await expect(sleeping).resolves.toBeUndefined()
    await expect(io.sleep(3_600_000, controller.signal)).resolves.toBeUndefined()
    const value = io.random()
    expect(value >= 0 && value < 1).toBe(true)
  })

  it('passes a state to the post step through GITHUB_STATE, where the post step reads it as STATE_<name>', async () => {
    const stateFile = join(folder, 'state')
    await writeFile(stateFile, '')
    process.env.GITHUB_STATE = stateFile
    githubActionIO().saveState?.('elb_journal', '/runner/temp/journal.json')
    expect(await savedState(stateFile)).toEqual({ STATE_elb_journal: '/runner/temp/journal.json' })
  })

  it('aborts the cancellation on the runner’s SIGINT, warning once, with the signal’s name as reason', () => {
    const before = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') }
    const io = githubActionIO()
    const added = (name: 'SIGINT' | 'SIGTERM') => process.listeners(name).filter((l) => !before[name].includes(l))
    const [onInt, onTerm] = [added('SIGINT'), added('SIGTERM')]
    try {
      expect([onInt.length, onTerm.length]).toEqual([1, 1])
      expect(io.cancellation.aborted).toBe(false)
      onInt[0]('SIGINT')
      onTerm[0]('SIGTERM')
      expect(io.cancellation.aborted).toBe(true)
      expect(io.cancellation.reason).toBe('SIGINT')
      expect(written.join('')).toBe('::warning::Received SIGINT: stopping, and reporting what is known.\n')
    } finally {
      for (const l of onInt) process.removeListener('SIGINT', l)
      for (const l of onTerm) process.removeListener('SIGTERM', l)
    }
  })

  it("asks the runner's ID-token route for a token for the audience, and masks it", async () => {
    const emulator = await emulators.start(oidcEmulatorOptions(createOidcFixture()))
    Object.assign(process.env, emulator.githubOidcEnv())
    const token = await githubActionIO().getIDToken('huaweicloud')
    expect(decodeJwt(token).claims.aud).toBe('huaweicloud')
    expect(written.join('')).toContain(`::add-mask::${token}`)
  })
})
