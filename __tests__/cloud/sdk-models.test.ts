/**
 * Issue 12: the shapes the action sends and reads, against the request and response models of
 * Huawei's official Node.js SDK (ecs 3.1.172, iam 3.1.172). The Node SDK has no attribute maps:
 * each model keeps its fields under their JSON names (e.g. `this['os-start']`, `this['job_id']`),
 * so the keys a model's `with…` setters write are the JSON keys the SDK sends and expects.
 * The emulator's answers are held to the same models, so it cannot drift from the cloud's shapes.
 */
import { ParamCreater as EcsParams } from '@huaweicloud/huaweicloud-sdk-ecs/v2/EcsClient'
import { EcsRegion } from '@huaweicloud/huaweicloud-sdk-ecs/v2/EcsRegion'
import { BatchRebootServersRequest } from '@huaweicloud/huaweicloud-sdk-ecs/v2/model/BatchRebootServersRequest'
import { BatchRebootServersRequestBody } from '@huaweicloud/huaweicloud-sdk-ecs/v2/model/BatchRebootServersRequestBody'
import { BatchRebootServersResponse } from '@huaweicloud/huaweicloud-sdk-ecs/v2/model/BatchRebootServersResponse'
import {
  BatchRebootSeversOption,
  BatchRebootSeversOptionTypeEnum
} from '@huaweicloud/huaweicloud-sdk-ecs/v2/model/BatchRebootSeversOption'
import { BatchStartServersOption } from '@huaweicloud/huaweicloud-sdk-ecs/v2/model/BatchStartServersOption'
import { BatchStartServersRequest } from '@huaweicloud/huaweicloud-sdk-ecs/v2/model/BatchStartServersRequest'
import { BatchStartServersRequestBody } from '@huaweicloud/huaweicloud-sdk-ecs/v2/model/BatchStartServersRequestBody'
import { BatchStartServersResponse } from '@huaweicloud/huaweicloud-sdk-ecs/v2/model/BatchStartServersResponse'
import {
  BatchStopServersOption,
  BatchStopServersOptionTypeEnum
} from '@huaweicloud/huaweicloud-sdk-ecs/v2/model/BatchStopServersOption'
import { BatchStopServersRequest } from '@huaweicloud/huaweicloud-sdk-ecs/v2/model/BatchStopServersRequest'
import { BatchStopServersRequestBody } from '@huaweicloud/huaweicloud-sdk-ecs/v2/model/BatchStopServersRequestBody'
import { BatchStopServersResponse } from '@huaweicloud/huaweicloud-sdk-ecs/v2/model/BatchStopServersResponse'
import { JobEntities } from '@huaweicloud/huaweicloud-sdk-ecs/v2/model/JobEntities'
import { ListServersDetailsRequest } from '@huaweicloud/huaweicloud-sdk-ecs/v2/model/ListServersDetailsRequest'
import { ListServersDetailsResponse } from '@huaweicloud/huaweicloud-sdk-ecs/v2/model/ListServersDetailsResponse'
import { ServerDetail } from '@huaweicloud/huaweicloud-sdk-ecs/v2/model/ServerDetail'
import { ServerId } from '@huaweicloud/huaweicloud-sdk-ecs/v2/model/ServerId'
import { ShowJobRequest } from '@huaweicloud/huaweicloud-sdk-ecs/v2/model/ShowJobRequest'
import { ShowJobResponse, ShowJobResponseStatusEnum } from '@huaweicloud/huaweicloud-sdk-ecs/v2/model/ShowJobResponse'
import { ShowServerRequest } from '@huaweicloud/huaweicloud-sdk-ecs/v2/model/ShowServerRequest'
import { SubJob, SubJobStatusEnum } from '@huaweicloud/huaweicloud-sdk-ecs/v2/model/SubJob'
import { SubJobEntities } from '@huaweicloud/huaweicloud-sdk-ecs/v2/model/SubJobEntities'
import { IamRegion } from '@huaweicloud/huaweicloud-sdk-iam/v3/IamRegion'
import { describe, expect, it } from 'vitest'
import { JSON_CONTENT_TYPE } from '../../src/cloud/api'
import { describeCloud, knownEndpoints } from '../../src/cloud/clouds'
import { EcsClient, SERVER_STATES } from '../../src/cloud/ecs'
import { type Operation, actionBody } from '../../src/cloud/server-action'
import { TARGET_STATE } from '../../src/engine/operation'

import {
  DOCUMENTED_SERVER_STATES,
  ENDPOINT,
  IDS,
  PROJECT,
  SDK_DEFAULT_IAM_ENDPOINT,
  declaredFields,
  fill,
  recordingApi,
  wire
} from '../support/sdk-models'

