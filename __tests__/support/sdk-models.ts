/** Helpers for holding requests and answers to the official SDK's models. */
import { Constants } from '@huaweicloud/huaweicloud-sdk-core/utils/constant'
import type { ApiClient, ApiRequest, ApiResponse } from '../../src/cloud/api'

export type Model = new () => object

/**
 * The JSON keys a model declares: the own keys its `with…` setters write (a fresh instance holds
 * none, or holds them as undefined).
 */
export function declaredFields(model: Model): string[] {
  const keys = new Set<string>()
  for (const name of Object.getOwnPropertyNames(model.prototype)) {
    if (!name.startsWith('with')) continue
    const instance = new model() as Record<string, unknown>
    ;(instance[name] as (value: unknown) => unknown).call(instance, 'x')
    for (const [key, value] of Object.entries(instance)) if (value !== undefined) keys.add(key)
  }
  return [...keys].sort()
}

/** What the SDK puts on the wire for a model: its JSON, parsed. */
export function wire(model: unknown): unknown {
  return JSON.parse(JSON.stringify(model))
}

/** An ApiClient stand-in that records each call and answers `answer`. */
export function recordingApi(answer: Partial<ApiResponse> = {}): { api: ApiClient; calls: ApiRequest[] } {
  const calls: ApiRequest[] = []
  const api = {
    request(call: ApiRequest): Promise<ApiResponse> {
      calls.push(call)
      return Promise.resolve({ status: 200, body: undefined, requestId: undefined, headers: {}, ...answer })
    }
  } as unknown as ApiClient
  return { api, calls }
}

export const SDK_DEFAULT_IAM_ENDPOINT = Constants.DEFAULT_IAM_ENDPOINT
export const PROJECT = '0123456789abcdef0123456789abcdef'
export const ENDPOINT = new URL('https://ecs.cn-north-4.myhuaweicloud.com')
export const IDS = ['616fb98f-46ca-475e-917e-2563e5a8cd19', '726fb98f-46ca-475e-917e-2563e5a8cd20']

/** The SDK's path template with its path parameters filled in, as the action encodes them. */
export function fill(template: string, params: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name]))
}

/**
 * Every server state the SDK documents: the `status` field of ServerDetail (17 values) and the
 * `status` filter of ListServersDetailsRequest (the same less PAUSED, REBUILD, SOFT_DELETED and
 * SUSPENDED, plus UNKNOWN). Source: huaweicloud-sdk-go-v3 `services/ecs/v2/model/
 * model_server_detail.go` and `model_list_servers_details_request.go` (the Node SDK's models
 * carry no enum for it).
 */
export const DOCUMENTED_SERVER_STATES = [
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
