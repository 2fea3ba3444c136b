/**
 * IAM requests and the emulator's answers held to the official SDK's models (ECS requests and
 * fields: sdk-models.test.ts), so neither the client nor the emulator can drift from the cloud's shapes.
 */
import { setTimeout as delay } from 'node:timers/promises'
import { BatchRebootServersResponse } from '@huaweicloud/huaweicloud-sdk-ecs/v2/model/BatchRebootServersResponse'
import { JobEntities } from '@huaweicloud/huaweicloud-sdk-ecs/v2/model/JobEntities'
import { ListServersDetailsResponse } from '@huaweicloud/huaweicloud-sdk-ecs/v2/model/ListServersDetailsResponse'
import { ServerDetail } from '@huaweicloud/huaweicloud-sdk-ecs/v2/model/ServerDetail'
import { ShowJobResponse, ShowJobResponseStatusEnum } from '@huaweicloud/huaweicloud-sdk-ecs/v2/model/ShowJobResponse'
import { SubJob, SubJobStatusEnum } from '@huaweicloud/huaweicloud-sdk-ecs/v2/model/SubJob'
import { SubJobEntities } from '@huaweicloud/huaweicloud-sdk-ecs/v2/model/SubJobEntities'
import { ParamCreater as IamParams } from '@huaweicloud/huaweicloud-sdk-iam/v3/IamClient'
import { CreateTemporaryAccessKeyByTokenRequest } from '@huaweicloud/huaweicloud-sdk-iam/v3/model/CreateTemporaryAccessKeyByTokenRequest'
import { CreateTemporaryAccessKeyByTokenRequestBody } from '@huaweicloud/huaweicloud-sdk-iam/v3/model/CreateTemporaryAccessKeyByTokenRequestBody'
import { CreateTemporaryAccessKeyByTokenResponse } from '@huaweicloud/huaweicloud-sdk-iam/v3/model/CreateTemporaryAccessKeyByTokenResponse'
import { CreateTokenWithIdTokenRequest } from '@huaweicloud/huaweicloud-sdk-iam/v3/model/CreateTokenWithIdTokenRequest'
import { Credential } from '@huaweicloud/huaweicloud-sdk-iam/v3/model/Credential'
import { GetIdTokenAuthParams } from '@huaweicloud/huaweicloud-sdk-iam/v3/model/GetIdTokenAuthParams'
import { GetIdTokenIdScopeBody } from '@huaweicloud/huaweicloud-sdk-iam/v3/model/GetIdTokenIdScopeBody'
import { GetIdTokenIdTokenBody } from '@huaweicloud/huaweicloud-sdk-iam/v3/model/GetIdTokenIdTokenBody'
import { GetIdTokenRequestBody } from '@huaweicloud/huaweicloud-sdk-iam/v3/model/GetIdTokenRequestBody'
import { GetIdTokenScopeDomainOrProjectBody } from '@huaweicloud/huaweicloud-sdk-iam/v3/model/GetIdTokenScopeDomainOrProjectBody'
import { IdentityToken } from '@huaweicloud/huaweicloud-sdk-iam/v3/model/IdentityToken'
import { KeystoneCreateUserTokenByPasswordRequest } from '@huaweicloud/huaweicloud-sdk-iam/v3/model/KeystoneCreateUserTokenByPasswordRequest'
import { KeystoneCreateUserTokenByPasswordRequestBody } from '@huaweicloud/huaweicloud-sdk-iam/v3/model/KeystoneCreateUserTokenByPasswordRequestBody'
import { KeystoneListProjectsRequest } from '@huaweicloud/huaweicloud-sdk-iam/v3/model/KeystoneListProjectsRequest'
import { KeystoneListProjectsResponse } from '@huaweicloud/huaweicloud-sdk-iam/v3/model/KeystoneListProjectsResponse'
import { ProjectResult } from '@huaweicloud/huaweicloud-sdk-iam/v3/model/ProjectResult'
import { PwdAuth } from '@huaweicloud/huaweicloud-sdk-iam/v3/model/PwdAuth'
import { PwdIdentity } from '@huaweicloud/huaweicloud-sdk-iam/v3/model/PwdIdentity'
import { PwdPassword } from '@huaweicloud/huaweicloud-sdk-iam/v3/model/PwdPassword'
import { PwdPasswordUser } from '@huaweicloud/huaweicloud-sdk-iam/v3/model/PwdPasswordUser'
import { PwdPasswordUserDomain } from '@huaweicloud/huaweicloud-sdk-iam/v3/model/PwdPasswordUserDomain'
import { AuthScope } from '@huaweicloud/huaweicloud-sdk-iam/v3/model/AuthScope'
import { AuthScopeProject } from '@huaweicloud/huaweicloud-sdk-iam/v3/model/AuthScopeProject'
import { TokenAuth } from '@huaweicloud/huaweicloud-sdk-iam/v3/model/TokenAuth'
import { TokenAuthIdentity } from '@huaweicloud/huaweicloud-sdk-iam/v3/model/TokenAuthIdentity'
import { describe, expect, it, onTestFinished } from 'vitest'
import { JSON_CONTENT_TYPE, ApiClient as RealApiClient } from '../../src/cloud/api'
import { accessKeyAuthenticator } from '../../src/cloud/auth'
import { EcsClient, lookupProjectId } from '../../src/cloud/ecs'
import { createHttpTransport } from '../../src/cloud/http'
import { temporaryAccessKeys, tokenFromPassword, unscopedTokenFromIdToken } from '../../src/cloud/iam'
import { DEFAULT_RETRY_POLICY } from '../../src/cloud/retry'
import { actionBody } from '../../src/cloud/server-action'
import { DEFAULT_PROJECT_ID } from '../emulator'
import { EMULATOR_KEY, serverIds, useEmulator } from '../support/fixtures'