describe('request bodies and routes against the SDK models (ECS)', () => {
  const servers = IDS.map((id) => new ServerId().withId(id))
  const cases: {
    operation: Operation
    sdk: { method: string; url: string; data: unknown; headers: Record<string, string> }
  }[] = [
    ...(['SOFT', 'HARD'] as const).map((type) => ({
      operation: { kind: 'reboot' as const, type },
      sdk: EcsParams().batchRebootServers(
        new BatchRebootServersRequest().withBody(
          new BatchRebootServersRequestBody().withReboot(
            new BatchRebootSeversOption().withType(BatchRebootSeversOptionTypeEnum[type]).withServers(servers)
          )
        )
      )
    })),
    ...(['SOFT', 'HARD'] as const).map((type) => ({
      operation: { kind: 'stop' as const, type },
      sdk: EcsParams().batchStopServers(
        new BatchStopServersRequest().withBody(
          new BatchStopServersRequestBody().withOsStop(
            new BatchStopServersOption().withType(BatchStopServersOptionTypeEnum[type]).withServers(servers)
          )
        )
      )
    })),
    {
      operation: { kind: 'start', type: 'SOFT' },
      sdk: EcsParams().batchStartServers(
        new BatchStartServersRequest().withBody(
          new BatchStartServersRequestBody().withOsStart(new BatchStartServersOption().withServers(servers))
        )
      )
    }
  ]

  it.each(cases)('$operation.kind $operation.type: same body, key names, method and route as the SDK', async (c) => {
    expect(wire(actionBody(c.operation, IDS))).toEqual(wire(c.sdk.data))
    const { api, calls } = recordingApi({ body: { job_id: 'ff80808288d41e1b018990260955686a' } })
    await new EcsClient(api, ENDPOINT, PROJECT).submit(c.operation, IDS, 'x')
    expect(calls[0].method).toBe(c.sdk.method)
    expect(calls[0].path).toBe(fill(c.sdk.url, { project_id: PROJECT }))
    expect(wire(calls[0].body)).toEqual(wire(c.sdk.data))
    expect(c.sdk.headers['Content-Type']).toBe(JSON_CONTENT_TYPE)
  })

  it('the top-level keys are the JSON names the SDK bodies declare (reboot, os-start, os-stop)', () => {
    expect(declaredFields(BatchRebootServersRequestBody)).toEqual(['reboot'])
    expect(declaredFields(BatchStartServersRequestBody)).toEqual(['os-start'])
    expect(declaredFields(BatchStopServersRequestBody)).toEqual(['os-stop'])
    expect(declaredFields(BatchRebootSeversOption)).toEqual(['servers', 'type'])
    expect(declaredFields(BatchStopServersOption)).toEqual(['servers', 'type'])
    expect(declaredFields(BatchStartServersOption)).toEqual(['servers'])
    expect(declaredFields(ServerId)).toEqual(['id'])
    for (const operation of [
      { kind: 'reboot', type: 'HARD' },
      { kind: 'start', type: 'SOFT' },
      { kind: 'stop', type: 'SOFT' }
    ] as const) {
      const body = actionBody(operation, IDS) as Record<string, Record<string, unknown>>
      const [key] = Object.keys(body)
      const model = { reboot: BatchRebootSeversOption, start: BatchStartServersOption, stop: BatchStopServersOption }
      expect(Object.keys(body[key]).sort()).toEqual(declaredFields(model[operation.kind]))
    }
  })

  it('the job query and the server list use the SDK routes; the list pages with limit and marker', async () => {
    const { api, calls } = recordingApi({ body: { servers: [] } })
    const ecs = new EcsClient(api, ENDPOINT, PROJECT)
    await ecs.getJob('ff80808288d41e1b018990260955686a')
    await ecs.listServers('all_granted_eps')
    await ecs.getServerStatus(IDS[0])
    const job = EcsParams().showJob(new ShowJobRequest().withJobId('ff80808288d41e1b018990260955686a'))
    const list = EcsParams().listServersDetails(
      new ListServersDetailsRequest().withLimit(1000).withEnterpriseProjectId('all_granted_eps')
    )
    const show = EcsParams().showServer(new ShowServerRequest().withServerId(IDS[0]))
    expect([calls[0].method, calls[0].path]).toEqual([
      job.method,
      fill(job.url, { project_id: PROJECT, job_id: 'ff80808288d41e1b018990260955686a' })
    ])
    expect([calls[1].method, calls[1].path]).toEqual([list.method, fill(list.url, { project_id: PROJECT })])
    // The SDK's query parameter names and values, as strings on the wire.
    expect(calls[1].query).toEqual(
      Object.fromEntries(Object.entries(list.queryParams as Record<string, unknown>).map(([k, v]) => [k, String(v)]))
    )
    expect([calls[2].method, calls[2].path]).toEqual([
      show.method,
      fill(show.url, { project_id: PROJECT, server_id: IDS[0] })
    ])
    // The next page after a full one: marker = the ID of its last server (the page-number offset is
    // deprecated). The recording answers the same full page again, so the listing stops there.
    const full = { servers: Array.from({ length: 1000 }, (_, i) => ({ id: `${IDS[0].slice(0, -4)}${i}` })) }
    const paging = recordingApi({ body: full })
    await expect(new EcsClient(paging.api, ENDPOINT, PROJECT).listServers(undefined)).rejects.toThrow(
      /does not advance/
    )
    const next = EcsParams().listServersDetails(
      new ListServersDetailsRequest().withLimit(1000).withMarker(full.servers[999].id)
    )
    expect(paging.calls[1].query).toEqual(
      Object.fromEntries(Object.entries(next.queryParams as Record<string, unknown>).map(([k, v]) => [k, String(v)]))
    )
  })
})

