import { isAbsolute, relative, resolve } from 'node:path'
import type { AccessKeyCredentials } from './auth'
import { InputError, InputErrors } from './errors'
import type { Operation, OperationKind, PowerType } from './operation'
import { type CloudName, defaultEndpoints, knownEndpoints, parseCloud } from './clouds'
import { type Filters, hasFilters, parseName, parseStatuses, parseTags } from './selection'

/** How the action signs in: exactly one of these per run. */
export type AuthConfig =
  | { mode: 'access-key'; credentials: AccessKeyCredentials }
  /** The workflow's GitHub OIDC token, exchanged at IAM for a project-scoped token. */
  | { mode: 'oidc'; idpId: string; audience: string }
  /** An IAM user's password, exchanged at IAM for a project-scoped token. */
  | { mode: 'password'; username: string; password: string; domain: string }

/** The audience asked of GitHub when `oidc-audience` is not set; the identity provider's client_id must match. */
export const DEFAULT_OIDC_AUDIENCE = 'huaweicloud'

/** A count, or a percentage of the selected servers (resolved once they are known). */
export type Amount = { count: number } | { percent: number }

export interface ActionInputs {
  /** From `server-ids` and `server-ids-file`, deduplicated; empty when filters select. */
  serverIds: string[]
  filters: Filters
  enterpriseProjectId: string | undefined
  allowEmpty: boolean
  skipInactive: boolean
  dryRun: boolean
  operation: Operation
  projectId: string | undefined
  /** Needed only to look the project up when `project-id` is not given. */
  region: string | undefined
  auth: AuthConfig
  cloud: CloudName
  endpoint: URL
  /** Where the project is looked up; undefined when `project-id` is given and no region is. */
  iamEndpoint: URL | undefined
  batchSize: Amount
  rolling: boolean
  /** After each job, wait until its servers report the operation's target state. */
  waitForTargetState: boolean
  pauseMs: number
  maxFailures: Amount
  maxServersPerMinute: number
  wait: boolean
  timeoutMs: number
  pollIntervalMs: number
  requestTimeoutMs: number
  failOnError: boolean
}

export interface InputSource {
  /** The raw input as the runner passes it (`INPUT_<NAME>`), '' when not set. */
  getInput(name: string): string
  env: Record<string, string | undefined>
  /** Called for every secret the moment it is read, before anything can print it. */
  maskSecret(value: string): void
  /** Reads a file of the workspace (`server-ids-file`). */
  readFile(path: string): string
}

export const MAX_BATCH_SIZE = 1000
const MAX_TIMEOUT_SECONDS = 6 * 60 * 60
const MAX_POLL_INTERVAL_SECONDS = 300
const MAX_REQUEST_TIMEOUT_SECONDS = 300
/** The documented batch restart limit; accounts with other quotas set their own. */
const DEFAULT_SERVERS_PER_MINUTE = 1000
const MAX_SERVERS_PER_MINUTE = 1_000_000
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const REGION = /^[a-z][a-z0-9]*(-[a-z0-9]+)+$/
const PROJECT_ID = /^[A-Za-z0-9_-]{1,64}$/
const ACCESS_KEY_ID = /^[A-Za-z0-9]{1,128}$/
const EXAMPLE_ID = '616fb98f-46ca-475e-917e-2563e5a8cd19'
const UUID_PREFIX = /^[0-9a-f]{1,8}(-[0-9a-f]{0,4}){0,4}$/i
const ENTERPRISE_PROJECT_ID = /^([0-9a-f-]{1,64}|all_granted_eps)$/i
const OPERATIONS: OperationKind[] = ['reboot', 'start', 'stop']

/** Splits on commas and any whitespace; lower-cases, removes duplicates, keeps first-seen order. */
export function splitServerIds(text: string): string[] {
  const tokens = text.split(/[\s,]+/).filter((token) => token !== '')
  return [...new Set(tokens.map((token) => token.toLowerCase()))]
}

function quoted(token: string): string {
  const shown = token.length > 40 ? `${token.slice(0, 40)}…` : token
  return JSON.stringify(shown)
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
    const shown = invalid.slice(0, 5).map(quoted).join(', ')
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

/** A file of IDs inside the workspace, in the same format as `server-ids`. */
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
  return parseServerIds(text, 'server-ids-file')
}

