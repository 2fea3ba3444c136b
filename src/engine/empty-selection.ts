import type { ListedServer } from '../cloud/ecs'
import { hideUserInfo, plural } from '../shared/text'
import { type Filters, type Selection, formatTagFilter, globToRegExp, mismatch } from './selection'

/** What was asked, for explaining why it selected nothing. */
export interface SelectionRequest {
  requested: readonly string[]
  listed: readonly ListedServer[]
  filters: Filters
  /** The state `skip-inactive` required, if it was set. */
  requiredState: string | undefined
  /** Where the servers were looked for, e.g. "project 0123… (region ap-southeast-1)". */
  where: string
}

/** Near-misses are only offered for strings this short, which keeps the comparison cheap. */
const MAX_COMPARED_LENGTH = 128
const MAX_SUGGESTIONS = 3

/**
 * Edits (insert, delete, replace, swap two neighbours) from `a` to `b`, or `limit + 1` as soon as
 * it is known to exceed `limit`.
 */
export function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1
  let before: number[] = []
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      let best = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, before[j - 2] + 1)
      current.push(best)
    }
    if (Math.min(...current) > limit) return limit + 1
    before = previous
    previous = current
  }
  return previous[b.length]
}

/** The candidates closest to `wanted`: the same ignoring case, or a typo or two away. */
export function closest(wanted: string, candidates: Iterable<string>): string[] {
  const limit = wanted.length <= 8 ? 1 : 2
  const scored: [string, number][] = []
  for (const candidate of new Set(candidates)) {
    if (candidate === wanted || candidate.length > MAX_COMPARED_LENGTH) continue
    // Case is never a typo's only difference worth counting: compare ignoring it.
    const distance = editDistance(wanted.toLowerCase(), candidate.toLowerCase(), limit)
    if (distance <= limit) scored.push([candidate, distance])
  }
  return scored
    .sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))
    .slice(0, MAX_SUGGESTIONS)
    .map(([candidate]) => candidate)
}

function suggestion(found: string[]): string {
  return found.length > 0 ? ` (closest: ${found.map((f) => JSON.stringify(f)).join(', ')})` : ''
}

/** The names that match the glob ignoring case, else (for a plain name) those a typo or two away. */
function nameSuggestions(glob: string, names: string[]): string[] {
  const loose = new RegExp(globToRegExp(glob).source, 'isu')
  const ignoringCase = names.filter((name) => loose.test(name)).slice(0, MAX_SUGGESTIONS)
  if (ignoringCase.length > 0 || /[*?]/.test(glob)) return ignoringCase
  return closest(glob, names)
}

/** One phrase per filter that matches none of the listed servers, with near-misses where there are some. */
function filterMisses(filters: Filters, listed: readonly ListedServer[]): string[] {
  const misses: string[] = []
  const only = (part: Partial<Filters>): Filters => ({ tags: [], name: undefined, statuses: [], ...part })
  for (const tag of filters.tags) {
    if (listed.some((server) => mismatch(server, only({ tags: [tag] })) === null)) continue
    const text = formatTagFilter(tag)
    misses.push(
      `no server has the tag ${JSON.stringify(text)}${suggestion(
        closest(
          text,
          listed.flatMap((s) => s.tags)
        )
      )}`
    )
  }
  const name = filters.name
  if (name !== undefined && !listed.some((server) => mismatch(server, only({ name })) === null)) {
    const names = listed.map((server) => server.name)
    misses.push(
      `no server name matches ${JSON.stringify(hideUserInfo(name))}${suggestion(nameSuggestions(name, names))}`
    )
  }
  if (filters.statuses.length > 0 && !listed.some((server) => filters.statuses.includes(server.status))) {
    misses.push(`no server is ${filters.statuses.join(' or ')} (${describeStates(listed)})`)
  }
  return misses
}

/** "3 ACTIVE, 1 SHUTOFF". */
function describeStates(servers: readonly ListedServer[]): string {
  const counts = new Map<string, number>()
  for (const server of servers) counts.set(server.status, (counts.get(server.status) ?? 0) + 1)
  return [...counts].map(([state, count]) => `${count} ${state}`).join(', ')
}

/** Why the IDs given selected nothing: missing, filtered out, or in the wrong state. */
function explainRequested(request: SelectionRequest, selection: Selection): string {
  const { requested, listed, where } = request
  const count = (prefix: string): number => selection.skipped.filter((s) => s.reason.startsWith(prefix)).length
  const missing = count('not found')
  if (missing === requested.length) {
    return `none of the ${plural(requested.length, 'server')} named by server-ids and server-ids-file exist in ${where}, which lists ${plural(listed.length, 'server')}. Check the IDs, and that project-id or region (and enterprise-project-id) point where the servers are.`
  }
  const filtered = count('filtered out')
  const wrongState = count('wrong state')
  const parts = [
    missing > 0 ? `${missing} ${missing === 1 ? 'does' : 'do'} not exist in ${where}` : '',
    filtered > 0 ? `${filtered} did not match the filters` : '',
    wrongState > 0
      ? `${wrongState} ${wrongState === 1 ? 'was' : 'were'} not ${request.requiredState} (skip-inactive)`
      : ''
  ]
  const named = new Set(requested)
  const misses = filterMisses(
    request.filters,
    listed.filter((s) => named.has(s.id))
  )
  return `of the ${plural(requested.length, 'server')} named, ${parts.filter(Boolean).join(', ')}.${misses.length > 0 ? ` Among them, ${misses.join('; ')}.` : ''}`
}

/**
 * Why a selection came out empty, in one or two sentences for the error: the IDs given do not
 * exist, the filters matched none of the listed servers (with near-misses for tags and names),
 * or `skip-inactive` left none.
 */
export function explainNothingSelected(request: SelectionRequest, selection: Selection): string {
  const { listed, filters, where } = request
  if (request.requested.length > 0) return explainRequested(request, selection)
  if (listed.length === 0) {
    return `${where} lists no servers. Check project-id or region, enterprise-project-id, and that the credentials may list servers.`
  }
  const matched = listed.filter((server) => mismatch(server, filters) === null)
  if (matched.length > 0) {
    return `the filters matched ${plural(matched.length, 'server')} in ${where}, but skip-inactive left none: they are ${describeStates(matched)}, and the operation needs ${request.requiredState ?? 'another state'}.`
  }
  const misses = filterMisses(filters, listed)
  const why = misses.length > 0 ? misses.join('; ') : 'each filter matches some servers, but none matches all of them'
  return `the filters matched none of the ${plural(listed.length, 'server')} listed in ${where}: ${why}.`
}
