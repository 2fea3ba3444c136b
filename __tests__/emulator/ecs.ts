/**
 * The ECS routes: the batch action (`POST /v1/{project_id}/cloudservers/action`: reboot, os-start,
 * os-stop), its jobs (`GET /v1/{project_id}/jobs/{job_id}`), and the inventory's list and detail
 * (`GET /v1/{project_id}/cloudservers/detail` and `/cloudservers/{server_id}`).
 */
import type { Route } from './core'
import type { Fleet } from './fleet'
import { ecsError, isPlainObject, newHexId, NOT_JSON, parseBody, type Reply } from './http'
import type { Action } from './inventory'
import { MAX_SERVERS_PER_REQUEST, type ServerFailure } from './options'

const JOB_TYPES: Record<Action, { job: string; subJob: string }> = {
  reboot: { job: 'batchRebootServers', subJob: 'rebootServer' },
  'os-start': { job: 'batchStartServers', subJob: 'startServer' },
  'os-stop': { job: 'batchStopServers', subJob: 'stopServer' }
}
const UNKNOWN_SERVER: ServerFailure = { code: 'Ecs.0114', reason: 'The ECS does not exist.' }
const WRONG_STATE: ServerFailure = { code: 'Ecs.0100', reason: 'The ECS status does not meet requirements.' }

interface Job {
  id: string
  projectId: string
  action: Action
  servers: string[]
  /** Index in `servers` -> failure; only failing sub-jobs are stored. */
  failures: Map<number, ServerFailure>
  firstFailure: ServerFailure | undefined
  submittedAt: number
}

/** A valid batch action body: the action, whether it is HARD, and the server ids; or the 400 answer. */
function parseAction(body: string): { action: Action; hard: boolean; servers: string[] } | Reply {
  const invalid = (message: string): Reply => ({
    status: 400,
    body: ecsError('Ecs.0005', `Invalid parameter values: ${message}`)
  })
  const parsed = parseBody(body)
  if (parsed === NOT_JSON) return invalid('the request body is not valid JSON.')
  if (!isPlainObject(parsed)) return invalid('the request body must be an object.')
  const keys = Object.keys(parsed)
  if (keys.length !== 1 || !(keys[0] in JOB_TYPES)) {
    return invalid('exactly one of reboot, os-start, os-stop is required.')
  }
  const action = keys[0] as Action
  const spec = parsed[action]
  if (!isPlainObject(spec)) return invalid(`${action} must be an object.`)
  if ((action !== 'os-start' || spec.type !== undefined) && spec.type !== 'SOFT' && spec.type !== 'HARD') {
    return invalid(`${action}.type must be SOFT or HARD.`)
  }
  const list = spec.servers
  if (!Array.isArray(list) || list.length === 0) return invalid(`${action}.servers must be a non-empty array.`)
  if (list.length > MAX_SERVERS_PER_REQUEST) {
    return { status: 400, body: ecsError('Ecs.0118', 'The number of ECSs exceeds the maximum allowed limit.') }
  }
  const servers = new Array<string>(list.length)
  for (let i = 0; i < list.length; i++) {
    const item: unknown = list[i]
    if (!isPlainObject(item) || typeof item.id !== 'string' || item.id.length === 0) {
      return invalid(`${action}.servers[${i}].id must be a non-empty string.`)
    }
    servers[i] = item.id
  }
  return { action, hard: spec.type === 'HARD', servers }
}

export class EcsService {
  private readonly jobs = new Map<string, Job>()
  private readonly jobOrder: string[] = []

  constructor(private readonly fleet: Fleet) {}

  /** Job ids created, in order. */
  jobIds(): string[] {
    return [...this.jobOrder]
  }

  routes(): Route[] {
    return [
      {
        name: 'submit',
        method: 'POST',
        path: /^\/v1\/([^/]+)\/cloudservers\/action$/,
        auth: 'project',
        handle: ({ projectId, body }) => this.submit(projectId, body)
      },
      {
        name: 'job',
        method: 'GET',
        path: /^\/v1\/([^/]+)\/jobs\/([^/]+)$/,
        auth: 'project',
        handle: ({ projectId, params }) => this.queryJob(projectId, params[0])
      },
      {
        name: 'list',
        method: 'GET',
        path: /^\/v1\/([^/]+)\/cloudservers\/detail$/,
        auth: 'project',
        handle: ({ url }) => this.listServers(url)
      },
      {
        // `cloudservers/action` is only for POST, `cloudservers/detail` is the list.
        name: 'server',
        method: 'GET',
        path: /^\/v1\/([^/]+)\/cloudservers\/(?!(?:action|detail)$)([^/]+)$/,
        auth: 'project',
        handle: ({ params }) => this.showServer(params[0])
      }
    ]
  }