export function parseOperation(text: string): OperationKind {
  const operation = (text || 'reboot').toLowerCase() as OperationKind
  if (!OPERATIONS.includes(operation)) {
    throw new InputError('operation', `${quoted(text)} is not allowed; use reboot, start or stop`)
  }
  return operation
}

/** A whole number from `min` to `max`, or a percentage from 1% to 100%. */
export function parseAmount(name: string, text: string, fallback: number, min: number, max: number): Amount {
  const percent = /^(\d+)%$/.exec(text)
  if (percent === null) return { count: parseInteger(name, text, fallback, min, max) }
  const value = Number(percent[1])
  if (!(value >= 1 && value <= 100)) {
    throw new InputError(
      name,
      `${quoted(text)} is not allowed; use a whole number from ${min} to ${max}, or 1% to 100%`
    )
  }
  return { percent: value }
}

/** The amount for `total` servers: a percentage rounds `rounding`, then is kept within bounds. */
export function resolveAmount(
  amount: Amount,
  total: number,
  rounding: 'up' | 'down',
  min: number,
  max: number
): number {
  if ('count' in amount) return amount.count
  const exact = (total * amount.percent) / 100
  return Math.min(max, Math.max(min, rounding === 'up' ? Math.ceil(exact) : Math.floor(exact)))
}

/** true, false, or auto (which takes `auto`'s value). */
function parseBooleanOrAuto(name: string, text: string, auto: boolean): boolean {
  return text.toLowerCase() === 'auto' ? auto : parseBoolean(name, text, auto)
}

export function parsePowerType(text: string): PowerType {
  const type = (text || 'SOFT').toUpperCase()
  if (type !== 'SOFT' && type !== 'HARD') {
    throw new InputError('type', `${quoted(text)} is not allowed; use SOFT (a normal restart) or HARD (forced)`)
  }
  return type
}

export function parseBoolean(name: string, text: string, fallback: boolean): boolean {
  if (text === '') return fallback
  const lower = text.toLowerCase()
  if (lower === 'true' || lower === 'false') return lower === 'true'
  throw new InputError(name, `${quoted(text)} is not allowed; use true or false`)
}

export function parseInteger(name: string, text: string, fallback: number, min: number, max: number): number {
  if (text === '') return fallback
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN
  if (!(value >= min && value <= max)) {
    throw new InputError(name, `${quoted(text)} is not allowed; use a whole number from ${min} to ${max}`)
  }
  return value
}

/** Seconds, decimals allowed, returned in milliseconds. */
export function parseSeconds(
  name: string,
  text: string,
  fallbackSeconds: number,
  limits: { allowZero: boolean; max: number }
): number {
  if (text === '') return fallbackSeconds * 1000
  const value = /^(\d+(\.\d*)?|\.\d+)$/.test(text) ? Number(text) : Number.NaN
  const ms = Math.round(value * 1000)
  // Milliseconds are the resolution: a value that rounds to 0 ms is zero.
  const low = limits.allowZero ? ms >= 0 : ms >= 1
  if (!(low && value <= limits.max)) {
    const range = limits.allowZero ? `from 0 to ${limits.max}` : `from 0.001 to ${limits.max}`
    throw new InputError(name, `${quoted(text)} is not allowed; use a number of seconds ${range} (decimals allowed)`)
  }
  return ms
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '')
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host)
}

export function parseEndpoint(name: string, text: string): URL {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new InputError(
      name,
      `${quoted(text)} is not a URL; use https://host, e.g. https://ecs.ap-southeast-1.myhuaweicloud.com`
    )
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) {
    throw new InputError(
      name,
      `${quoted(text)} is not allowed; use https:// (plain http:// only for 127.0.0.1, ::1 or localhost)`
    )
  }
  if (url.username !== '' || url.password !== '' || url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    throw new InputError(
      name,
      `${quoted(text)} is not allowed; give only the scheme, host and port, with no path, query or credentials`
    )
  }
  return url
}

