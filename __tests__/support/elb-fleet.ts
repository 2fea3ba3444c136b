/**
 * A load-balanced fleet for the emulator, and signed calls to its ELB v3 and Auto Scaling routes.
 *
 * `elbFleet()`: 30 servers `srv-00`…`srv-29`, three pools, servers shared between pools:
 * - `pool-web` (dedicated `lb-main`): srv-00…srv-14;
 * - `pool-api` (dedicated `lb-main`): srv-10…srv-24 (srv-10…14 also in web);
 * - `pool-legacy` (shared `lb-legacy`): srv-20…srv-29 (srv-20…24 also in api);
 * every pool probed every 5 s (timeout 3, rise 3, fall 3); member ids `{pool}.{server}`;
 * Auto Scaling group `asg-api` of srv-15…srv-24 bound to `pool-api`, ELB_AUDIT every 10 s, grace
 * 600 s.
 */
import { DEFAULT_PROJECT_ID, type EcsEmulator, type EmulatorOptions, type EmulatorPool } from '../emulator'
import { call, type CallOptions } from './emulator-calls'

export const ELB_PATH = `/v3/${DEFAULT_PROJECT_ID}/elb`
export const AS_PATH = `/autoscaling-api/v1/${DEFAULT_PROJECT_ID}`

export const serverId = (i: number): string => `srv-${String(i).padStart(2, '0')}`
export const memberId = (poolId: string, server: string): string => `${poolId}.${server}`

export interface ElbFleetOptions {
  now?: () => number
  /** Synthetic requests per second into each pool; default 10. */
  requestsPerSecond?: number
  /** Default 1000 (the emulator's default). */
  busyMs?: number
  /** Default 5000 (the emulator's default). */
  weightApplyMs?: number
  /** Default 0. */
  bootDelayMs?: number
  /** Time a restart job takes; default 100. */
  jobDurationMs?: number
}

function pool(id: string, from: number, to: number): EmulatorPool {
  const members = []
  for (let i = from; i <= to; i++) members.push({ id: memberId(id, serverId(i)), serverId: serverId(i) })
  return { id, name: id, members, healthMonitor: { delay: 5, timeout: 3, maxRetries: 3, maxRetriesDown: 3 } }
}

export function elbFleet(options: ElbFleetOptions = {}): EmulatorOptions {
  const inventory = Array.from({ length: 30 }, (_, i) => ({ id: serverId(i), name: `web-${i}` }))
  const asgServers = Array.from({ length: 10 }, (_, i) => serverId(15 + i))
  return {
    inventory,
    now: options.now,
    jobDurationMs: options.jobDurationMs ?? 100,
    loadBalancers: [
      { id: 'lb-main', guaranteed: true, pools: [pool('pool-web', 0, 14), pool('pool-api', 10, 24)] },
      { id: 'lb-legacy', guaranteed: false, pools: [pool('pool-legacy', 20, 29)] }
    ],
    scalingGroups: [
      { id: 'asg-api', instances: asgServers, poolIds: ['pool-api'], auditTimeMinutes: 0, gracePeriodSeconds: 600 }
    ],
    loadBalancing: {
      requestsPerSecond: options.requestsPerSecond ?? 10,
      busyMs: options.busyMs,
      weightApplyMs: options.weightApplyMs,
      bootDelayMs: options.bootDelayMs
    }
  }
}

/** A signed request to an ELB or AS route, with the `X-Project-Id` the SDKs send. */
export function lbCall(emulator: Pick<EcsEmulator, 'url'>, path: string, options: CallOptions = {}): Promise<Response> {
  return call(emulator, path, { projectId: DEFAULT_PROJECT_ID, ...options })
}

/** A signed GET (or a call with `options`) whose answer must be `status`; its JSON body. */
export async function lbJson<T = Record<string, unknown>>(
  emulator: Pick<EcsEmulator, 'url'>,
  path: string,
  options: CallOptions = {},
  status = 200
): Promise<T> {
  const response = await lbCall(emulator, path, options)
  const text = await response.text()
  if (response.status !== status) throw new Error(`${path}: expected ${status}, got ${response.status} ${text}`)
  return (text === '' ? {} : JSON.parse(text)) as T
}

/** `PUT .../members/{id}` with `{"member":{"weight"}}`. */
export function setWeight(
  emulator: Pick<EcsEmulator, 'url'>,
  poolId: string,
  member: string,
  weight: number,
  options: CallOptions = {}
): Promise<Response> {
  return lbCall(emulator, `${ELB_PATH}/pools/${poolId}/members/${member}`, {
    method: 'PUT',
    body: JSON.stringify({ member: { weight } }),
    ...options
  })
}

/** A row of the Auto Scaling instance list. */
export interface GroupInstance {
  instance_id: string
  life_cycle_state: string
  health_status: string
}

/** The instances of the fleet's group asg-api, as its list route answers (signed at `options.date`). */
export async function groupInstances(
  emulator: Pick<EcsEmulator, 'url'>,
  options: CallOptions = {}
): Promise<GroupInstance[]> {
  const path = `${AS_PATH}/scaling_group_instance/asg-api/list?limit=100`
  return (await lbJson<{ scaling_group_instances: GroupInstance[] }>(emulator, path, options)).scaling_group_instances
}