  private submit(projectId: string, body: string): Reply {
    const parsed = parseAction(body)
    if ('status' in parsed) return parsed
    const { action, hard, servers } = parsed
    const { fleet } = this
    const failures = new Map<number, ServerFailure>()
    let firstFailure: ServerFailure | undefined
    for (let i = 0; i < servers.length; i++) {
      const rejection = fleet.rejectionOf(servers[i])
      if (rejection) {
        // The whole batch is refused for this server: no job, no restart for any server in it.
        return { status: rejection.status, body: ecsError(rejection.code, rejection.reason) }
      }
      let failure: ServerFailure | undefined
      if (fleet.isUnknown(servers[i])) {
        if (fleet.unknownServers === 'reject') {
          return { status: 404, body: ecsError('Ecs.0114', `The ECS does not exist. server_id: ${servers[i]}`) }
        }
        failure = UNKNOWN_SERVER
      } else {
        failure = fleet.inventory.inWrongState(servers[i], action) ? WRONG_STATE : fleet.failureOf(servers[i])
      }
      if (failure) {
        failures.set(i, failure)
        firstFailure ??= failure
      }
    }

    const distinct = new Set(servers)
    // Start and stop count against the limit like reboot (the documented 1000 per minute is for each).
    const throttled = fleet.limiter.admit(distinct.size)
    if (throttled) return throttled
    if (action === 'reboot') {
      for (let i = 0; i < servers.length; i++) fleet.noteReboot(servers[i], hard, failures.get(i))
    }
    for (const id of distinct) fleet.countRestart(id)
    for (let i = 0; i < servers.length; i++) {
      if (!failures.has(i)) fleet.inventory.begin(servers[i], action, hard, fleet.jobDurationMs)
    }
    const job: Job = { id: newHexId(), projectId, action, servers, failures, firstFailure, submittedAt: fleet.now() }
    this.jobs.set(job.id, job)
    this.jobOrder.push(job.id)
    return { status: 200, body: { job_id: job.id } }
  }

  /**
   * `GET /v1/{project_id}/cloudservers/detail`: a page of the inventory, after `marker` (the ID of
   * a server, listed or deleted) or else by `offset` (a page number; 0 counts as 1). Then the
   * inventory changes as `churnWhileListing` says.
   */
  private listServers(url: URL): Reply {
    const limitText = url.searchParams.get('limit')
    const offsetText = url.searchParams.get('offset')
    const marker = url.searchParams.get('marker')
    const limit = limitText === null ? 25 : Number(limitText)
    const page = offsetText === null ? 1 : Math.max(1, Number(offsetText))
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000 || !Number.isInteger(page)) {
      return { status: 400, body: ecsError('Ecs.0005', 'Invalid parameter values: offset or limit.') }
    }
    const project = url.searchParams.get('enterprise_project_id')
    const { inventory, churnWhileListing } = this.fleet
    const listed = inventory.list(
      project,
      marker === null ? { start: (page - 1) * limit, end: page * limit } : { marker, limit }
    )
    if (listed === undefined) {
      return { status: 400, body: ecsError('Ecs.0005', `Invalid parameter values: marker ${marker} not found.`) }
    }
    for (const id of inventory.firstListed(churnWhileListing.delete)) inventory.delete(id)
    for (let i = 0; i < churnWhileListing.create; i++) inventory.create()
    return { status: 200, body: listed }
  }

  /** `GET /v1/{project_id}/cloudservers/{server_id}`. */
  private showServer(serverId: string): Reply {
    const server = this.fleet.inventory.show(serverId)
    if (server === undefined) return { status: 404, body: ecsError('Ecs.0114', 'The ECS does not exist.') }
    return { status: 200, body: { server } }
  }

  private queryJob(projectId: string, jobId: string): Reply {
    const job = this.jobs.get(jobId)
    const hidden = job !== undefined && this.fleet.now() - job.submittedAt < this.fleet.jobHiddenMs
    if (!job || job.projectId !== projectId || hidden) {
      return { status: 400, body: ecsError('Common.0011', 'Failed to query system tasks.') }
    }
    const duration = this.fleet.jobDurationMs
    const elapsed = this.fleet.now() - job.submittedAt
    const types = JOB_TYPES[job.action]
    const terminal = elapsed >= duration
    const beginTime = new Date(job.submittedAt).toISOString()
    const endTime = terminal ? new Date(job.submittedAt + duration).toISOString() : null
    /** A job or sub-job, its fields in the API's order. */
    const describe = (id: string, type: string, failure: ServerFailure | undefined, entities: object): object => ({
      status: terminal ? (failure ? 'FAIL' : 'SUCCESS') : 'RUNNING',
      job_id: id,
      job_type: type,
      begin_time: beginTime,
      end_time: endTime,
      error_code: failure?.code ?? null,
      fail_reason: failure?.reason ?? null,
      entities
    })

    if (!terminal && elapsed < duration * 0.2) {
      const body = describe(job.id, types.job, undefined, { sub_jobs_total: 0, sub_jobs: [] })
      return { status: 200, body: { ...body, status: 'INIT' } }
    }
    // Sub-job ids derive from the job id and the index, so nothing per server is stored.
    const prefix = job.id.slice(0, 24)
    const subJobs = new Array<object>(job.servers.length)
    for (let i = 0; i < job.servers.length; i++) {
      const failure = terminal ? job.failures.get(i) : undefined
      const server_id = job.servers[i]
      const entities = failure ? { server_id, errorcode_message: failure.reason } : { server_id }
      subJobs[i] = describe(prefix + i.toString(16).padStart(8, '0'), types.subJob, failure, entities)
    }
    const entities = { sub_jobs_total: job.servers.length, sub_jobs: subJobs }
    return { status: 200, body: describe(job.id, types.job, terminal ? job.firstFailure : undefined, entities) }
  }
}