import {
  DOCUMENTED_SERVER_STATES,
  PROJECT,
  declaredFields,
  recordingApi,
  wire,
  type Model
} from '../support/sdk-models'

describe('IAM requests and responses against the SDK models', () => {
  it('CreateTokenWithIdToken: same route, X-Idp-Id header and body, unscoped (no scope) as both SDKs ask', async () => {
    const sdk = IamParams().createTokenWithIdToken(
      new CreateTokenWithIdTokenRequest()
        .withXIdpId('github')
        .withBody(
          new GetIdTokenRequestBody().withAuth(
            new GetIdTokenAuthParams().withIdToken(new GetIdTokenIdTokenBody().withId('eyJ.jwt'))
          )
        )
    )
    const { api, calls } = recordingApi({ headers: { 'x-subject-token': 'T' } })
    await expect(
      unscopedTokenFromIdToken(api, new URL('https://iam.myhuaweicloud.com'), 'github', 'eyJ.jwt')
    ).resolves.toBe('T')
    expect([calls[0].method, calls[0].path]).toEqual([sdk.method, sdk.url])
    // The ApiClient adds Content-Type itself, the SDK's own (pinned in api.test.ts).
    expect((sdk.headers as Record<string, string>)['Content-Type']).toBe(JSON_CONTENT_TYPE)
    expect(calls[0].headers).toEqual({ 'X-Idp-Id': (sdk.headers as Record<string, string>)['X-Idp-Id'] })
    expect(wire(calls[0].body)).toEqual(wire(sdk.data))
    expect(wire(calls[0].body)).toEqual({ auth: { id_token: { id: 'eyJ.jwt' } } })
    expect(declaredFields(CreateTokenWithIdTokenRequest)).toContain('X-Idp-Id')
    // A scope, which the action no longer sends, would be `scope.project|domain.{id|name}`.
    expect(declaredFields(GetIdTokenIdScopeBody)).toEqual(['domain', 'project'])
    expect(declaredFields(GetIdTokenScopeDomainOrProjectBody)).toEqual(['id', 'name'])
  })

  it('password token: same route and body as KeystoneCreateUserTokenByPassword', async () => {
    const sdk = IamParams().keystoneCreateUserTokenByPassword(
      new KeystoneCreateUserTokenByPasswordRequest().withBody(
        new KeystoneCreateUserTokenByPasswordRequestBody().withAuth(
          new PwdAuth()
            .withIdentity(
              new PwdIdentity()
                .withMethods(['password'])
                .withPassword(
                  new PwdPassword().withUser(
                    new PwdPasswordUser()
                      .withName('deployer')
                      .withPassword('pw')
                      .withDomain(new PwdPasswordUserDomain().withName('acme'))
                  )
                )
            )
            .withScope(new AuthScope().withProject(new AuthScopeProject().withName('cn-north-4')))
        )
      )
    )
    const { api, calls } = recordingApi({ headers: { 'x-subject-token': 'T' } })
    await tokenFromPassword(
      api,
      new URL('https://iam.myhuaweicloud.com'),
      { username: 'deployer', password: 'pw', domain: 'acme' },
      { name: 'cn-north-4' }
    )
    expect([calls[0].method, calls[0].path]).toEqual([sdk.method, sdk.url])
    expect(wire(calls[0].body)).toEqual(wire(sdk.data))
  })

  it('CreateTemporaryAccessKeyByToken: same route, X-Auth-Token and body (methods ["token"], duration_seconds 21600); reads credential.access/secret/securitytoken/expires_at', async () => {
    const sdk = IamParams().createTemporaryAccessKeyByToken(
      new CreateTemporaryAccessKeyByTokenRequest().withBody(
        new CreateTemporaryAccessKeyByTokenRequestBody().withAuth(
          new TokenAuth().withIdentity(
            new TokenAuthIdentity().withMethods(['token']).withToken(new IdentityToken().withDurationSeconds(21600))
          )
        )
      )
    )
    expect([sdk.method, sdk.url]).toEqual(['POST', '/v3.0/OS-CREDENTIAL/securitytokens'])
    expect(declaredFields(IdentityToken)).toEqual(['duration_seconds', 'id'])
    expect(declaredFields(CreateTemporaryAccessKeyByTokenResponse)).toEqual(['credential'])
    expect(declaredFields(Credential)).toEqual(['access', 'expires_at', 'secret', 'securitytoken'])
    // The answer as the SDK's models build it (the IAM-zh example's expires_at, microseconds).
    const credential = new Credential('2020-01-08T02:56:19.587000Z', 'AKTEMP', 'SKTEMP', 'STTEMP')
    const answer = new CreateTemporaryAccessKeyByTokenResponse().withCredential(credential)
    const { api, calls } = recordingApi({ status: 201, body: wire(answer) })
    const keys = await temporaryAccessKeys(api, new URL('https://iam.myhuaweicloud.com'), 'unscoped-token')
    expect([calls[0].method, calls[0].path]).toEqual([sdk.method, sdk.url])
    expect(wire(calls[0].body)).toEqual(wire(sdk.data))
    // The SDK's IamClient declares X-Auth-Token nowhere (the core adds it); the Node core's
    // iam.service sends the token there, the Go core in token.id; the action follows IAM-zh: header.
    expect(calls[0].headers).toEqual({ 'X-Auth-Token': 'unscoped-token' })
    expect(keys).toEqual({
      accessKeyId: 'AKTEMP',
      secretAccessKey: 'SKTEMP',
      securityToken: 'STTEMP',
      expiresAt: Date.UTC(2020, 0, 8, 2, 56, 19, 587)
    })
  })

  it('KeystoneListProjects: GET /v3/projects?name={region}; the action reads projects[].id', async () => {
    const sdk = IamParams().keystoneListProjects(new KeystoneListProjectsRequest().withName('cn-north-4'))
    const { api, calls } = recordingApi({ body: { projects: [{ id: PROJECT, name: 'cn-north-4' }] } })
    await expect(lookupProjectId(api, new URL('https://iam.myhuaweicloud.com'), 'cn-north-4')).resolves.toBe(PROJECT)
    expect([calls[0].method, calls[0].path, calls[0].query]).toEqual([sdk.method, sdk.url, sdk.queryParams])
    expect(declaredFields(KeystoneListProjectsResponse)).toContain('projects')
    expect(declaredFields(ProjectResult)).toEqual(
      expect.arrayContaining(['id', 'name', 'domain_id', 'enabled', 'parent_id'])
    )
  })
})

