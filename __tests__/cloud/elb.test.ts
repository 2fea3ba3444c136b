import { describe, expect, it } from 'vitest'
import { ElbClient, isRefusedForNow } from '../../src/cloud/elb'
import { ApiError } from '../../src/cloud/errors'
import { DEFAULT_PROJECT_ID, gatewayError } from '../emulator'
import { ELB_PATH, elbFleet, memberId, serverId } from '../support/elb-fleet'
import { serverIds, useEmulator } from '../support/fixtures'
import { lbClients } from '../support/lb-clients'

// The ELB v3 client against the emulator over HTTP, every signature verified, on a virtual clock.

const emulators = useEmulator()
const setup = (options = elbFleet(), signal?: AbortSignal) => lbClients(emulators, options, signal)

const conflict = { kind: 'respond' as const, status: 409, body: gatewayError('ELB.8907', 'Data conflict.') }
const throttled = {
  kind: 'respond' as const,
  status: 429,
  body: gatewayError('APIG.0308', 'The throttling threshold has been reached')
}

/** A load balancer with one pool of `count` members (servers of the inventory), probed every 5 s. */
function bigPool(count: number) {
  const inventory = serverIds(count).map((id) => ({ id, name: id }))
  return {
    inventory,
    loadBalancers: [
      {
        id: 'lb-big',
        pools: [
          {
            id: 'pool-big',
            members: inventory.map((s, i) => ({ id: `m-${String(i).padStart(5, '0')}`, serverId: s.id })),
            healthMonitor: { delay: 5, maxRetries: 3 }
          }
        ]
      }
    ]
  }
}