describe('response fields the action reads, against the SDK models (ECS)', () => {
  it('submit: job_id is the one field of the batch responses', () => {
    for (const model of [BatchRebootServersResponse, BatchStartServersResponse, BatchStopServersResponse]) {
      expect(declaredFields(model)).toEqual(['job_id'])
    }
  })

  it('job: status, error_code, fail_reason, entities.sub_jobs[].{status, error_code, fail_reason, entities}', () => {
    expect(declaredFields(ShowJobResponse)).toEqual([
      'begin_time',
      'code',
      'end_time',
      'entities',
      'error_code',
      'fail_reason',
      'job_id',
      'job_type',
      'message',
      'status'
    ])
    expect(declaredFields(JobEntities)).toEqual(['nic_id', 'server_id', 'sub_jobs', 'sub_jobs_total'])
    expect(declaredFields(SubJob)).toEqual([
      'begin_time',
      'end_time',
      'entities',
      'error_code',
      'fail_reason',
      'job_id',
      'job_type',
      'status'
    ])
    expect(declaredFields(SubJobEntities)).toEqual(['errorcode_message', 'nic_id', 'server_id'])
    // The terminal states src/jobs.ts waits for are among the four the SDK declares.
    expect(Object.values(ShowJobResponseStatusEnum)).toEqual(['SUCCESS', 'RUNNING', 'FAIL', 'INIT'])
    expect(Object.values(SubJobStatusEnum)).toEqual(['SUCCESS', 'RUNNING', 'FAIL', 'INIT'])
  })

  it('server list: count and servers; each server has id, name, status, tags and the OS-EXT-STS states', () => {
    expect(declaredFields(ListServersDetailsResponse)).toEqual(['count', 'servers'])
    const server = declaredFields(ServerDetail)
    for (const field of [
      'id',
      'name',
      'status',
      'tags',
      'locked',
      'enterprise_project_id',
      'OS-EXT-STS:task_state',
      'OS-EXT-STS:vm_state',
      'OS-EXT-STS:power_state'
    ]) {
      expect(server).toContain(field)
    }
  })

  it('the target states of every operation are documented server states', () => {
    for (const state of Object.values(TARGET_STATE)) expect(DOCUMENTED_SERVER_STATES).toContain(state)
  })

  it('the status input knows exactly the documented server states (all 18)', () => {
    expect([...SERVER_STATES].sort()).toEqual([...DOCUMENTED_SERVER_STATES].sort())
    expect(SERVER_STATES).toHaveLength(18)
  })
})

describe('default hosts against the SDK region tables', () => {
  it('IAM: the regional host where the SDK table has one, else the SDK default (global) host', () => {
    const sdkIam = (region: string): string => {
      try {
        return IamRegion.valueOf(region).endpoints[0]
      } catch {
        return SDK_DEFAULT_IAM_ENDPOINT
      }
    }
    const regions = describeCloud('huaweicloud').regions
    expect(regions).toHaveLength(32)
    for (const region of regions) {
      expect(knownEndpoints('huaweicloud', region)?.iam.origin).toBe(sdkIam(region))
    }
    expect(regions.filter((region) => sdkIam(region) === SDK_DEFAULT_IAM_ENDPOINT)).toEqual([
      'af-north-1',
      'ap-southeast-5',
      'cn-north-11',
      'cn-south-4',
      'cn-southwest-3'
    ])
    expect(knownEndpoints('huaweicloud-eu', 'eu-west-101')?.iam.origin).toBe(sdkIam('eu-west-101'))
  })

  it("ECS: the SDK table's host for every region; for eu-west-101 as the alternative to .eu", () => {
    for (const region of describeCloud('huaweicloud').regions) {
      const endpoints = knownEndpoints('huaweicloud', region)
      expect(endpoints?.ecs.origin).toBe(EcsRegion.valueOf(region).endpoints[0])
      expect(endpoints?.ecsAlternatives).toEqual([])
    }
    const eu = knownEndpoints('huaweicloud-eu', 'eu-west-101')
    expect(eu?.ecs.origin).toBe('https://ecs.eu-west-101.myhuaweicloud.eu')
    expect(eu?.ecsAlternatives.map((url) => url.origin)).toEqual([EcsRegion.valueOf('eu-west-101').endpoints[0]])
  })
})
