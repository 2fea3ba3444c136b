/**
 * A fleet for the stand-alone emulator (`serve.ts --fleet`, `npm run try`): servers with names,
 * tags and states, and the restarts that fail, read from a JSON file and checked with errors that
 * name the file, the entry and what is allowed. `examples/fleet.json` documents the format and is
 * the default fleet of `npm run emulator`.
 *
 *   {
 *     "description": "optional text",
 *     "servers": [
 *       { "id": "<UUID>", "name": "web-1", "status": "ACTIVE", "tags": ["app=web", "canary"],
 *         "enterpriseProjectId": "0", "fail": { "code": "Ecs.0227", "reason": "Failed to reboot." } }
 *     ]
 *   }
 *
 * `status` (default ACTIVE), `tags` (default none; `key=value`, or a bare `key` as the API lists a
 * tag without a value), `enterpriseProjectId` (default "0") and `fail` are optional. `fail` makes
 * that server's sub-job end FAIL with the code (its `reason` defaults to the cloud's wording for
 * the known codes).
 */
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { EmulatorServer, ServerFailure } from './options'

/** The stand-alone emulator's default fleet, which is also the documented example. */
export const DEFAULT_FLEET_FILE = resolve(__dirname, '../../examples/fleet.json')

/** The cloud's reasons for the failure codes a fleet or `--fail` is likely to use. */
export const KNOWN_REASONS: Record<string, string> = {
  'Ecs.0100': 'The ECS status does not meet requirements.',
  'Ecs.0114': 'The ECS does not exist.',
  'Ecs.0227': 'Failed to reboot.',
  'Ecs.0605': 'ECS locked.',
  'Ecs.0611': 'Batch operation failed.'
}

/** The reason for a failure code without one: the cloud's wording when known. */
export function reasonFor(code: string): string {
  return KNOWN_REASONS[code] ?? `Emulated failure ${code}.`
}

/** States a listed server may be in (the ECS API's `status` values). */
export const SERVER_STATES = [
  'ACTIVE',
  'SHUTOFF',
  'BUILD',
  'REBOOT',
  'HARD_REBOOT',
  'REBUILD',
  'MIGRATING',
  'RESIZE',
  'VERIFY_RESIZE',
  'REVERT_RESIZE',
  'ERROR',
  'DELETED'
]

/** What a fleet file gives the emulator: its `inventory` and `serverFailures`. */
export interface FleetSpec {
  servers: EmulatorServer[]
  failures: Record<string, ServerFailure>
}

export class FleetFileError extends Error {
  override name = 'FleetFileError'
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const FAILURE_CODE = /^[A-Za-z]+\.\d{4}$/
const SERVER_KEYS = ['id', 'name', 'status', 'tags', 'enterpriseProjectId', 'fail']

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const shown = (value: unknown): string => (value === undefined ? 'undefined' : JSON.stringify(value))

/** The problems of one entry of `servers`, each starting with where it is. */
function checkServer(entry: unknown, at: string, seen: Set<string>): string[] {
  if (!isObject(entry)) return [`${at} must be an object, got ${shown(entry)}`]
  const problems: string[] = []
  for (const key of Object.keys(entry)) {
    if (!SERVER_KEYS.includes(key))
      problems.push(`${at} has an unknown field "${key}" (allowed: ${SERVER_KEYS.join(', ')})`)
  }
  const { id, name, status, tags, enterpriseProjectId, fail } = entry
  if (typeof id !== 'string' || !UUID.test(id)) {
    problems.push(`${at}.id must be a UUID such as 616fb98f-46ca-475e-917e-2563e5a8cd19, got ${shown(id)}`)
  } else if (seen.has(id.toLowerCase())) {
    problems.push(`${at}.id ${id} appears twice`)
  } else {
    seen.add(id.toLowerCase())
  }
  if (typeof name !== 'string' || name.trim() === '')
    problems.push(`${at}.name must be a non-empty string, got ${shown(name)}`)
  if (status !== undefined && (typeof status !== 'string' || !SERVER_STATES.includes(status))) {
    problems.push(`${at}.status must be one of ${SERVER_STATES.join(', ')}, got ${shown(status)}`)
  }
  if (tags !== undefined) {
    const bad = Array.isArray(tags)
      ? tags.filter((tag) => typeof tag !== 'string' || !/^[^=\s][^=]*(=.*)?$/.test(tag))
      : [tags]
    if (bad.length > 0) {
      problems.push(`${at}.tags must be a list of "key=value" or bare "key" strings, got ${bad.map(shown).join(', ')}`)
    }
  }
  if (enterpriseProjectId !== undefined && (typeof enterpriseProjectId !== 'string' || enterpriseProjectId === '')) {
    problems.push(`${at}.enterpriseProjectId must be a non-empty string, got ${shown(enterpriseProjectId)}`)
  }
  if (fail !== undefined) {
    const valid =
      isObject(fail) &&
      typeof fail.code === 'string' &&
      FAILURE_CODE.test(fail.code) &&
      (fail.reason === undefined || typeof fail.reason === 'string') &&
      Object.keys(fail).every((key) => key === 'code' || key === 'reason')
    if (!valid) {
      problems.push(`${at}.fail must be {"code": "Ecs.NNNN", "reason"?: "text"}, got ${shown(fail)}`)
    }
  }
  return problems
}

/**
 * Reads a fleet from a file's text; `source` (the file name) starts every error. Throws a
 * FleetFileError listing every problem found, one per line.
 */
export function parseFleet(text: string, source: string): FleetSpec {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (error) {
    throw new FleetFileError(`${source}: not valid JSON: ${(error as Error).message}`)
  }
  if (!isObject(data) || !Array.isArray(data.servers)) {
    throw new FleetFileError(
      `${source}: must be an object with a "servers" list, e.g. {"servers": [{"id": "…", "name": "web-1"}]}`
    )
  }
  const problems: string[] = []
  for (const key of Object.keys(data)) {
    if (key !== 'servers' && key !== 'description')
      problems.push(`unknown field "${key}" (allowed: description, servers)`)
  }
  if (data.servers.length === 0) problems.push('"servers" is empty: list at least one server')
  const seen = new Set<string>()
  data.servers.forEach((entry, index) => problems.push(...checkServer(entry, `servers[${index}]`, seen)))
  if (problems.length > 0) {
    throw new FleetFileError(`${source}: ${problems.length === 1 ? problems[0] : `\n  ${problems.join('\n  ')}`}`)
  }
  return toSpec(data.servers as Record<string, unknown>[])
}

function toSpec(entries: Record<string, unknown>[]): FleetSpec {
  const servers: EmulatorServer[] = []
  const failures: Record<string, ServerFailure> = {}
  for (const entry of entries) {
    const { fail, ...server } = entry as unknown as EmulatorServer & { fail?: { code: string; reason?: string } }
    servers.push(server)
    if (fail) failures[server.id] = { code: fail.code, reason: fail.reason ?? reasonFor(fail.code) }
  }
  return { servers, failures }
}

/** Reads and checks a fleet file; a FleetFileError names the file when it cannot be read. */
export async function loadFleetFile(path: string): Promise<FleetSpec> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new FleetFileError(
      `${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`
    )
  }
  return parseFleet(text, path)
}