describe('ELB client against the emulator', () => {
  it('lists every pool, or only those asked for, with algorithm, health monitor and load balancer', async () => {
    const { elb, emulator } = await setup()
    const pools = await elb.pools(Infinity)
    expect(pools.map((p) => p.id)).toEqual(['pool-web', 'pool-api', 'pool-legacy'])
    expect(pools[2]).toEqual({
      id: 'pool-legacy',
      name: 'pool-legacy',
      algorithm: 'ROUND_ROBIN',
      protocol: 'HTTP',
      healthMonitorId: 'pool-legacy-hm',
      loadBalancerIds: ['lb-legacy'],
      connectionDrain: { enable: false, timeout: 300 }
    })
    expect((await elb.pools(Infinity, ['pool-legacy', 'pool-unknown'])).map((p) => p.id)).toEqual(['pool-legacy'])
    expect(emulator.requests.map((r) => [r.route, r.signatureValid, r.query.get('limit')])).toEqual([
      ['elb-pools', true, '2000'],
      ['elb-pools', true, '2000']
    ])
    expect(emulator.requests[0].headers['x-project-id']).toBeDefined()
  })

  it('lists the members of a pool with instance, weight and per-listener health', async () => {
    const { elb, emulator } = await setup()
    const members = await elb.members('pool-api', Infinity)
    expect(members.map((m) => m.instanceId)).toEqual(Array.from({ length: 15 }, (_, i) => serverId(10 + i)))
    expect(members[0]).toMatchObject({
      id: memberId('pool-api', serverId(10)),
      weight: 1,
      statuses: ['ONLINE']
    })
    expect(members[0].address).toMatch(/^10\./)
    expect(emulator.requests[0].path).toBe(`${ELB_PATH}/pools/pool-api/members`)
  })

  it('pages with limit and marker: a full page is followed by the next, an empty or short one ends the list', async () => {
    const { elb, emulator } = await setup(bigPool(2001))
    const all = await elb.members('pool-big', Infinity)
    expect(all).toHaveLength(2001)
    expect(new Set(all.map((m) => m.id)).size).toBe(2001)
    expect(emulator.requests.map((r) => [r.query.get('limit'), r.query.get('marker')])).toEqual([
      ['2000', null],
      ['2000', 'm-01999']
    ])
  })

  it('accepts an empty last page after a full one', async () => {
    const { elb, emulator } = await setup(bigPool(2000))
    expect(await elb.members('pool-big', Infinity)).toHaveLength(2000)
    const pages = emulator.requests.map((r) => r.query.get('marker'))
    expect(pages).toEqual([null, 'm-01999'])
  })

  it('stops paging with an error when the cloud answers a marker already followed, at once or after a cycle, instead of looping', async () => {
    const { elb, emulator } = await setup()
    const page = (prefix: string, next: string) => ({
      kind: 'respond' as const,
      status: 200,
      body: {
        pools: Array.from({ length: 2000 }, (_, i) => ({ id: `${prefix}${i}`, lb_algorithm: 'ROUND_ROBIN' })),
        page_info: { next_marker: next }
      }
    })
    emulator.inject('elb-pools', page('p', 'p1999'), page('p', 'p1999'))
    await expect(elb.pools(Infinity)).rejects.toThrow('List the ELB pools stopped: page 2 leads back to marker p1999')
    expect(emulator.requests.map((r) => r.query.get('marker'))).toEqual([null, 'p1999'])
    emulator.requests.length = 0
    emulator.inject('elb-pools', page('p', 'p1999'), page('q', 'q1999'), page('p', 'p1999'))
    await expect(elb.pools(Infinity)).rejects.toThrow('page 3 leads back to marker p1999')
    expect(emulator.requests.map((r) => r.query.get('marker'))).toEqual([null, 'p1999', 'q1999'])
  })

  it("reads a pool's connection drain (deregistration delay) as the API shows it", async () => {
    const fleet = elbFleet()
    const api = fleet.loadBalancers?.[0].pools[1]
    if (api === undefined) throw new Error('no pool-api')
    api.protocol = 'TCP'
    api.connectionDrain = { enable: true, timeout: 120 }
    const { elb } = await setup(fleet)
    const pools = await elb.pools(Infinity)
    expect(pools.map((p) => [p.id, p.protocol, p.connectionDrain])).toEqual([
      ['pool-web', 'HTTP', { enable: false, timeout: 300 }],
      ['pool-api', 'TCP', { enable: true, timeout: 120 }],
      ['pool-legacy', 'HTTP', { enable: false, timeout: 300 }]
    ])
  })

  it('reads listings defensively: pools without an id are dropped, a member without listener statuses shows its own', async () => {
    const { elb, emulator } = await setup()
    emulator.inject('elb-pools', {
      kind: 'respond',
      status: 200,
      body: { pools: [{ id: 'a', healthmonitor_id: null, loadbalancers: [{ id: 'lb' }, null, {}] }, { name: 'no id' }] }
    })
    emulator.inject('elb-members', {
      kind: 'respond',
      status: 200,
      body: {
        members: [
          { id: 'm', operating_status: 'NO_MONITOR' },
          { id: 'n', weight: 0, status: [{}] }
        ]
      }
    })
    expect(await elb.pools(Infinity)).toEqual([
      {
        id: 'a',
        name: '',
        algorithm: '',
        protocol: '',
        healthMonitorId: null,
        loadBalancerIds: ['lb'],
        connectionDrain: { enable: false, timeout: 0 }
      }
    ])
    expect(await elb.members('a', Infinity)).toEqual([
      { id: 'm', instanceId: '', address: '', weight: 1, statuses: ['NO_MONITOR'] },
      { id: 'n', instanceId: '', address: '', weight: 0, statuses: [''] }
    ])
  })

  it('reads a monitor or load balancer answer without its fields with the documented defaults', async () => {
    const { elb, emulator } = await setup()
    emulator.inject('elb-healthmonitor', { kind: 'respond', status: 200, body: { healthmonitor: { delay: '9' } } })
    emulator.inject('elb-loadbalancer', { kind: 'respond', status: 200, body: {} })
    emulator.inject('elb-members', { kind: 'respond', status: 200, body: { members: 'none', page_info: {} } })
    await expect(elb.healthMonitor('hm-1', Infinity)).resolves.toEqual({
      id: 'hm-1',
      adminStateUp: true,
      delay: 5,
      timeout: 3,
      maxRetries: 3,
      maxRetriesDown: 3
    })
    // Shown as dedicated (gated at weight 0, restored last) unless the answer says shared.
    await expect(elb.loadBalancer('lb-1', Infinity)).resolves.toEqual({
      id: 'lb-1',
      name: '',
      guaranteed: true,
      provisioningStatus: '',
      operatingStatus: ''
    })
    await expect(elb.members('pool-web', Infinity)).resolves.toEqual([])
  })

  it('reads a health monitor and a load balancer, dedicated or shared, busy after a change', async () => {
    const { elb } = await setup()
    await expect(elb.healthMonitor('pool-web-hm', Infinity)).resolves.toEqual({
      id: 'pool-web-hm',
      adminStateUp: true,
      delay: 5,
      timeout: 3,
      maxRetries: 3,
      maxRetriesDown: 3
    })
    await expect(elb.loadBalancer('lb-legacy', Infinity)).resolves.toMatchObject({
      id: 'lb-legacy',
      guaranteed: false,
      provisioningStatus: 'ACTIVE',
      operatingStatus: 'ONLINE'
    })
    await elb.setWeights('pool-web', [{ memberId: memberId('pool-web', serverId(0)), weight: 2 }], Infinity)
    await expect(elb.loadBalancer('lb-main', Infinity)).resolves.toMatchObject({
      guaranteed: true,
      provisioningStatus: 'PENDING_UPDATE'
    })
  })

  it('fails an unknown resource at once with the ELB error code, message and request ID', async () => {
    const { elb, emulator } = await setup()
    await expect(elb.healthMonitor('nope', Infinity)).rejects.toThrow(
      /^Read health monitor nope failed with HTTP 404, ELB\.8904: healthmonitor nope could not be found\. \(X-Request-Id: \S+\)$/
    )
    await expect(elb.members('pool-none', Infinity)).rejects.toMatchObject({ status: 404, code: 'ELB.8904' })
    expect(emulator.requests).toHaveLength(2)
  })

  it('sets weights with batch-update, at most 200 members a call, weight 0 sent explicitly', async () => {
    const { elb, emulator } = await setup({ ...bigPool(450), loadBalancing: { busyMs: 0 } })
    const changes = Array.from({ length: 450 }, (_, i) => ({ memberId: `m-${String(i).padStart(5, '0')}`, weight: 0 }))
    await elb.setWeights('pool-big', changes, Infinity)
    const updates = emulator.requests.filter((r) => r.route === 'elb-members-batch-update')
    const bodies = updates.map((r) => JSON.parse(r.body) as { members: { id: string; weight: number }[] })
    expect(bodies.map((b) => b.members.length)).toEqual([200, 200, 50])
    expect(bodies[2].members.at(-1)).toEqual({ id: 'm-00449', weight: 0 })
    expect(updates.every((r) => r.status === 200 && r.signatureValid)).toBe(true)
    expect(emulator.loadBalancing.members('pool-big').filter((m) => m.weight === 0)).toHaveLength(450)
  })

  it('waits out a load balancer busy with its earlier change (409 ELB.8907) with backoff, then sends again', async () => {
    const { elb, emulator, sleeps } = await setup()
    const web = (i: number, weight: number) => ({ memberId: memberId('pool-web', serverId(i)), weight })
    await elb.setWeights('pool-web', [web(0, 0)], Infinity)
    // Busy for 1 s after each change: refused at 0 and 0.375 s, accepted at 1.125 s.
    await elb.setWeights('pool-web', [web(1, 0)], Infinity)
    expect(emulator.requests.map((r) => r.status)).toEqual([200, 409, 409, 200])
    expect(sleeps).toEqual([375, 750])
    expect(
      emulator.loadBalancing
        .members('pool-web')
        .slice(0, 3)
        .map((m) => m.weight)
    ).toEqual([0, 0, 1])
  })

  it('gives up on a busy load balancer when waiting would pass giveUpAt, throwing the refusal', async () => {
    const { elb, emulator, clock, sleeps } = await setup()
    emulator.inject('elb-members-batch-update', conflict, conflict, conflict)
    const error = await elb
      .setWeights('pool-web', [{ memberId: memberId('pool-web', serverId(0)), weight: 0 }], clock.now() + 1000)
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ status: 409, code: 'ELB.8907' })
    expect(sleeps).toEqual([375])
    expect(emulator.requests).toHaveLength(2)
    expect(emulator.loadBalancing.members('pool-web')[0].weight).toBe(1)
  })

  it('stops waiting for a busy load balancer once the run is cancelled, throwing the refusal', async () => {
    const controller = new AbortController()
    const { api, endpoint, clock, emulator, sleeps } = await setup(elbFleet(), controller.signal)
    // Cancelled as the first refusal comes back (when the backoff is drawn).
    const random = (): number => {
      controller.abort('SIGINT')
      return 0.5
    }
    const sleep = (ms: number) => Promise.resolve(void sleeps.push(ms))
    const elb = new ElbClient(api, endpoint, DEFAULT_PROJECT_ID, {
      clock: clock.now,
      sleep,
      random,
      signal: controller.signal
    })
    emulator.inject('elb-members-batch-update', conflict)
    const error = await elb
      .setWeights('pool-web', [{ memberId: memberId('pool-web', serverId(0)), weight: 0 }], Infinity)
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ status: 409, code: 'ELB.8907' })
    expect(sleeps).toEqual([])
    expect(emulator.requests).toHaveLength(1)
    // A cancelled client sends nothing more at all.
    await expect(elb.members('pool-web', Infinity)).rejects.toThrow(/cancelled before it was sent/)
    expect(emulator.requests).toHaveLength(1)
  })

  it('retries throttled reads and weight changes, even past the API client’s own attempts', async () => {
    const { elb, emulator } = await setup()
    emulator.inject('elb-members', throttled, throttled)
    expect(await elb.members('pool-web', Infinity)).toHaveLength(15)
    // Five attempts of the API client, all throttled; the weight change waits on and goes through.
    emulator.inject('elb-members-batch-update', ...Array.from({ length: 6 }, () => throttled))
    await elb.setWeights('pool-web', [{ memberId: memberId('pool-web', serverId(3)), weight: 0 }], Infinity)
    const statuses = emulator.requests.map((r) => [r.route, r.status])
    expect(statuses.filter(([, s]) => s === 429)).toHaveLength(8)
    expect(statuses.at(-1)).toEqual(['elb-members-batch-update', 200])
    expect(emulator.loadBalancing.members('pool-web')[3].weight).toBe(0)
  })

  it('waits out throttled reads in one backoff loop (the API client hands them back), for every kind of read, with the same backoff as a write', async () => {
    const { elb, emulator, sleeps } = await setup()
    const seven = Array.from({ length: 7 }, () => throttled)
    for (const route of ['elb-pools', 'elb-members', 'elb-healthmonitor', 'elb-loadbalancer'] as const) {
      emulator.inject(route, ...seven)
    }
    expect(await elb.pools(Infinity)).toHaveLength(3)
    expect(await elb.members('pool-web', Infinity)).toHaveLength(15)
    await expect(elb.healthMonitor('pool-web-hm', Infinity)).resolves.toMatchObject({ id: 'pool-web-hm' })
    await expect(elb.loadBalancer('lb-main', Infinity)).resolves.toMatchObject({ id: 'lb-main' })
    expect(emulator.requests.filter((r) => r.status === 429)).toHaveLength(28)
    expect(emulator.requests.filter((r) => r.status === 200)).toHaveLength(4)
    // Per read: one backoff, doubling from 0.375 s to its cap (10 s, with equal jitter 7.5 s).
    const perRead = [375, 750, 1500, 3000, 6000, 7500, 7500]
    expect(sleeps).toEqual([...perRead, ...perRead, ...perRead, ...perRead])
  })

  it('gives up on a read still throttled at giveUpAt, throwing the throttling answer without waiting past it', async () => {
    const { elb, emulator, clock, sleeps } = await setup()
    emulator.inject('elb-members', ...Array.from({ length: 30 }, () => throttled))
    const giveUpAt = clock.now() + 20_000
    const error = await elb.members('pool-web', giveUpAt).catch((e: unknown) => e)
    expect(error).toMatchObject({ status: 429, code: 'APIG.0308' })
    // 19.125 s of backoff; the next 7.5 s would pass giveUpAt: given up 0.875 s before it.
    expect(sleeps).toEqual([375, 750, 1500, 3000, 6000, 7500])
    expect(giveUpAt - clock.now()).toBe(875)
    expect(emulator.requests.map((r) => `${r.route} ${r.status}`)).toEqual(Array(7).fill('elb-members 429'))
  })

  it('tells which weight changes the cloud took before a later call of the same pool failed', async () => {
    const { elb } = await setup({ ...bigPool(250), loadBalancing: { busyMs: 0 } })
    const changes = Array.from({ length: 250 }, (_, i) => ({ memberId: `m-${String(i).padStart(5, '0')}`, weight: 0 }))
    changes[230] = { memberId: 'm-deleted', weight: 0 }
    const accepted: string[][] = []
    const error = await elb
      .setWeights('pool-big', changes, Infinity, (taken) => accepted.push(taken.map((c) => c.memberId)))
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ status: 404, code: 'ELB.8904' })
    expect(accepted).toHaveLength(1)
    expect(accepted[0]).toEqual(changes.slice(0, 200).map((c) => c.memberId))
  })

  it('throttles under the rate limit and goes through once the window has passed', async () => {
    const { elb, emulator, sleeps } = await setup({
      ...elbFleet(),
      loadBalancing: { rateLimit: { requests: 2, windowMs: 5000 } }
    })
    await elb.pools(Infinity)
    await elb.members('pool-web', Infinity)
    expect(await elb.members('pool-api', Infinity)).toHaveLength(15)
    // Backoff of 0.375, 0.75, 1.5 and 3 s: the third read goes through 5.625 s after the first two.
    expect(emulator.requests.map((r) => r.status)).toEqual([200, 200, 429, 429, 429, 429, 200])
    expect(sleeps).toEqual([375, 750, 1500, 3000])
  })

  it('sends no retry for a refusal that is not for now (a bad weight): it throws at once', async () => {
    const { elb, emulator } = await setup()
    const error = await elb
      .setWeights('pool-web', [{ memberId: memberId('pool-web', serverId(0)), weight: 101 }], Infinity)
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ status: 400, code: 'ELB.8902' })
    expect(isRefusedForNow(error)).toBe(false)
    expect(emulator.requests).toHaveLength(1)
  })

  it('tells a refusal for now (busy or throttled) from any other error', () => {
    expect(isRefusedForNow(new ApiError(409, 'ELB.8907', 'busy', undefined, 'x'))).toBe(true)
    expect(isRefusedForNow(new ApiError(429, undefined, undefined, undefined, 'x'))).toBe(true)
    expect(isRefusedForNow(new ApiError(409, 'ELB.8906', 'other conflict', undefined, 'x'))).toBe(false)
    expect(isRefusedForNow(new Error('ELB.8907'))).toBe(false)
  })
})
