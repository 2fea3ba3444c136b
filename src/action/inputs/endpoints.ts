import {
  CLOUD_NAMES,
  type CloudName,
  type DefaultEndpoints,
  describeCloud,
  federationIamEndpoint,
  knownEndpoints
} from '../../cloud/clouds'
import { plural } from '../../shared/text'
import { InputError } from '../errors'
import type { AuthConfig } from './sign-in'
import { type InputSource, type Problems, firstSet, quoted, trimmedInput } from './source'

const REGION = /^[a-z][a-z0-9]*(-[a-z0-9]+)+$/
/** Huawei Cloud project IDs are 32 hexadecimal characters. */
const PROJECT_ID = /^[0-9a-f]{32}$/i

/** Where the requests go. */
export interface EndpointInputs {
  projectId: string | undefined
  /** Needed only to look the project up when `project-id` is not given. */
  region: string | undefined
  cloud: CloudName
  endpoint: URL
  /** Other ECS hosts to try when the default `endpoint` does not resolve; none when `endpoint` was given. */
  endpointAlternatives: URL[]
  /** Where the project is looked up; undefined when `project-id` is given and no region is. */
  iamEndpoint: URL | undefined
  /** Where GitHub OIDC sign-in goes: `iam-endpoint` when given, else the cloud's federation host. */
  oidcIamEndpoint: URL | undefined
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
  if (url.username !== '' || url.password !== '') {
    // Never quote the user-info back: it is often a password.
    throw new InputError(
      name,
      `${quoted(text)} is not allowed: remove the user name and password from the URL and give only the scheme, host and port (sign in with the sign-in inputs instead)`
    )
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) {
    throw new InputError(
      name,
      `${quoted(text)} is not allowed; use https:// (plain http:// only for 127.0.0.1, ::1 or localhost)`
    )
  }
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    throw new InputError(
      name,
      `${quoted(text)} is not allowed; give only the scheme, host and port, with no path or query`
    )
  }
  return url
}

function parseCloud(text: string): CloudName {
  const cloud = (text || 'huaweicloud').toLowerCase() as CloudName
  if (!CLOUD_NAMES.includes(cloud)) {
    throw new InputError('cloud', `${quoted(text)} is not allowed; use ${CLOUD_NAMES.join(', ')}`)
  }
  return cloud
}

/** The cloud's default endpoints for a region it knows; an InputError naming the known regions otherwise. */
function defaultEndpoints(cloud: CloudName, region: string): DefaultEndpoints {
  const endpoints = knownEndpoints(cloud, region)
  if (endpoints !== undefined) return endpoints
  const { title, regions } = describeCloud(cloud)
  const hint =
    cloud === 'huaweicloud' && region === 'eu-west-101' ? ' It is the European site: set cloud: huaweicloud-eu.' : ''
  throw new InputError(
    'region',
    `${quoted(region)} is not among the ${title} regions this action knows (${regions.join(', ')}).${hint} For another region, set endpoint and iam-endpoint.`
  )
}

function readRegion(source: InputSource, problems: Problems): string | undefined {
  const region = firstSet(source, 'region', ['HUAWEI_CLOUD_REGION']) || undefined
  problems.check(() => {
    if (region !== undefined && !REGION.test(region)) {
      throw new InputError(
        'region',
        `${quoted(region)} is not a region name; use one such as ap-southeast-1 or cn-north-4`
      )
    }
  })
  return region
}

function readProjectId(source: InputSource, problems: Problems): string | undefined {
  const projectId =
    firstSet(source, 'project-id', ['HUAWEI_CLOUD_PROJECT_ID', 'HUAWEICLOUD_SDK_PROJECT_ID']) || undefined
  problems.check(() => {
    if (projectId !== undefined && !PROJECT_ID.test(projectId)) {
      throw new InputError(
        'project-id',
        `must be 32 hexadecimal characters (0-9, a-f), the ID from My Credentials > API Credentials > Projects; got ${plural(projectId.length, 'character')}${/[^0-9a-f]/i.test(projectId) ? ', some of them not hexadecimal' : ''}`
      )
    }
  })
  return projectId?.toLowerCase()
}

/**
 * `region`, `project-id`, `cloud`, `endpoint` and `iam-endpoint`. IAM is needed to look the
 * project up, and to sign in with a token (`usesToken`).
 */
export function readEndpoints(
  source: InputSource,
  signIn: AuthConfig['mode'] | undefined,
  problems: Problems
): EndpointInputs {
  const region = readRegion(source, problems)
  const projectId = readProjectId(source, problems)
  const cloud = problems.check(() => parseCloud(trimmedInput(source, 'cloud')), 'huaweicloud')
  const missing = { ecs: trimmedInput(source, 'endpoint') === '', iam: trimmedInput(source, 'iam-endpoint') === '' }
  const usesToken = signIn === 'oidc' || signIn === 'password'
  const needsIam = projectId === undefined || usesToken
  problems.check(() => {
    // The region names the project to look up, and builds the endpoints not given; GitHub OIDC on
    // Huawei Cloud signs in at the global IAM host, which needs no region.
    const signInHostKnown = !missing.iam || (signIn === 'oidc' && federationIamEndpoint(cloud, undefined) !== undefined)
    const needsRegion = missing.ecs || projectId === undefined || (usesToken && !signInHostKnown)
    if (region === undefined && needsRegion) {
      throw new InputError(
        'region',
        "required unless 'endpoint', 'project-id' and (for a token sign-in) 'iam-endpoint' are set; set 'region' (or HUAWEI_CLOUD_REGION), e.g. ap-southeast-1"
      )
    }
  })
  // The cloud's defaults, for the endpoints not given; a region it does not know is only an error
  // when such a default is needed (the ECS endpoint always; IAM for a lookup or a token).
  const defaults =
    region !== undefined && REGION.test(region) && (missing.ecs || missing.iam)
      ? missing.ecs || (missing.iam && needsIam)
        ? problems.check(() => defaultEndpoints(cloud, region))
        : knownEndpoints(cloud, region)
      : undefined
  /** An explicit endpoint, else the cloud's default for the region; undefined when neither can be had. */
  function endpointFor(name: string, service: 'ecs' | 'iam'): URL | undefined {
    const text = trimmedInput(source, name)
    if (text !== '') return problems.check(() => parseEndpoint(name, text))
    return defaults?.[service]
  }
  // Read in this order, so the problems are listed in the order of action.yml.
  const endpoint = endpointFor('endpoint', 'ecs') as URL
  const iamEndpoint = endpointFor('iam-endpoint', 'iam')
  return {
    region,
    projectId,
    cloud,
    endpoint,
    endpointAlternatives: missing.ecs ? (defaults?.ecsAlternatives ?? []) : [],
    iamEndpoint,
    oidcIamEndpoint: missing.iam ? (federationIamEndpoint(cloud, region) ?? iamEndpoint) : iamEndpoint
  }
}
