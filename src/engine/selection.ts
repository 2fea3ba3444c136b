import type { ListedServer } from '../cloud/ecs'
import type { KnownServers, ServerFacts } from './known'

export interface Filters {
  tags: { key: string; value: string }[]
  /** Exact name, or a glob with `*` and `?`. */
  name: string | undefined
  /** Only servers in one of these states; empty for any. */
  statuses: string[]
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
  /** The name and state of each considered server the project listed; empty when nothing was listed. */
  known: KnownServers
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
  if (listed === undefined) return { considered: [...requested], chosen: [...requested], skipped: [], known: new Map() }
  const byId = new Map(listed.map((server) => [server.id, server]))
  const considered =
    requested.length > 0 ? [...requested] : listed.filter((s) => mismatch(s, filters) === null).map((s) => s.id)
  const chosen: string[] = []
  const skipped: Selection['skipped'] = []
  const known = new Map<string, ServerFacts>()
  for (const id of considered) {
    const server = byId.get(id)
    if (server !== undefined) known.set(id, { name: server.name, status: server.status })
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
  return { considered, chosen, skipped, known }
}
