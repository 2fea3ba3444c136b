import type { ApiClient, ApiRequest, ApiResponse } from './api'
import { ApiError } from './errors'
import { HostFailover } from './failover'
import { type Operation, actionBody } from './server-action'

/** A server as `GET /v1/{project_id}/cloudservers/detail` lists it, reduced to what selection needs. */
export interface ListedServer {
  id: string
  name: string
  status: string
  /** `key=value` strings, or a bare `key` when the value is empty, as the API returns them. */
  tags: string[]
}

/**
 * The server states the ECS API documents: the SDKs' ServerDetail `status` (17 values) and
 * UNKNOWN from the list's `status` filter (docs/api-contract.md, "Server states").
 */
export const SERVER_STATES = [
  'ACTIVE',
  'BUILD',
  'DELETED',
  'ERROR',
  'HARD_REBOOT',
  'MIGRATING',
  'PAUSED',
  'REBOOT',
  'REBUILD',
  'RESIZE',
  'REVERT_RESIZE',
  'SHELVED',
  'SHELVED_OFFLOADED',
  'SHUTOFF',
  'SOFT_DELETED',
  'SUSPENDED',
  'UNKNOWN',
  'VERIFY_RESIZE'
]

const SILENT = { info() {}, warning() {}, debug() {} }

/** Job IDs go into a URL path, so only a conservative alphabet is accepted. */
const JOB_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/

export type SubmitAnswer =
  | { accepted: true; jobId: string; requestId: string | undefined }
  /** A 2xx that is not a usable acceptance: the cloud may have started the work. */
  | { accepted: false; problem: string; requestId: string | undefined }

export class EcsClient {
  private readonly hosts: HostFailover

  /** `endpoint`: the ECS endpoint, or the candidate hosts of a default one (see {@link HostFailover}). */
  constructor(
    private readonly api: ApiClient,
    endpoint: URL | HostFailover,
    readonly projectId: string
  ) {
    this.hosts = endpoint instanceof HostFailover ? endpoint : new HostFailover([endpoint], SILENT, 'ECS')
  }

  /** The ECS endpoint in use now. */
  get endpoint(): URL {
    return this.hosts.current
  }

  /** Sends a call to the ECS host in use, under this client's project. */
  private send(call: Omit<ApiRequest, 'endpoint' | 'projectId'>): Promise<ApiResponse> {
    return this.hosts.send((endpoint) => this.api.request({ ...call, endpoint, projectId: this.projectId }))
  }

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
    const response = await this.send({
      what,
      ...limits,
      callerRetriesRefusals: true,
      method: 'POST',
      path: `/v1/${encodeURIComponent(this.projectId)}/cloudservers/action`,
      body: actionBody(operation, serverIds),
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
   * Every server of the project (of one enterprise project, when given), page by page with
   * `marker` (the ID of the last server of the previous page): unlike page numbers, it skips no
   * server when others are created or deleted meanwhile. Servers seen twice count once.
   */
  async listServers(enterpriseProjectId: string | undefined, giveUpAt?: number): Promise<ListedServer[]> {
    const servers = new Map<string, ListedServer>()
    const markers = new Map<string, number>()
    let marker: string | undefined
    for (let page = 1; ; page++) {
      const list = await this.listPage(page, marker, enterpriseProjectId, giveUpAt)
      for (const item of list) {
        const server = asListedServer(item)
        if (server !== undefined) servers.set(server.id, server)
      }
      if (list.length < PAGE_SIZE) return [...servers.values()]
      marker = nextMarker(list, page, markers)
    }
  }

  private async listPage(
    page: number,
    marker: string | undefined,
    enterpriseProjectId: string | undefined,
    giveUpAt: number | undefined
  ): Promise<unknown[]> {
    const query: Record<string, string> = { limit: String(PAGE_SIZE) }
    if (marker !== undefined) query.marker = marker
    if (enterpriseProjectId !== undefined) query.enterprise_project_id = enterpriseProjectId
    const body = await this.get(`Listing servers (page ${page})`, '/cloudservers/detail', giveUpAt, query)
    const items = (body as { servers?: unknown } | undefined)?.servers
    return Array.isArray(items) ? (items as unknown[]) : []
  }

  /**
   * A server's `status` (e.g. ACTIVE or REBOOT) and `OS-EXT-STS:task_state` (e.g. powering-off;
   * null when no task is in progress); `null` when the server no longer exists.
   */
  async getServerStatus(serverId: string, giveUpAt?: number): Promise<ServerState | null> {
    try {
      const body = await this.get(
        `Status of server ${serverId}`,
        `/cloudservers/${encodeURIComponent(serverId)}`,
        giveUpAt
      )
      const server = (body as { server?: Record<string, unknown> } | undefined)?.server
      return readServerState(server)
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return null
      throw error
    }
  }

  /** The raw job document; {@link interpretJob} makes sense of it. */
  async getJob(jobId: string, giveUpAt?: number): Promise<unknown> {
    return this.get(`Status of job ${jobId}`, `/jobs/${encodeURIComponent(jobId)}`, giveUpAt)
  }

  /** A read of this project's `/v1/{project_id}{path}`: the body. */
  private async get(
    what: string,
    path: string,
    giveUpAt: number | undefined,
    query?: Record<string, string>
  ): Promise<unknown> {
    const projectPath = `/v1/${encodeURIComponent(this.projectId)}${path}`
    const response = await this.send({ what, giveUpAt, method: 'GET', path: projectPath, query, idempotent: true })
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

/**
 * The marker for the page after `page` (a full one): the ID of its last server, as listed. A
 * marker seen before means the paging does not advance; the listing stops there, with an error,
 * rather than loop.
 */
function nextMarker(list: unknown[], page: number, markers: Map<string, number>): string {
  const last = (list[list.length - 1] as { id?: unknown } | null)?.id
  const stop = (why: string): Error =>
    new Error(`Listing servers stopped after page ${page}: ${why}. Select with server-ids instead, or try again.`)
  if (typeof last !== 'string' || last === '') throw stop('its last server has no ID to continue from')
  const seen = markers.get(last)
  if (seen !== undefined) {
    throw stop(`it ends with server ${last} like page ${seen}, so the cloud's paging does not advance`)
  }
  if (page >= MAX_PAGES) throw stop(`more than ${MAX_PAGES} pages of ${PAGE_SIZE} servers`)
  markers.set(last, page)
  return last
}

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
