import type { ApiClient, ApiRequest } from './api'
import { ApiError } from './errors'
import { type Operation, actionBody } from './server-action'

/** A server as `GET /v1/{project_id}/cloudservers/detail` lists it, reduced to what selection needs. */
export interface ListedServer {
  id: string
  name: string
  status: string
  /** `key=value` strings, as the API returns them. */
  tags: string[]
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

/** Job IDs go into a URL path, so only a conservative alphabet is accepted. */
const JOB_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/

export type SubmitAnswer =
  | { accepted: true; jobId: string; requestId: string | undefined }
  /** A 2xx that is not a usable acceptance: the cloud may have started the work. */
  | { accepted: false; problem: string; requestId: string | undefined }

export class EcsClient {
  constructor(
    private readonly api: ApiClient,
    private readonly endpoint: URL,
    readonly projectId: string
  ) {}

  /**
   * Submits one restart request, once: a throttling or busy answer is thrown at once (an
   * {@link ApiError}), for the caller to wait and send again. Retries of a request that certainly
   * never left (connection refused) stop before they would wait past `giveUpAt`.
   */
  async submit(
    operation: Operation,
    serverIds: readonly string[],
    what: string,
    limits: Pick<ApiRequest, 'giveUpAt'> = {}
  ): Promise<SubmitAnswer> {
    const response = await this.api.request({
      what,
      ...limits,
      callerRetriesRefusals: true,
      method: 'POST',
      endpoint: this.endpoint,
      path: `/v1/${encodeURIComponent(this.projectId)}/cloudservers/action`,
      body: actionBody(operation, serverIds),
      projectId: this.projectId,
      idempotent: false
    })
    const jobId = (response.body as { job_id?: unknown } | undefined)?.job_id
    if (typeof jobId !== 'string') {
      return {
        accepted: false,
        problem: `the cloud answered HTTP ${response.status} without a job_id`,
        requestId: response.requestId
      }
    }
    if (!JOB_ID_PATTERN.test(jobId)) {
      return {
        accepted: false,
        problem: `the cloud answered with a malformed job_id ${JSON.stringify(jobId.slice(0, 80))}`,
        requestId: response.requestId
      }
    }
    return { accepted: true, jobId, requestId: response.requestId }
  }

  /**
   * Every server of the project (of one enterprise project, when given), page by page; the
   * offset is a page number. Servers seen on two pages (the list moved meanwhile) count once.
   */
  async listServers(enterpriseProjectId: string | undefined, giveUpAt?: number): Promise<ListedServer[]> {
    const servers = new Map<string, ListedServer>()
    for (let page = 1; page <= MAX_PAGES; page++) {
      const query: Record<string, string> = { offset: String(page), limit: String(PAGE_SIZE) }
      if (enterpriseProjectId !== undefined) query.enterprise_project_id = enterpriseProjectId
      const response = await this.api.request({
        what: `Listing servers (page ${page})`,
        giveUpAt,
        method: 'GET',
        endpoint: this.endpoint,
        path: `/v1/${encodeURIComponent(this.projectId)}/cloudservers/detail`,
        query,
        projectId: this.projectId,
        idempotent: true
      })
      const items = (response.body as { servers?: unknown } | undefined)?.servers
      const list = Array.isArray(items) ? items : []
      for (const item of list) {
        const server = asListedServer(item)
        if (server !== undefined) servers.set(server.id, server)
      }
      if (list.length < PAGE_SIZE) break
    }
    return [...servers.values()]
  }

  /**
   * A server's `status` (e.g. ACTIVE or REBOOT) and `OS-EXT-STS:task_state` (e.g. powering-off;
   * null when no task is in progress); `null` when the server no longer exists.
   */
  async getServerStatus(serverId: string, giveUpAt?: number): Promise<ServerState | null> {
    try {
      const response = await this.api.request({
        what: `Status of server ${serverId}`,
        giveUpAt,
        method: 'GET',
        endpoint: this.endpoint,
        path: `/v1/${encodeURIComponent(this.projectId)}/cloudservers/${encodeURIComponent(serverId)}`,
        projectId: this.projectId,
        idempotent: true
      })
      const server = (response.body as { server?: Record<string, unknown> } | undefined)?.server
      return readServerState(server)
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return null
      throw error
    }
  }

  /** The raw job document; {@link interpretJob} makes sense of it. */
  async getJob(jobId: string, giveUpAt?: number): Promise<unknown> {
    const response = await this.api.request({
      what: `Status of job ${jobId}`,
      giveUpAt,
      method: 'GET',
      endpoint: this.endpoint,
      path: `/v1/${encodeURIComponent(this.projectId)}/jobs/${encodeURIComponent(jobId)}`,
      projectId: this.projectId,
      idempotent: true
    })
    return response.body
  }
}

/** What a server shows of its state: settled only once `taskState` is null. */
export interface ServerState {
  status: string
  /**
   * `OS-EXT-STS:task_state`; null when absent, null or empty (no task in progress). Any other
   * value, even of an odd type, counts as a task in progress.
   */
  taskState: string | null
}

function readServerState(server: Record<string, unknown> | undefined): ServerState {
  const status = server?.status
  const task = server?.['OS-EXT-STS:task_state']
  const taskText =
    typeof task === 'string' ? task.trim() : task === undefined || task === null ? '' : JSON.stringify(task)
  return { status: typeof status === 'string' ? status : 'UNKNOWN', taskState: taskText === '' ? null : taskText }
}

/** Servers per page of `GET /v1/{project_id}/cloudservers/detail`, the API's maximum. */
const PAGE_SIZE = 1000
/** A safety stop for a listing that never ends (1,000 pages are a million servers). */
const MAX_PAGES = 1000

function asListedServer(value: unknown): ListedServer | undefined {
  const server = value as { id?: unknown; name?: unknown; status?: unknown; tags?: unknown } | null
  if (typeof server?.id !== 'string') return undefined
  return {
    id: server.id.toLowerCase(),
    name: typeof server.name === 'string' ? server.name : '',
    status: typeof server.status === 'string' ? server.status : 'UNKNOWN',
    tags: Array.isArray(server.tags) ? server.tags.filter((tag): tag is string => typeof tag === 'string') : []
  }
}

/** `GET /v3/projects?name={region}`: the region's default project, which must be unique. */
export async function lookupProjectId(
  api: ApiClient,
  iamEndpoint: URL,
  region: string,
  giveUpAt?: number
): Promise<string> {
  const what = `Project lookup for region ${region}`
  const response = await api.request({
    what,
    giveUpAt,
    method: 'GET',
    endpoint: iamEndpoint,
    path: '/v3/projects',
    query: { name: region },
    idempotent: true
  })
  const projects = (response.body as { projects?: unknown } | undefined)?.projects
  const ids = Array.isArray(projects)
    ? projects
        .map((project) => (project as { id?: unknown } | null)?.id)
        .filter((id): id is string => typeof id === 'string')
    : []
  if (ids.length === 1) return ids[0]
  const problem =
    ids.length === 0
      ? `no project is named '${region}'; check 'region', or set 'project-id'`
      : `${ids.length} projects are named '${region}' (${ids.join(', ')}); set 'project-id' to choose one`
  throw new ApiError(response.status, undefined, problem, response.requestId, what)
}
