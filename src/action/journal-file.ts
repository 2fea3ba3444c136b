import { randomUUID } from 'node:crypto'
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Journal } from '../engine/health-gate/types'

/** The name under which the main step saves the journal's path for the post step (`STATE_elb_journal`). */
export const JOURNAL_STATE = 'elb_journal'

/** A new journal path in the runner's temporary folder. */
export function newJournalPath(env: Record<string, string | undefined>): string {
  return join(env.RUNNER_TEMP || tmpdir(), `ecs-batch-restart-elb-journal-${randomUUID()}.json`)
}

/** Writes the journal atomically: a temporary file renamed over the old one, so a kill never leaves half a file. */
export function writeJournal(path: string, journal: Journal): void {
  const temporary = `${path}.${process.pid}.tmp`
  writeFileSync(temporary, JSON.stringify(journal, null, 1))
  renameSync(temporary, path)
}

export function readJournal(path: string): Journal {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<Journal> | null
  if (parsed?.version !== 1 || !Array.isArray(parsed.entries))
    throw new Error(`${path} is not a journal of this action`)
  return {
    version: 1,
    entries: parsed.entries,
    pausedGroups: parsed.pausedGroups ?? [],
    unconfirmed: parsed.unconfirmed ?? [],
    steadyMs: parsed.steadyMs ?? 0,
    standby: parsed.standby ?? []
  }
}
