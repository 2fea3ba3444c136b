import { InputError } from './errors'
import type { OperationKind } from './operation'

/** A server as `GET /v1/{project_id}/cloudservers/detail` lists it, reduced to what selection needs. */
export interface ListedServer {
  id: string
  name: string
  status: string
  /** `key=value` strings, as the API returns them. */
  tags: string[]
}

export interface Filters {
  tags: { key: string; value: string }[]
  /** Exact name, or a glob with `*` and `?`. */
  name: string | undefined
  /** Only servers in one of these states; empty for any. */
  statuses: string[]
}

/** The server states the ECS API documents. */
export const SERVER_STATES = [
  'ACTIVE',
  'BUILD',
  'ERROR',
  'HARD_REBOOT',
  'MIGRATING',
  'REBOOT',
  'REBUILD',
  'RESIZE',
  'REVERT_RESIZE',
  'SHELVED',
  'SHELVED_OFFLOADED',
  'SHUTOFF',
  'UNKNOWN',
  'VERIFY_RESIZE'
]

/** The state a server must be in for the operation to make sense (`skip-inactive`). */
export const REQUIRED_STATE: Record<OperationKind, string> = { reboot: 'ACTIVE', stop: 'ACTIVE', start: 'SHUTOFF' }

function entries(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
}

/** `key=value` per line or comma-separated; every tag must match. */
export function parseTags(text: string): Filters['tags'] {
  return entries(text).map((entry) => {
    const equals = entry.indexOf('=')
    const key = equals === -1 ? '' : entry.slice(0, equals).trim()
    if (key === '' || /[\s=]/.test(key)) {
      throw new InputError('tags', `${JSON.stringify(entry.slice(0, 60))} is not a tag; write key=value, e.g. app=web`)
    }
    return { key, value: entry.slice(equals + 1).trim() }
  })
}

export function parseName(text: string): string | undefined {
  if (text === '') return undefined
  if (text.length > 255 || /[\0\r\n]/.test(text)) {
    throw new InputError('name', 'must be one line of at most 255 characters: an exact name or a glob with * and ?')
  }
  return text
}

export function parseStatuses(text: string): string[] {
  return [
    ...new Set(
      entries(text).map((entry) => {
        const state = entry.toUpperCase()
        if (!SERVER_STATES.includes(state)) {
          throw new InputError(
            'status',
            `${JSON.stringify(entry.slice(0, 40))} is not a server state; use any of ${SERVER_STATES.join(', ')}`
          )
        }
        return state
      })
    )
  ]
}

export function hasFilters(filters: Filters): boolean {
  return filters.tags.length > 0 || filters.name !== undefined || filters.statuses.length > 0
}

/** `*` any run of characters, `?` one character, everything else literal; the whole name must match. */
export function globToRegExp(glob: string): RegExp {
  const pattern = glob.replace(/[.*+?^${}()|[\]\\]/g, (char) =>
    char === '*' ? '.*' : char === '?' ? '.' : `\\${char}`
  )
  return new RegExp(`^${pattern}$`, 'su')
}

/** Why the server does not match the filters, or null when it does. */
export function mismatch(server: ListedServer, filters: Filters): string | null {
  for (const { key, value } of filters.tags) {
    if (!server.tags.includes(`${key}=${value}`)) return `filtered out: no tag ${key}=${value}`
  }
  if (filters.name !== undefined && !globToRegExp(filters.name).test(server.name)) {
    return `filtered out: name ${JSON.stringify(server.name)} does not match ${JSON.stringify(filters.name)}`
  }
  if (filters.statuses.length > 0 && !filters.statuses.includes(server.status)) {
    return `filtered out: state ${server.status} is not ${filters.statuses.join(' or ')}`
  }
  return null
}

export interface Selection {
  /** Every server the run accounts for: the requested IDs, or the filters' matches. */
  considered: string[]
  /** What to act on, in order. */
  chosen: string[]
  skipped: { id: string; reason: string }[]
}

/**
 * Decides which servers to act on. With IDs, each must also match the filters (and be in the
 * state the operation needs, with `skip-inactive`); the others are skipped with the reason.
 * Without IDs, the filters' matches are the servers considered.
 */
export function selectServers(
  requested: readonly string[],
  listed: readonly ListedServer[] | undefined,
  filters: Filters,
  requiredState: string | undefined
): Selection {
  if (listed === undefined) return { considered: [...requested], chosen: [...requested], skipped: [] }
  const byId = new Map(listed.map((server) => [server.id, server]))
  const considered =
    requested.length > 0 ? [...requested] : listed.filter((s) => mismatch(s, filters) === null).map((s) => s.id)
  const chosen: string[] = []
  const skipped: Selection['skipped'] = []
  for (const id of considered) {
    const server = byId.get(id)
    const reason =
      server === undefined
        ? 'not found: the project lists no such server'
        : (mismatch(server, filters) ??
          (requiredState !== undefined && server.status !== requiredState
            ? `wrong state: ${server.status}, not ${requiredState}`
            : null))
    if (reason === null) chosen.push(id)
    else skipped.push({ id, reason })
  }
  return { considered, chosen, skipped }
}
