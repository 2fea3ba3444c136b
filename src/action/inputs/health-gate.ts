import { knownEndpoints } from '../../cloud/clouds'
import { InputError } from '../errors'
import type { EndpointInputs } from './endpoints'
import { parseEndpoint } from './endpoints'
import { type InputSource, type Problems, quoted, trimmedInput } from './source'
import { MAX_TIMEOUT_SECONDS } from './timing'
import { type Amount, parseAmount, parseSeconds } from './values'

/** Health-gated rolling restarts behind ELB (`health-gate: elb`). */
export interface HealthGateInputs {
  /** Undefined unless `health-gate: elb`. */
  healthGate: HealthGateSettings | undefined
}

export interface HealthGateSettings {
  maxUnavailable: Amount
  drainMs: number
  healthTimeoutMs: number
  /** Only these pools; undefined: every pool of a selected server. */
  poolIds: string[] | undefined
  scalingGroupIds: string[]
  /**
   * pause: each group paused around each wave; standby: the wave's servers in standby in their
   * group, the group paused only while they turn healthy again; none: groups left alone.
   */
  protection: Protection
  elbEndpoint: URL
  asEndpoint: URL | undefined
}

const ID = /^[A-Za-z0-9_-]{1,64}$/

function parseIds(name: string, text: string): string[] {
  const ids = [...new Set(text.split(/[\s,]+/).filter(Boolean))]
  const bad = ids.find((id) => !ID.test(id))
  if (bad !== undefined)
    throw new InputError(name, `${quoted(bad)} is not an ID; give IDs separated by commas, spaces or newlines`)
  return ids
}

export type Protection = 'pause' | 'standby' | 'none'

function parseProtection(text: string): Protection {
  const value = (text || 'pause').toLowerCase()
  if (value === 'pause' || value === 'standby' || value === 'none') return value
  throw new InputError(
    'as-protection',
    `${quoted(text)} is not allowed; use pause (pause each group around each wave), standby (each wave's servers in standby in their group) or none`
  )
}

const OTC_HOST = /\.otc\.t-systems\.com$/i

/** `as-protection: standby` needs health-gate: elb, as-group-ids, and a cloud whose Auto Scaling has standby. */
function checkStandby(mode: string, groups: string[], endpoints: EndpointInputs, asText: string): void {
  const refuse = (why: string): never => {
    throw new InputError('as-protection', `standby ${why}; use pause or none otherwise`)
  }
  if (mode !== 'elb') refuse('works only with health-gate: elb')
  if (groups.length === 0) refuse('needs as-group-ids: the scaling groups whose servers go to standby')
  const asHost = /^https?:\/\/([^/:]+)/i.exec(asText)?.[1] ?? ''
  if (endpoints.cloud === 'otc' || OTC_HOST.test(asHost)) {
    refuse('is not offered by Open Telekom Cloud Auto Scaling (its batch instance actions have no ENTER_STANDBY)')
  }
}

/** An endpoint input, else the cloud's default for the region; an error naming the input when neither. */
function serviceEndpoint(name: string, text: string, endpoints: EndpointInputs, service: 'elb' | 'as'): URL {
  if (text !== '') return parseEndpoint(name, text)
  const defaults = endpoints.region === undefined ? undefined : knownEndpoints(endpoints.cloud, endpoints.region)
  if (defaults !== undefined) return defaults[service]
  throw new InputError(
    name,
    `required with health-gate: elb when region is not one this action knows; set ${name}, e.g. https://${service}.ap-southeast-1.myhuaweicloud.com`
  )
}

/**
 * `health-gate` and its inputs. Every input is read whatever `health-gate` says (so a typo in one
 * is reported), but only checked against the rest when it is `elb`.
 */
export function readHealthGate(source: InputSource, endpoints: EndpointInputs, problems: Problems): HealthGateInputs {
  const input = (name: string): string => trimmedInput(source, name)
  const mode = input('health-gate').toLowerCase() || 'none'
  problems.check(() => {
    if (mode !== 'none' && mode !== 'elb')
      throw new InputError('health-gate', `${quoted(input('health-gate'))} is not allowed; use none or elb`)
  })
  const seconds = (name: string, fallback: number, allowZero: boolean): number =>
    problems.check(
      () => parseSeconds(name, input(name), fallback, { allowZero, max: MAX_TIMEOUT_SECONDS }),
      fallback * 1000
    )
  const maxUnavailable = problems.check(
    () =>
      parseAmount(
        'max-unavailable-per-pool',
        input('max-unavailable-per-pool'),
        1,
        1,
        1000,
        "a pool's members (rounded down, at least 1)"
      ),
    { count: 1 }
  )
  const drainMs = seconds('drain-seconds', 30, true)
  const healthTimeoutMs = seconds('health-timeout-seconds', 600, false)
  const poolIds = problems.check(() => parseIds('elb-pool-ids', input('elb-pool-ids')), [])
  const scalingGroupIds = problems.check(() => parseIds('as-group-ids', input('as-group-ids')), [])
  const protection = problems.check(() => parseProtection(input('as-protection')), 'pause')
  // Read even when unused, like every input, so the list of inputs read is always the same.
  const elbText = input('elb-endpoint')
  const asText = input('as-endpoint')
  if (protection === 'standby') problems.check(() => checkStandby(mode, scalingGroupIds, endpoints, asText))
  if (mode !== 'elb') return { healthGate: undefined }
  const elbEndpoint = problems.check(() => serviceEndpoint('elb-endpoint', elbText, endpoints, 'elb'))
  const asEndpoint =
    scalingGroupIds.length > 0 && protection !== 'none'
      ? problems.check(() => serviceEndpoint('as-endpoint', asText, endpoints, 'as'))
      : undefined
  return {
    healthGate: {
      maxUnavailable,
      drainMs,
      healthTimeoutMs,
      poolIds: poolIds.length > 0 ? poolIds : undefined,
      scalingGroupIds: protection === 'none' ? [] : scalingGroupIds,
      protection,
      elbEndpoint,
      asEndpoint
    }
  }
}
