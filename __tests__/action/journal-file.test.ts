import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { newJournalPath, readJournal, writeJournal } from '../../src/action/journal-file'
import type { Journal } from '../../src/engine/health-gate/types'

// The journal file the main step writes before every change and the post step reads back.

let folder: string
beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'journal-'))
})
afterEach(() => rm(folder, { recursive: true, force: true }))

const journal: Journal = {
  version: 1,
  entries: [
    {
      serverId: 's1',
      poolId: 'pool-web',
      memberId: 'm1',
      loadBalancerId: 'lb',
      originalWeight: 7,
      state: 'drained',
      wave: 2
    }
  ],
  pausedGroups: ['asg'],
  unconfirmed: ['s1'],
  steadyMs: 0,
  standby: []
}

describe('journal file', () => {
  it("names a new file in the runner's temporary folder, or the system's without one", () => {
    const first = newJournalPath({ RUNNER_TEMP: folder })
    expect(dirname(first)).toBe(folder)
    expect(first).toMatch(/ecs-batch-restart-elb-journal-[0-9a-f-]{36}\.json$/)
    expect(newJournalPath({ RUNNER_TEMP: folder })).not.toBe(first)
    expect(dirname(newJournalPath({ RUNNER_TEMP: '' }))).toBe(tmpdir())
  })

  it('writes over the old journal in one rename, leaving no temporary file, and reads it back', async () => {
    const path = join(folder, 'journal.json')
    writeJournal(path, { ...journal, entries: [] })
    writeJournal(path, journal)
    expect(await readdir(folder)).toEqual(['journal.json'])
    expect(readJournal(path)).toEqual(journal)
  })

  it('reads a journal without groups or unconfirmed servers as none, and refuses anything else', async () => {
    const path = join(folder, 'journal.json')
    await writeFile(path, JSON.stringify({ version: 1, entries: journal.entries }))
    expect(readJournal(path)).toEqual({ ...journal, pausedGroups: [], unconfirmed: [], steadyMs: 0, standby: [] })
    for (const text of ['null', '{"version":2,"entries":[]}', '{"version":1}']) {
      await writeFile(path, text)
      expect(() => readJournal(path)).toThrow(`${path} is not a journal of this action`)
    }
  })
})
