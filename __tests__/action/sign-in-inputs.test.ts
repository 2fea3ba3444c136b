import { describe, expect, it } from 'vitest'
import { readInputs } from '../../src/action/inputs'
import { A, problemsOf, source, valid } from '../support/input-source'

describe('signing in', () => {
  const noKeys = { 'server-ids': A, region: 'ap-southeast-1' }

  it('signs in with GitHub OIDC when idp-id is given, with a default audience', () => {
    expect(readInputs(source({ ...noKeys, 'idp-id': 'idp-github' })).auth).toEqual({
      mode: 'oidc',
      idpId: 'idp-github',
      audience: 'huaweicloud'
    })
    expect(readInputs(source({ ...noKeys, 'idp-id': 'idp-github', 'oidc-audience': 'my-client' })).auth).toMatchObject({
      audience: 'my-client'
    })
  })

  it('signs in with an IAM password, masking it at once', () => {
    const src = source({ ...noKeys, 'iam-username': 'deployer', 'iam-password': 'pa55 word', 'iam-domain': 'acme' })
    expect(readInputs(src).auth).toEqual({
      mode: 'password',
      username: 'deployer',
      password: 'pa55 word',
      domain: 'acme'
    })
    expect(src.masked).toEqual(['pa55 word'])
  })

  it.each([
    [
      { 'idp-id': 'idp', 'access-key-id': 'AK', 'secret-access-key': 'SK' },
      /only one way to sign in may be configured, but these are: access-key-id\/secret-access-key, idp-id \(OIDC\)/
    ],
    [{ 'idp-id': 'idp', 'iam-username': 'u' }, /only one way to sign in/],
    [
      { 'iam-username': 'u', 'iam-password': 'p' },
      /^Input 'iam-domain': a password sign-in needs .*; missing: iam-domain$/
    ],
    [{ 'iam-username': 'u' }, /^Input 'iam-password': a password sign-in needs .*; missing: iam-password, iam-domain$/],
    [{ 'idp-id': '../x' }, /^Input 'idp-id': must be the identity provider ID/],
    [{ 'idp-id': 'idp', 'oidc-audience': 'two words' }, /^Input 'oidc-audience'/],
    [{}, /^Input 'access-key-id': no credentials/]
  ])('rejects %j', (inputs, problem) => {
    expect(problemsOf({ ...noKeys, ...inputs })[0]).toMatch(problem)
  })

  it.each([
    [
      { 'access-key-id': 'AK', 'secret-access-key': 'SK', 'iam-username': 'u' },
      'access-key-id',
      ['access-key-id/secret-access-key', 'iam-username/iam-password']
    ],
    [
      { 'secret-access-key': 'SK', 'iam-password': 'p' },
      'secret-access-key',
      ['access-key-id/secret-access-key', 'iam-username/iam-password']
    ],
    [{ 'idp-id': 'idp', 'iam-password': 'p' }, 'idp-id', ['idp-id (OIDC)', 'iam-username/iam-password']]
  ])('names the sign-in inputs actually given when several are: %j', (inputs, input, ways) => {
    const [message] = problemsOf({ ...noKeys, ...inputs })
    expect(message).toBe(
      `Input '${input}': only one way to sign in may be configured, but these are: ${ways.join(', ')}; remove all but one`
    )
  })

  it('prefers an explicit sign-in over keys left in the environment by an earlier step', () => {
    const inputs = readInputs(
      source({ ...noKeys, 'idp-id': 'idp' }, { HUAWEI_CLOUD_ACCESS_KEY_ID: 'AK', HUAWEI_CLOUD_SECRET_ACCESS_KEY: 'SK' })
    )
    expect(inputs.auth.mode).toBe('oidc')
  })

  it('builds endpoints from the cloud preset', () => {
    const eu = readInputs(source({ ...valid, cloud: 'huaweicloud-eu', region: 'eu-west-101' }))
    expect([eu.endpoint.href, eu.iamEndpoint?.href]).toEqual([
      'https://ecs.eu-west-101.myhuaweicloud.eu/',
      'https://iam.eu-west-101.myhuaweicloud.eu/'
    ])
    // The SDKs' ECS host for the European site, tried only when the default does not resolve.
    expect(eu.endpointAlternatives.map((url) => url.href)).toEqual(['https://ecs.eu-west-101.myhuaweicloud.com/'])
    const given = readInputs(
      source({ ...valid, cloud: 'huaweicloud-eu', region: 'eu-west-101', endpoint: 'https://ecs.example.eu' })
    )
    expect([given.endpoint.href, given.endpointAlternatives]).toEqual(['https://ecs.example.eu/', []])
    expect(readInputs(source(valid)).endpointAlternatives).toEqual([])
    // Regions without an IAM entry in the SDKs' tables use the global IAM host, as the SDKs do.
    for (const region of ['af-north-1', 'ap-southeast-5', 'cn-north-11', 'cn-south-4', 'cn-southwest-3']) {
      expect(readInputs(source({ ...valid, region })).iamEndpoint?.href).toBe('https://iam.myhuaweicloud.com/')
    }
    expect(readInputs(source({ ...valid, region: 'cn-north-12' })).iamEndpoint?.href).toBe(
      'https://iam.cn-north-12.myhuaweicloud.com/'
    )
    const swiss = readInputs(source({ ...valid, cloud: 'OTC', region: 'eu-ch2' }))
    expect([swiss.endpoint.href, swiss.iamEndpoint?.href]).toEqual([
      'https://ecs.eu-ch2.sc.otc.t-systems.com/',
      'https://iam-pub.eu-ch2.sc.otc.t-systems.com/'
    ])
    const germany = readInputs(source({ ...valid, cloud: 'otc', region: 'eu-de' }))
    expect(germany.iamEndpoint?.href).toBe('https://iam.eu-de.otc.t-systems.com/')
  })

  it('signs in by GitHub OIDC at the global IAM host on Huawei Cloud, the site or cloud IAM host elsewhere, iam-endpoint first', () => {
    const oidc = { 'server-ids': A, region: 'ap-southeast-1', 'idp-id': 'github' }
    const global = readInputs(source(oidc))
    expect([global.oidcIamEndpoint?.href, global.iamEndpoint?.href]).toEqual([
      'https://iam.myhuaweicloud.com/',
      'https://iam.ap-southeast-1.myhuaweicloud.com/'
    ])
    const eu = readInputs(source({ ...oidc, cloud: 'huaweicloud-eu', region: 'eu-west-101' }))
    expect(eu.oidcIamEndpoint?.href).toBe('https://iam.eu-west-101.myhuaweicloud.eu/')
    const otc = readInputs(source({ ...oidc, cloud: 'otc', region: 'eu-nl' }))
    expect(otc.oidcIamEndpoint?.href).toBe('https://iam.eu-nl.otc.t-systems.com/')
    const explicit = readInputs(source({ ...oidc, 'iam-endpoint': 'https://iam.example.com' }))
    expect([explicit.oidcIamEndpoint?.href, explicit.iamEndpoint?.href]).toEqual([
      'https://iam.example.com/',
      'https://iam.example.com/'
    ])
  })

  it.each([
    [{ cloud: 'aws' }, /^Input 'cloud': "aws" is not allowed; use huaweicloud, huaweicloud-eu, otc/],
    [
      { cloud: 'otc', region: 'eu-west-101' },
      /^Input 'region': "eu-west-101" is not among the Open Telekom Cloud regions this action knows \(eu-de, eu-nl, eu-ch2\)/
    ],
    [{ region: 'eu-west-101' }, /It is the European site: set cloud: huaweicloud-eu\./],
    [{ region: 'xx-nowhere-9' }, /For another region, set endpoint and iam-endpoint\./]
  ])('rejects %j, naming the regions the cloud knows', (inputs, problem) => {
    expect(problemsOf({ ...valid, ...inputs })[0]).toMatch(problem)
  })

  it('accepts a region it does not know when no default endpoint is needed', () => {
    const inputs = readInputs(
      source(
        { ...valid, region: '', endpoint: 'https://ecs.example.com', 'project-id': 'd'.repeat(32) },
        { HUAWEI_CLOUD_REGION: 'xx-new-1' }
      )
    )
    expect(inputs.region).toBe('xx-new-1')
    expect(inputs.iamEndpoint).toBeUndefined()
  })

  it('accepts any region when both endpoints are given', () => {
    const inputs = readInputs(
      source({
        ...valid,
        region: 'xx-new-1',
        endpoint: 'https://ecs.example.com',
        'iam-endpoint': 'https://iam.example.com'
      })
    )
    expect(inputs.region).toBe('xx-new-1')
  })

  it('needs no region for GitHub OIDC on Huawei Cloud when endpoint and project-id are given', () => {
    const given = {
      'server-ids': A,
      'idp-id': 'idp',
      endpoint: 'https://ecs.example.com',
      'project-id': 'd'.repeat(32)
    }
    const inputs = readInputs(source(given))
    expect(inputs.region).toBeUndefined()
    expect(inputs.oidcIamEndpoint?.href).toBe('https://iam.myhuaweicloud.com/')
    // Open Telekom Cloud signs in at the region's IAM host: without a region, or iam-endpoint, none is known.
    expect(problemsOf({ ...given, cloud: 'otc' })).toEqual([expect.stringMatching(/^Input 'region': required unless/)])
  })

  it('needs a region to look the project up, even when both endpoints are given', () => {
    const endpoints = { endpoint: 'https://ecs.example.com', 'iam-endpoint': 'https://iam.example.com' }
    expect(problemsOf({ ...valid, ...endpoints, region: '' })).toEqual([
      expect.stringMatching(/^Input 'region': required unless 'endpoint', 'project-id'/)
    ])
  })
})
