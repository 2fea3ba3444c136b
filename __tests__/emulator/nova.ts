/**
 * The Nova routes the benchmark's per-server contender uses: reboot one server
 * (`POST /v2.1/{project_id}/servers/{server_id}/action`) and show it (`GET …/servers/{server_id}`).
 * They share the servers, restarts and rate limit of the ECS routes.
 */
import type { Route } from './core'
import type { Fleet } from './fleet'
import { ecsError, isPlainObject, NOT_JSON, novaError, parseBody, type Reply } from './http'

/** Nova's own spellings of the reboot types. */
const NOVA_REBOOT_TYPES = new Set(['SOFT', 'Soft', 'soft', 'HARD', 'Hard', 'hard'])

function notFound(serverId: string): Reply {
  return { status: 404, body: novaError('itemNotFound', 404, `Instance ${serverId} could not be found.`) }
}

export function novaRoutes(fleet: Fleet): Route[] {
  /**
   * `POST /v2.1/{project_id}/servers/{server_id}/action` with `{"reboot":{"type":"SOFT"|"HARD"}}`:
   * 202 with no body, one restart counted. Unknown servers get Nova's 404 itemNotFound (in either
   * `unknownServers` mode), `rejectServers` their status and ECS error, bad bodies 400 badRequest.
   */
  const reboot = (serverId: string, body: string): Reply => {
    const bad = (message: string): Reply => ({ status: 400, body: novaError('badRequest', 400, message) })
    const parsed = parseBody(body)
    if (parsed === NOT_JSON) return bad('Malformed request body')
    if (!isPlainObject(parsed) || Object.keys(parsed).length !== 1 || !isPlainObject(parsed.reboot)) {
      return bad('Invalid input for the action: the emulator supports only {"reboot":{"type":"SOFT"|"HARD"}}.')
    }
    const type = parsed.reboot.type
    if (typeof type !== 'string' || !NOVA_REBOOT_TYPES.has(type)) {
      return bad("Invalid input for field/attribute type. Value must be one of 'SOFT', 'HARD'.")
    }
    if (fleet.isUnknown(serverId)) return notFound(serverId)
    const rejection = fleet.rejectionOf(serverId)
    if (rejection) return { status: rejection.status, body: ecsError(rejection.code, rejection.reason) }
    const throttled = fleet.limiter.admit(1)
    if (throttled) return throttled
    fleet.noteReboot(serverId, type.toUpperCase() === 'HARD', fleet.failureOf(serverId))
    fleet.countRestart(serverId)
    return { status: 202 }
  }

  /**
   * `GET /v2.1/{project_id}/servers/{server_id}`: `{"server":{"id","status"}}`, the status being
   * `REBOOT` (`HARD_REBOOT`) until `jobDurationMs` after its last restart (batch or Nova), then
   * `ACTIVE`, or `ERROR` (with a `fault`) for a server in `serverFailures`.
   */
  const show = (serverId: string): Reply => {
    if (fleet.isUnknown(serverId)) return notFound(serverId)
    const restart = fleet.lastReboot(serverId)
    const server: Record<string, unknown> = { id: serverId, status: 'ACTIVE' }
    if (restart && fleet.now() - restart.at < fleet.jobDurationMs) {
      server.status = restart.hard ? 'HARD_REBOOT' : 'REBOOT'
    } else if (restart?.failure) {
      server.status = 'ERROR'
      server.fault = { code: 500, message: restart.failure.reason }
    }
    return { status: 200, body: { server } }
  }

  return [
    {
      name: 'nova-action',
      method: 'POST',
      path: /^\/v2\.1\/([^/]+)\/servers\/([^/]+)\/action$/,
      auth: 'project',
      handle: ({ params, body }) => reboot(params[0], body)
    },
    {
      // `servers/detail` is Nova's list route, not a server.
      name: 'nova-server',
      method: 'GET',
      path: /^\/v2\.1\/([^/]+)\/servers\/(?!detail$)([^/]+)$/,
      auth: 'project',
      handle: ({ params }) => show(params[0])
    }
  ]
}
