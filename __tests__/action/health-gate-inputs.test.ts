import { describe, expect, it } from 'vitest'
import { InputErrors } from '../../src/action/errors'
import { readInputs } from '../../src/action/inputs'
import type { InputSource } from '../../src/action/inputs/source'

const base = {
  'server-ids': '616fb98f-46ca-475e-917e-2563e5a8cd19',
  region: 'ap-southeast-1',
  'project-id': '0123456789abcdef0123456789abcdef',
  'access-key-id': 'AK',
  'secret-access-key': 'SK'
}

const source = (inputs: Record<string, string>): InputSource => ({
  getInput: (name) => inputs[name] ?? '',
  env: {},
  maskSecret: () => {},
  readFile: () => ''
})

function problems(inputs: Record<string, string>): string[] {
  try {
    readInputs(source({ ...base, ...inputs }))
    return []
  } catch (error) {
    if (!(error instanceof InputErrors)) throw error
    return error.problems.map((p) => p.message)
  }
}

describe('health-gate inputs', () => {
  it('is off by default, and on with the defaults of the design (1 per pool, 30 s drain, 600 s timeout, pause)', () => {
    expect(readInputs(source(base)).healthGate).toBeUndefined()
    const gate = readInputs(source({ ...base, 'health-gate': 'elb', 'as-group-ids': 'asg-1' })).healthGate
    expect(gate).toMatchObject({
      maxUnavailable: { count: 1 },
      drainMs: 30_000,
      healthTimeoutMs: 600_000,
      poolIds: undefined,
      scalingGroupIds: ['asg-1'],
      protection: 'pause'
    })
    expect(gate?.elbEndpoint.href).toBe('https://elb.ap-southeast-1.myhuaweicloud.com/')
    expect(gate?.asEndpoint?.href).toBe('https://as.ap-southeast-1.myhwclouds.com/')
  })

  it('takes a percentage, decimals in seconds, pool IDs and endpoint overrides', () => {
    const gate = readInputs(
      source({
        ...base,
        'health-gate': 'ELB',
        'max-unavailable-per-pool': '25%',
        'drain-seconds': '0.5',
        'health-timeout-seconds': '2.5',
        'elb-pool-ids': 'pool-a, pool-b\npool-a',
        'elb-endpoint': 'http://127.0.0.1:8080'
      })
    ).healthGate
    expect(gate).toMatchObject({ maxUnavailable: { percent: 25 }, drainMs: 500, healthTimeoutMs: 2500 })
    expect(gate?.poolIds).toEqual(['pool-a', 'pool-b'])
    expect(gate?.elbEndpoint.host).toBe('127.0.0.1:8080')
    expect(gate?.asEndpoint).toBeUndefined()
  })

  it('names each bad input and what is allowed, all at once', () => {
    expect(
      problems({
        'health-gate': 'alb',
        'max-unavailable-per-pool': '0',
        'drain-seconds': '-1',
        'as-protection': 'hibernate'
      })
    ).toEqual([
      expect.stringMatching(/^Input 'health-gate': "alb" is not allowed; use none or elb/),
      expect.stringMatching(
        /^Input 'max-unavailable-per-pool': "0" is not allowed; use a whole number from 1 to 1000, or a percentage/
      ),
      expect.stringMatching(/^Input 'drain-seconds': "-1" is not allowed/),
      expect.stringMatching(/^Input 'as-protection': "hibernate" is not allowed; use pause .*, standby .* or none/)
    ])
  })

  it('needs operation reboot and wait, and an ELB endpoint when the region is unknown', () => {
    expect(problems({ 'health-gate': 'elb', operation: 'stop' })).toEqual([
      expect.stringContaining("Input 'health-gate': elb works with operation: reboot only, not stop")
    ])
    expect(problems({ 'health-gate': 'elb', wait: 'false' })).toEqual([
      expect.stringContaining("Input 'health-gate': elb needs wait: true")
    ])
    expect(problems({ 'health-gate': 'elb', region: 'xx-nowhere-9', endpoint: 'https://ecs.example.com' })).toEqual([
      expect.stringContaining("Input 'elb-endpoint': required with health-gate: elb")
    ])
  })
  it('as-protection: standby needs health-gate: elb and as-group-ids, and is refused on Open Telekom Cloud', () => {
    const gate = readInputs(
      source({ ...base, 'health-gate': 'elb', 'as-group-ids': 'asg-1', 'as-protection': 'Standby' })
    ).healthGate
    expect(gate).toMatchObject({ protection: 'standby', scalingGroupIds: ['asg-1'] })
    expect(gate?.asEndpoint?.href).toBe('https://as.ap-southeast-1.myhwclouds.com/')
    expect(problems({ 'as-protection': 'standby', 'as-group-ids': 'asg-1' })).toEqual([
      "Input 'as-protection': standby works only with health-gate: elb; use pause or none otherwise"
    ])
    expect(problems({ 'health-gate': 'elb', 'as-protection': 'standby' })).toEqual([
      "Input 'as-protection': standby needs as-group-ids: the scaling groups whose servers go to standby; use pause or none otherwise"
    ])
    const otc = { 'health-gate': 'elb', 'as-group-ids': 'asg-1', 'as-protection': 'standby' }
    for (const extra of [
      { cloud: 'otc', region: 'eu-de', 'as-endpoint': '' },
      { cloud: 'huaweicloud', region: 'ap-southeast-1', 'as-endpoint': 'https://as.eu-nl.otc.t-systems.com' }
    ]) {
      expect(problems({ ...otc, ...extra })).toEqual([
        expect.stringMatching(/^Input 'as-protection': standby is not offered by Open Telekom Cloud Auto Scaling/)
      ])
    }
  })
})