/** The explicit input wins, then the environment variables, in order. */
function firstSet(source: InputSource, input: string, envNames: string[]): string {
  const explicit = source.getInput(input).trim()
  if (explicit !== '') return explicit
  for (const name of envNames) {
    const value = source.env[name]?.trim()
    if (value) return value
  }
  return ''
}

function readSecret(source: InputSource, input: string, envNames: string[]): string {
  const value = firstSet(source, input, envNames)
  if (value !== '') source.maskSecret(value)
  return value
}

/**
 * The one sign-in the inputs configure: AK/SK (from inputs, else the environment), GitHub OIDC
 * (`idp-id`) or an IAM password (`iam-username`). Several at once, or none, is an error.
 */
function readAuth(
  source: InputSource,
  secretAccessKey: string,
  securityToken: string,
  iamPassword: string
): AuthConfig {
  const input = (name: string): string => source.getInput(name).trim()
  const given = {
    idpId: input('idp-id'),
    audience: input('oidc-audience'),
    username: input('iam-username'),
    domain: input('iam-domain')
  }
  const configured = [
    ...(input('access-key-id') !== '' || input('secret-access-key') !== '' ? ['access-key-id/secret-access-key'] : []),
    ...(given.idpId !== '' ? ['idp-id (OIDC)'] : []),
    ...(given.username !== '' || iamPassword !== '' ? ['iam-username/iam-password'] : [])
  ]
  if (configured.length > 1) {
    throw new InputError('idp-id', `only one way to sign in may be configured, but these are: ${configured.join(', ')}`)
  }
  if (given.idpId !== '') {
    const { idpId } = given
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(idpId)) {
      throw new InputError('idp-id', 'must be the identity provider ID from IAM (letters, digits, "-", "_")')
    }
    const audience = given.audience || DEFAULT_OIDC_AUDIENCE
    if (audience.length > 255 || /[\s\0]/.test(audience)) {
      throw new InputError(
        'oidc-audience',
        "must be one word of at most 255 characters: the identity provider's client_id"
      )
    }
    return { mode: 'oidc', idpId, audience }
  }
  if (configured.length === 1 && configured[0].startsWith('iam-username')) {
    const { username, domain } = given
    const missing = [
      username === '' && 'iam-username',
      iamPassword === '' && 'iam-password',
      domain === '' && 'iam-domain'
    ]
      .filter(Boolean)
      .join(', ')
    if (missing !== '')
      throw new InputError(
        'iam-username',
        `a password sign-in needs iam-username, iam-password and iam-domain; missing: ${missing}`
      )
    return { mode: 'password', username, password: iamPassword, domain }
  }
  const accessKeyId = firstSet(source, 'access-key-id', ['HUAWEI_CLOUD_ACCESS_KEY_ID', 'HUAWEICLOUD_SDK_AK'])
  if (accessKeyId === '' && secretAccessKey === '') {
    throw new InputError(
      'access-key-id',
      'no credentials: give access-key-id and secret-access-key (or HUAWEI_CLOUD_ACCESS_KEY_ID and HUAWEI_CLOUD_SECRET_ACCESS_KEY), idp-id for GitHub OIDC, or iam-username, iam-password and iam-domain'
    )
  }
  if (accessKeyId === '') {
    throw new InputError(
      'access-key-id',
      'required; pass it from a secret, or set HUAWEI_CLOUD_ACCESS_KEY_ID or HUAWEICLOUD_SDK_AK'
    )
  }
  if (!ACCESS_KEY_ID.test(accessKeyId)) {
    throw new InputError('access-key-id', 'must be letters and digits only, as IAM issues access keys')
  }
  if (secretAccessKey === '') {
    throw new InputError(
      'secret-access-key',
      'required; pass it from a secret, or set HUAWEI_CLOUD_SECRET_ACCESS_KEY or HUAWEICLOUD_SDK_SK'
    )
  }
  if (/[\r\n\0]/.test(securityToken)) {
    throw new InputError('security-token', 'must be a single line; copy the token exactly as IAM issued it')
  }
  return {
    mode: 'access-key',
    credentials: { accessKeyId, secretAccessKey, ...(securityToken !== '' && { securityToken }) }
  }
}

