import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as core from '@actions/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { githubActionIO } from '../src/action-io'

// @actions/github reads the server URL and run ID once, when it is loaded, as on a runner.
vi.hoisted(() => {
  process.env.GITHUB_SERVER_URL = 'https://github.example.com'
  process.env.GITHUB_RUN_ID = '99'
})

// The real @actions/core and @actions/github behind ActionIO, with the runner's files in a temp folder.

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
    io.setOutput('status', 'succeeded')
    expect(await readFile(outputFile, 'utf8')).toMatch(/^status<<ghadelimiter_[\w-]+\nsucceeded\n/)
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

  it('gives a real clock, sleep and random source', async () => {
    const io = githubActionIO()
    expect(Math.abs(io.clock() - Date.now())).toBeLessThan(1000)
    await expect(io.sleep(1)).resolves.toBeUndefined()
    const value = io.random()
    expect(value >= 0 && value < 1).toBe(true)
  })
})
