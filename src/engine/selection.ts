import type { ListedServer } from '../cloud/ecs'
import type { KnownServers, ServerFacts } from './known'

/**
 * A tag the servers must carry: `value` undefined for the key with any value (bare or not), `''`
 * for a bare key or an empty value, else exactly that value.
 */
export interface TagFilter {
  key: string
  value: string | undefined
}

export interface Filters {
  tags: TagFilter[]
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

/**
 * A server's tag as the API lists it: `key=value`, or the bare `key` when the value is empty
 * (the SDKs' ServerDetail: "如果value为空字符串，则仅返回key"). The key ends at the first `=`.
 */
export function splitTag(tag: string): { key: string; value: string } {
  const equals = tag.indexOf('=')
  return equals === -1 ? { key: tag, value: '' } : { key: tag.slice(0, equals), value: tag.slice(equals + 1) }
}

/** The filter as the user writes it: `key`, `key=` or `key=value`. */
export function formatTagFilter({ key, value }: TagFilter): string {
  return value === undefined ? key : `${key}=${value}`
}

function carriesTag(tags: readonly string[], filter: TagFilter): boolean {
  return tags.some((tag) => {
    const { key, value } = splitTag(tag)
    return key === filter.key && (filter.value === undefined || value === filter.value)
  })
}

function describeMissingTag(filter: TagFilter): string {
  if (filter.value === undefined) return `no tag ${filter.key} (with any value)`
  if (filter.value === '') return `no tag ${filter.key} without a value`
  return `no tag ${formatTagFilter(filter)}`
}

/** Why the server does not match the filters, or null when it does. */
export function mismatch(server: ListedServer, filters: Filters): string | null {
  for (const filter of filters.tags) {
    if (!carriesTag(server.tags, filter)) return `filtered out: ${describeMissingTag(filter)}`
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
