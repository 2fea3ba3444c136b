/**
 * Requests to the emulator for its own tests: signed with the emulator's signer (not `src/`), with
 * knobs to sign wrongly, and the bodies and clocks those tests share.
 */
import { afterEach, expect } from 'vitest'
import { DEFAULT_ACCESS_KEY, DEFAULT_PROJECT_ID, EcsEmulator, type EmulatorOptions } from '../emulator'
import { formatSdkDate, signRequest } from '../emulator/signature'

/** The access key the emulator accepts by default. */
export const DEFAULT_KEY = DEFAULT_ACCESS_KEY
export const DEFAULT_AK = DEFAULT_KEY.accessKeyId
export const SUBMIT_PATH = `/v1/${DEFAULT_PROJECT_ID}/cloudservers/action`
export const jobPath = (jobId: string, projectId = DEFAULT_PROJECT_ID): string => `/v1/${projectId}/jobs/${jobId}`

/** A function that starts emulators, every one of which is closed after each test. */
export function useEmulators(): (options?: EmulatorOptions) => Promise<EcsEmulator> {
  const started: EcsEmulator[] = []
  afterEach(async () => {
    await Promise.all(started.splice(0).map((emulator) => emulator.close()))
  })
  return async (options) => {
    const emulator = await EcsEmulator.start(options)
    started.push(emulator)
    return emulator
  }
}

export interface CallOptions {
  method?: string
  body?: string
  key?: { accessKeyId: string; secretAccessKey: string }
  /** X-Project-Id header; default: the path's project on /v1 paths, none elsewhere. null: omit. */
  projectId?: string | null
  date?: Date
  securityToken?: string
  /** Header names (lower case) sent but left out of SignedHeaders. */
  unsigned?: string[]
  /** Values signed instead of the ones sent. */
  signAs?: Record<string, string>
  /** Body sent instead of the signed one. */
  sendBody?: string
  /** Path (and query) sent instead of the signed one. */
  sendPath?: string
  /** Rewrites the Authorization header after signing; returning undefined drops the header. */
  rewriteAuthorization?: (authorization: string) => string | undefined
  signal?: AbortSignal
}

/**
 * A request signed with the emulator's own signer (`host`, `x-sdk-date`, `content-type` with a body,
 * `x-project-id` and `x-security-token` when sent), the way the action sends it.
 */
export function call(emulator: Pick<EcsEmulator, 'url'>, path: string, options: CallOptions = {}): Promise<Response> {
  const method = options.method ?? (options.body === undefined ? 'GET' : 'POST')
  const url = new URL(path, emulator.url)
  const headers: Record<string, string> = {
    host: url.host,
    'x-sdk-date': formatSdkDate((options.date ?? new Date()).getTime())
  }
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  const projectId =
    options.projectId === undefined ? /^\/v1\/([^/]+)\//.exec(path)?.[1] : (options.projectId ?? undefined)
  if (projectId !== undefined) headers['x-project-id'] = projectId
  if (options.securityToken !== undefined) headers['x-security-token'] = options.securityToken

  const signedHeaders: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (!options.unsigned?.includes(name)) signedHeaders[name] = options.signAs?.[name] ?? value
  }
  for (const [name, value] of Object.entries(options.signAs ?? {})) signedHeaders[name] ??= value
  const key = options.key ?? DEFAULT_KEY
  const request = {
    method,
    path: url.pathname,
    query: url.searchParams,
    headers: signedHeaders,
    body: options.body ?? ''
  }
  const signature = signRequest(request, key.accessKeyId, key.secretAccessKey)
  const { host: _host, ...sent }: Record<string, string> = headers // fetch sets Host itself
  const authorization = options.rewriteAuthorization
    ? options.rewriteAuthorization(signature.authorization)
    : signature.authorization
  if (authorization !== undefined) sent.authorization = authorization
  return fetch(new URL(options.sendPath ?? path, emulator.url), {
    method,
    headers: sent,
    body: options.sendBody ?? options.body,
    signal: options.signal
  })
}

export function rebootBody(ids: string[], type: 'SOFT' | 'HARD' = 'SOFT'): string {
  return JSON.stringify({ reboot: { type, servers: ids.map((id) => ({ id })) } })
}

export type SubmitAction = 'reboot' | 'os-start' | 'os-stop'

/** A valid body for any of the three batch actions (os-start without a type, the others SOFT). */
export function actionBody(action: SubmitAction, ids: string[]): string {
  const servers = ids.map((id) => ({ id }))
  return JSON.stringify({ [action]: action === 'os-start' ? { servers } : { type: 'SOFT', servers } })
}

export async function submit(emulator: EcsEmulator, ids: string[], options: CallOptions = {}): Promise<string> {
  const response = await call(emulator, SUBMIT_PATH, { body: rebootBody(ids), ...options })
  expect(response.status).toBe(200)
  const body = (await response.json()) as { job_id: string }
  return body.job_id
}

/** The fields a job and each of its sub-jobs share. */
export interface JobFields {
  status: string
  job_id: string
  job_type: string
  begin_time: string
  end_time: string | null
  error_code: string | null
  fail_reason: string | null
}
export interface SubJob extends JobFields {
  entities: { server_id: string; errorcode_message?: string }
}
export interface JobBody extends JobFields {
  entities: { sub_jobs_total: number; sub_jobs: SubJob[] }
}

export async function queryJob(emulator: EcsEmulator, jobId: string, options: CallOptions = {}): Promise<JobBody> {
  const response = await call(emulator, jobPath(jobId), options)
  expect(response.status).toBe(200)
  return (await response.json()) as JobBody
}

/** A clock the test moves by hand; X-Sdk-Date values follow it. */
export function manualClock(start = Date.UTC(2024, 0, 2, 3, 4, 5)): {
  now: () => number
  advance: (ms: number) => void
  date: () => Date
} {
  let t = start
  return { now: () => t, advance: (ms) => void (t += ms), date: () => new Date(t) }
}