/** Reads and validates every input; throws {@link InputErrors} listing all problems. */
export function readInputs(source: InputSource): ActionInputs {
  // Secrets first, so they are masked before any other message can be printed.
  const secretAccessKey = readSecret(source, 'secret-access-key', [
    'HUAWEI_CLOUD_SECRET_ACCESS_KEY',
    'HUAWEICLOUD_SDK_SK'
  ])
  const securityToken = readSecret(source, 'security-token', [
    'HUAWEI_CLOUD_SECURITY_TOKEN',
    'HUAWEICLOUD_SDK_SECURITY_TOKEN'
  ])
  const iamPassword = readSecret(source, 'iam-password', [])

  const problems: InputError[] = []
  /** The parsed value; on a problem, records it and returns `fallback` (the run then stops anyway). */
  function check<T>(parse: () => T, fallback?: T): T {
    try {
      return parse()
    } catch (error) {
      if (!(error instanceof InputError)) throw error
      problems.push(error)
      return fallback as T
    }
  }

  const idsText = source.getInput('server-ids')
  const listed = idsText.trim() === '' ? [] : check(() => parseServerIds(idsText), [])
  const idsFile = source.getInput('server-ids-file').trim()
  const workspace = source.env.GITHUB_WORKSPACE ?? process.cwd()
  const fromFile =
    idsFile === '' ? [] : check(() => readServerIdsFile(idsFile, workspace, (path) => source.readFile(path)), [])
  const serverIds = [...new Set([...listed, ...fromFile])]
  const filters: Filters = {
    tags: check(() => parseTags(source.getInput('tags')), []),
    name: check(() => parseName(source.getInput('name').trim())),
    statuses: check(() => parseStatuses(source.getInput('status')), [])
  }
  check(() => {
    if (idsText.trim() === '' && idsFile === '' && !hasFilters(filters)) {
      throw new InputError(
        'server-ids',
        `no servers selected; list server IDs (UUIDs such as ${EXAMPLE_ID}), give server-ids-file, or select by tags, name or status`
      )
    }
  })
  const enterpriseProjectId = source.getInput('enterprise-project-id').trim() || undefined
  check(() => {
    if (enterpriseProjectId !== undefined && !ENTERPRISE_PROJECT_ID.test(enterpriseProjectId)) {
      throw new InputError('enterprise-project-id', 'must be an enterprise project ID, or all_granted_eps')
    }
  })
  const operation = check(() => parseOperation(source.getInput('operation').trim()))
  const type = check(() => parsePowerType(source.getInput('type').trim()))

  const auth = check<AuthConfig | undefined>(() => readAuth(source, secretAccessKey, securityToken, iamPassword))

  const region = firstSet(source, 'region', ['HUAWEI_CLOUD_REGION']) || undefined
  check(() => {
    if (region !== undefined && !REGION.test(region)) {
      throw new InputError(
        'region',
        `${quoted(region)} is not a region name; use one such as ap-southeast-1 or cn-north-4`
      )
    }
  })
  const projectId =
    firstSet(source, 'project-id', ['HUAWEI_CLOUD_PROJECT_ID', 'HUAWEICLOUD_SDK_PROJECT_ID']) || undefined
  check(() => {
    if (projectId !== undefined && !PROJECT_ID.test(projectId)) {
      throw new InputError('project-id', 'must be letters, digits, "-" or "_" (the ID from My Credentials > Projects)')
    }
  })

  const cloud = check(() => parseCloud(source.getInput('cloud').trim()), 'huaweicloud')
  const usesToken = auth !== undefined && auth.mode !== 'access-key'
  const needsIam = projectId === undefined || usesToken
  const needsRegion =
    source.getInput('endpoint').trim() === '' || (needsIam && source.getInput('iam-endpoint').trim() === '')
  check(() => {
    if (region === undefined && (needsRegion || (usesToken && projectId === undefined))) {
      throw new InputError(
        'region',
        "required unless 'endpoint', 'iam-endpoint' (when used) and 'project-id' are set; set 'region' (or HUAWEI_CLOUD_REGION), e.g. ap-southeast-1"
      )
    }
  })
  // The cloud's defaults, for the endpoints not given; a region it does not know is only an error
  // when such a default is needed (the ECS endpoint always; IAM for a lookup or a token).
  const missing = { ecs: source.getInput('endpoint').trim() === '', iam: source.getInput('iam-endpoint').trim() === '' }
  const defaults =
    region !== undefined && REGION.test(region) && (missing.ecs || missing.iam)
      ? missing.ecs || (missing.iam && needsIam)
        ? check(() => defaultEndpoints(cloud, region))
        : knownEndpoints(cloud, region)
      : undefined
  /** An explicit endpoint, else the cloud's default for the region; undefined when neither can be had. */
  function endpointFor(name: string, service: 'ecs' | 'iam'): URL | undefined {
    const text = source.getInput(name).trim()
    if (text !== '') return check(() => parseEndpoint(name, text))
    return defaults?.[service]
  }
  const endpoint = endpointFor('endpoint', 'ecs')
  const iamEndpoint = endpointFor('iam-endpoint', 'iam')

  const batchSize = check(() =>
    parseAmount('batch-size', source.getInput('batch-size').trim(), MAX_BATCH_SIZE, 1, MAX_BATCH_SIZE)
  )
  const rolling = check(() => parseBoolean('rolling', source.getInput('rolling').trim(), false))
  const waitForTargetState = check(() =>
    parseBooleanOrAuto('wait-for-active', source.getInput('wait-for-active').trim(), rolling)
  )
  const pauseMs = check(() =>
    parseSeconds('pause-seconds', source.getInput('pause-seconds').trim(), 0, {
      allowZero: true,
      max: MAX_TIMEOUT_SECONDS
    })
  )
  const maxFailures = check(() => parseAmount('max-failures', source.getInput('max-failures').trim(), 0, 0, 1_000_000))
  const allowEmpty = check(() => parseBoolean('allow-empty', source.getInput('allow-empty').trim(), false))
  const skipInactive = check(() => parseBoolean('skip-inactive', source.getInput('skip-inactive').trim(), false))
  const dryRun = check(() => parseBoolean('dry-run', source.getInput('dry-run').trim(), false))
  const maxServersPerMinute = check(() =>
    parseInteger(
      'max-servers-per-minute',
      source.getInput('max-servers-per-minute').trim(),
      DEFAULT_SERVERS_PER_MINUTE,
      1,
      MAX_SERVERS_PER_MINUTE
    )
  )
  const wait = check(() => parseBoolean('wait', source.getInput('wait').trim(), true))
  const timeoutMs = check(() =>
    parseSeconds('timeout-seconds', source.getInput('timeout-seconds').trim(), 600, {
      allowZero: true,
      max: MAX_TIMEOUT_SECONDS
    })
  )
  const pollIntervalMs = check(() =>
    parseSeconds('poll-interval-seconds', source.getInput('poll-interval-seconds').trim(), 5, {
      allowZero: false,
      max: MAX_POLL_INTERVAL_SECONDS
    })
  )
  const requestTimeoutMs = check(() =>
    parseSeconds('request-timeout-seconds', source.getInput('request-timeout-seconds').trim(), 30, {
      allowZero: false,
      max: MAX_REQUEST_TIMEOUT_SECONDS
    })
  )
  check(() => {
    if (rolling && !wait) {
      throw new InputError('rolling', 'needs wait: true, since each wave must finish before the next starts')
    }
    if (!wait && source.getInput('wait-for-active').trim().toLowerCase() === 'true') {
      throw new InputError('wait-for-active', 'needs wait: true, since servers are checked once their job has finished')
    }
  })
  const failOnError = check(() => parseBoolean('fail-on-error', source.getInput('fail-on-error').trim(), true))

  if (problems.length > 0) throw new InputErrors(problems)
  return {
    serverIds,
    filters,
    enterpriseProjectId,
    allowEmpty,
    skipInactive,
    dryRun,
    operation: { kind: operation, type },
    projectId,
    region,
    auth: auth as AuthConfig,
    cloud,
    endpoint: endpoint as URL,
    iamEndpoint,
    batchSize,
    rolling,
    waitForTargetState,
    pauseMs,
    maxFailures,
    maxServersPerMinute,
    wait,
    timeoutMs,
    pollIntervalMs,
    requestTimeoutMs,
    failOnError
  }
}
