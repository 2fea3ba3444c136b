import { isAbsolute, relative, resolve } from 'node:path'
import { SERVER_STATES } from '../../cloud/ecs'
import { type Filters, hasFilters } from '../../engine/selection'
import { InputError } from '../errors'
import { type InputSource, type Problems, quoted, trimmedInput } from './source'
import { parseBoolean } from './values'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const UUID_PREFIX = /^[0-9a-f]{1,8}(-[0-9a-f]{0,4}){0,4}$/i
const EXAMPLE_ID = '616fb98f-46ca-475e-917e-2563e5a8cd19'
const ENTERPRISE_PROJECT_ID = /^([0-9a-f-]{1,64}|all_granted_eps)$/i

/** Which servers the run is about, and what to do when there are none. */
export interface ServerInputs {
  /** From `server-ids` and `server-ids-file`, deduplicated; empty when filters select. */
  serverIds: string[]
  filters: Filters
  enterpriseProjectId: string | undefined
  allowEmpty: boolean
  skipInactive: boolean
}

/** Splits on commas and any whitespace; lower-cases, removes duplicates, keeps first-seen order. */
export function splitServerIds(text: string): string[] {
  const tokens = text.split(/[\s,]+/).filter((token) => token !== '')
  return [...new Set(tokens.map((token) => token.toLowerCase()))]
}

export function parseServerIds(text: string, input = 'server-ids'): string[] {
  const ids = splitServerIds(text)
  if (ids.length === 0) {
    throw new InputError(
      input,
      `no server IDs given; list ECS server IDs (UUIDs such as ${EXAMPLE_ID}) separated by commas, spaces or newlines`
    )
  }
  const invalid = ids.filter((id) => !UUID.test(id))
  if (invalid.length > 0) {
    const shown = invalid
      .slice(0, 5)
      .map((token) => quoted(token))
      .join(', ')
    const more = invalid.length > 5 ? ` and ${invalid.length - 5} more` : ''
    const last = ids[ids.length - 1]
    // The runner passes each input in one environment variable, which Linux caps at 128 KiB.
    const cutOff =
      input === 'server-ids' && invalid.includes(last) && UUID_PREFIX.test(last)
        ? ` The last entry looks cut off: one input holds at most 128 KiB (about 3,500 IDs); use server-ids-file or filters for more.`
        : ''
    throw new InputError(
      input,
      `${invalid.length} of ${ids.length} entries are not server IDs: ${shown}${more}. Each must be a UUID such as ${EXAMPLE_ID}.${cutOff}`
    )
  }
  return ids
}

/** The text without `#` comments: whole comment lines, and a `# note` after an ID. */
function withoutComments(text: string): string {
  return text.replace(/#[^\n]*/g, '')
}

/** A file of IDs inside the workspace, in the same format as `server-ids`, with `#` comments allowed. */
export function readServerIdsFile(path: string, workspace: string, readFile: (path: string) => string): string[] {
  const full = resolve(workspace, path)
  const inside = relative(workspace, full)
  if (isAbsolute(path) || inside.startsWith('..') || isAbsolute(inside)) {
    throw new InputError(
      'server-ids-file',
      `${quoted(path)} is not a path inside the workspace; give one relative to it`
    )
  }
  let text: string
  try {
    text = readFile(full)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable'
    throw new InputError(
      'server-ids-file',
      `${quoted(path)} cannot be read (${code}); check the path relative to the workspace`
    )
  }
  return parseServerIds(withoutComments(text), 'server-ids-file')
}

function entries(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
}

/**
 * `key=value`, `key=` (a bare tag or an empty value) or `key` alone (any value), per line or
 * comma-separated; every tag must match.
 */
export function parseTags(text: string): Filters['tags'] {
  return entries(text).map((entry) => {
    const equals = entry.indexOf('=')
    const key = (equals === -1 ? entry : entry.slice(0, equals)).trim()
    if (key === '' || /[\s=]/.test(key)) {
      throw new InputError(
        'tags',
        `${quoted(entry, 60)} is not a tag; write key=value, key= (no value) or key alone (any value), e.g. app=web`
      )
    }
    return { key, value: equals === -1 ? undefined : entry.slice(equals + 1).trim() }
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
            `${quoted(entry)} is not a server state; use any of ${SERVER_STATES.join(', ')}`
          )
        }
        return state
      })
    )
  ]
}

function readServerIds(source: InputSource, problems: Problems): string[] {
  const idsText = source.getInput('server-ids')
  const listed = idsText.trim() === '' ? [] : problems.check(() => parseServerIds(idsText), [])
  const idsFile = trimmedInput(source, 'server-ids-file')
  const workspace = source.env.GITHUB_WORKSPACE ?? process.cwd()
  const fromFile =
    idsFile === ''
      ? []
      : problems.check(() => readServerIdsFile(idsFile, workspace, (path) => source.readFile(path)), [])
  return [...new Set([...listed, ...fromFile])]
}

/** `server-ids`, `server-ids-file`, the filters, `enterprise-project-id`, `allow-empty` and `skip-inactive`. */
export function readServerInputs(source: InputSource, problems: Problems): ServerInputs {
  const serverIds = readServerIds(source, problems)
  const filters: Filters = {
    tags: problems.check(() => parseTags(source.getInput('tags')), []),
    name: problems.check(() => parseName(trimmedInput(source, 'name'))),
    statuses: problems.check(() => parseStatuses(source.getInput('status')), [])
  }
  problems.check(() => {
    const named = trimmedInput(source, 'server-ids') !== '' || trimmedInput(source, 'server-ids-file') !== ''
    if (!named && !hasFilters(filters)) {
      throw new InputError(
        'server-ids',
        `no servers selected; list server IDs (UUIDs such as ${EXAMPLE_ID}), give server-ids-file, or select by tags, name or status`
      )
    }
  })
  const enterpriseProjectId = trimmedInput(source, 'enterprise-project-id') || undefined
  problems.check(() => {
    if (enterpriseProjectId !== undefined && !ENTERPRISE_PROJECT_ID.test(enterpriseProjectId)) {
      throw new InputError('enterprise-project-id', 'must be an enterprise project ID, or all_granted_eps')
    }
  })
  return {
    serverIds,
    filters,
    enterpriseProjectId,
    allowEmpty: problems.check(() => parseBoolean('allow-empty', trimmedInput(source, 'allow-empty'), false)),
    skipInactive: problems.check(() => parseBoolean('skip-inactive', trimmedInput(source, 'skip-inactive'), false))
  }
}
