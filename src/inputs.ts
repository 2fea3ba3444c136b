import type { AccessKeyCredentials } from './auth'
import { InputError, InputErrors } from './errors'
import type { Operation, RestartType } from './operation'

export interface ActionInputs {
  serverIds: string[]
  operation: Operation
  projectId: string | undefined
  /** Needed only to look the project up when `project-id` is not given. */
  region: string | undefined
  credentials: AccessKeyCredentials
  endpoint: URL
  /** Where the project is looked up; undefined when `project-id` is given and no region is. */
  iamEndpoint: URL | undefined
  batchSize: number
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

/** Splits on commas and any whitespace; lower-cases, removes duplicates, keeps first-seen order. */
export function splitServerIds(text: string): string[] {
  const tokens = text.split(/[\s,]+/).filter((token) => token !== '')
  return [...new Set(tokens.map((token) => token.toLowerCase()))]
}

function quoted(token: string): string {
  const shown = token.length > 40 ? `${token.slice(0, 40)}…` : token
  return JSON.stringify(shown)
}

export function parseServerIds(text: string): string[] {
  const ids = splitServerIds(text)
  if (ids.length === 0) {
    throw new InputError(
      'server-ids',
      `no server IDs given; list ECS server IDs (UUIDs such as ${EXAMPLE_ID}) separated by commas, spaces or newlines`
    )
  }
  const invalid = ids.filter((id) => !UUID.test(id))
  if (invalid.length > 0) {
    const shown = invalid.slice(0, 5).map(quoted).join(', ')
    const more = invalid.length > 5 ? ` and ${invalid.length - 5} more` : ''
    throw new InputError(
      'server-ids',
      `${invalid.length} of ${ids.length} entries are not server IDs: ${shown}${more}. Each must be a UUID such as ${EXAMPLE_ID}`
    )
  }
  return ids
}

export function parseRestartType(text: string): RestartType {
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

  const problems: InputError[] = []
  function check<T>(parse: () => T): T {
    try {
      return parse()
    } catch (error) {
      if (!(error instanceof InputError)) throw error
      problems.push(error)
      return undefined as T
    }
  }

  const serverIds = check(() => parseServerIds(source.getInput('server-ids')))
  const type = check(() => parseRestartType(source.getInput('type').trim()))

  const accessKeyId = firstSet(source, 'access-key-id', ['HUAWEI_CLOUD_ACCESS_KEY_ID', 'HUAWEICLOUD_SDK_AK'])
  check(() => {
    if (accessKeyId === '') {
      throw new InputError(
        'access-key-id',
        'required; pass it from a secret, or set HUAWEI_CLOUD_ACCESS_KEY_ID or HUAWEICLOUD_SDK_AK'
      )
    }
    if (!ACCESS_KEY_ID.test(accessKeyId)) {
      throw new InputError('access-key-id', 'must be letters and digits only, as IAM issues access keys')
    }
  })
  check(() => {
    if (secretAccessKey === '') {
      throw new InputError(
        'secret-access-key',
        'required; pass it from a secret, or set HUAWEI_CLOUD_SECRET_ACCESS_KEY or HUAWEICLOUD_SDK_SK'
      )
    }
  })
  check(() => {
    if (/[\r\n\0]/.test(securityToken)) {
      throw new InputError('security-token', 'must be a single line; copy the token exactly as IAM issued it')
    }
  })

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

  const needsRegion = source.getInput('endpoint').trim() === '' || projectId === undefined
  check(() => {
    if (region === undefined && needsRegion) {
      throw new InputError(
        'region',
        "required unless 'endpoint' and 'project-id' are both set; set 'region' (or HUAWEI_CLOUD_REGION), e.g. ap-southeast-1"
      )
    }
  })
  /** An explicit endpoint, else the region's default; undefined when neither can be had. */
  function endpointFor(name: string, service: string): URL | undefined {
    const text = source.getInput(name).trim()
    if (text !== '') return check(() => parseEndpoint(name, text))
    if (region === undefined || !REGION.test(region)) return undefined
    return new URL(`https://${service}.${region}.myhuaweicloud.com`)
  }
  const endpoint = endpointFor('endpoint', 'ecs')
  const iamEndpoint = endpointFor('iam-endpoint', 'iam')

  const batchSize = check(() =>
    parseInteger('batch-size', source.getInput('batch-size').trim(), MAX_BATCH_SIZE, 1, MAX_BATCH_SIZE)
  )
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
  const failOnError = check(() => parseBoolean('fail-on-error', source.getInput('fail-on-error').trim(), true))

  if (problems.length > 0) throw new InputErrors(problems)
  return {
    serverIds,
    operation: { kind: 'reboot', type },
    projectId,
    region,
    credentials: { accessKeyId, secretAccessKey, ...(securityToken !== '' && { securityToken }) },
    endpoint: endpoint as URL,
    iamEndpoint,
    batchSize,
    maxServersPerMinute,
    wait,
    timeoutMs,
    pollIntervalMs,
    requestTimeoutMs,
    failOnError
  }
}