/** Keys of `value` that `model` does not declare. */
function undeclared(value: unknown, model: Model): string[] {
  const declared = new Set(declaredFields(model))
  return Object.keys(value as object).filter((key) => !declared.has(key))
}

function expectStringOrNull(value: unknown): void {
  expect(value === null || typeof value === 'string').toBe(true)
}

/** `OS-EXT-STS:task_state` values ECS documents (`云服务器状态.md` tables 3 and 4), null when idle. */
const DOCUMENTED_TASK_STATES = [
  null,
  'rebooting',
  'reboot_pending',
  'reboot_started',
  'rebooting_hard',
  'reboot_pending_hard',
  'reboot_started_hard',
  'powering-off',
  'powering-on'
]
/** `OS-EXT-STS:vm_state` values (table 2). */
const DOCUMENTED_VM_STATES = [
  'building',
  'active',
  'stopped',
  'resized',
  'error',
  'deleted',
  'shelved',
  'shelved_offloaded'
]

describe("the emulator's answers against the SDK's response models", () => {
  const emulators = useEmulator()

  async function setup() {
    const inventory = serverIds(3).map((id, i) => ({ id, name: `web-${i}`, tags: ['env=prod', 'bare'] }))
    const emulator = await emulators.start({ inventory, jobDurationMs: 40 })
    const transport = createHttpTransport({ timeoutMs: 5000, maxBodyBytes: 1024 * 1024, userAgent: 'test' })
    onTestFinished(() => transport.close())
    const api = new RealApiClient({
      transport,
      authenticator: accessKeyAuthenticator(EMULATOR_KEY),
      retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: 1 },
      clock: () => Date.now(),
      sleep: (ms) => delay(ms),
      random: () => 0.5,
      log: { info() {}, warning() {}, debug() {} },
      signal: new AbortController().signal
    })
    const endpoint = new URL(emulator.url)
    return { emulator, api, endpoint, ecs: new EcsClient(api, endpoint, DEFAULT_PROJECT_ID), ids: serverIds(3) }
  }

  it('submit answers only fields of BatchRebootServersResponse, job_id a string', async () => {
    const { api, endpoint, ids } = await setup()
    const response = await api.request({
      what: 'submit',
      method: 'POST',
      endpoint,
      path: `/v1/${DEFAULT_PROJECT_ID}/cloudservers/action`,
      body: actionBody({ kind: 'reboot', type: 'SOFT' }, ids),
      projectId: DEFAULT_PROJECT_ID,
      idempotent: false
    })
    expect(undeclared(response.body, BatchRebootServersResponse)).toEqual([])
    expect(typeof (response.body as { job_id: unknown }).job_id).toBe('string')
  })

  it('job documents (early, running-or-done, done) carry only ShowJobResponse/SubJob fields of the declared types', async () => {
    const { ecs, ids } = await setup()
    const answer = await ecs.submit({ kind: 'reboot', type: 'HARD' }, ids, 'x')
    if (!answer.accepted) throw new Error(answer.problem)
    const documents = [await ecs.getJob(answer.jobId)]
    await delay(20)
    documents.push(await ecs.getJob(answer.jobId))
    await delay(40)
    documents.push(await ecs.getJob(answer.jobId))
    expect((documents[2] as { status: string }).status).toBe('SUCCESS')
    for (const document of documents) {
      const job = document as Record<string, unknown> & { entities: Record<string, unknown> }
      expect(undeclared(job, ShowJobResponse)).toEqual([])
      expect(Object.values(ShowJobResponseStatusEnum)).toContain(job.status)
      for (const field of ['job_id', 'job_type', 'begin_time']) expect(typeof job[field]).toBe('string')
      for (const field of ['end_time', 'error_code', 'fail_reason']) expectStringOrNull(job[field])
      expect(undeclared(job.entities, JobEntities)).toEqual([])
      expect(typeof job.entities.sub_jobs_total).toBe('number')
      const subJobs = job.entities.sub_jobs as Record<string, unknown>[]
      expect(Array.isArray(subJobs)).toBe(true)
      for (const subJob of subJobs) {
        expect(undeclared(subJob, SubJob)).toEqual([])
        expect(Object.values(SubJobStatusEnum)).toContain(subJob.status)
        expect(undeclared(subJob.entities, SubJobEntities)).toEqual([])
        expect(typeof (subJob.entities as { server_id: unknown }).server_id).toBe('string')
      }
    }
    expect((documents[2] as { entities: { sub_jobs: unknown[] } }).entities.sub_jobs).toHaveLength(3)
  })

  it('server list and server detail carry only ServerDetail fields, states among the documented ones', async () => {
    const { api, endpoint, ids } = await setup()
    const list = await api.request({
      what: 'list',
      method: 'GET',
      endpoint,
      path: `/v1/${DEFAULT_PROJECT_ID}/cloudservers/detail`,
      query: { limit: '1000' },
      projectId: DEFAULT_PROJECT_ID,
      idempotent: true
    })
    const body = list.body as { count: unknown; servers: Record<string, unknown>[] }
    expect(undeclared(body, ListServersDetailsResponse)).toEqual([])
    expect(body.count).toBe(3)
    const one = await api.request({
      what: 'show',
      method: 'GET',
      endpoint,
      path: `/v1/${DEFAULT_PROJECT_ID}/cloudservers/${ids[0]}`,
      projectId: DEFAULT_PROJECT_ID,
      idempotent: true
    })
    const servers = [...body.servers, (one.body as { server: Record<string, unknown> }).server]
    expect(servers).toHaveLength(4)
    for (const server of servers) {
      expect(undeclared(server, ServerDetail)).toEqual([])
      for (const field of ['id', 'name', 'status', 'enterprise_project_id']) expect(typeof server[field]).toBe('string')
      expect(DOCUMENTED_SERVER_STATES).toContain(server.status)
      expect(Array.isArray(server.tags) && server.tags.every((tag) => typeof tag === 'string')).toBe(true)
      // Every field ServerDetail declares for the server's state is there (no gap left).
      expect(DOCUMENTED_VM_STATES).toContain(server['OS-EXT-STS:vm_state'])
      expect(DOCUMENTED_TASK_STATES).toContain(server['OS-EXT-STS:task_state'])
      expect(Number.isInteger(server['OS-EXT-STS:power_state'])).toBe(true)
      expect(typeof server.locked).toBe('boolean')
    }
  })
})
