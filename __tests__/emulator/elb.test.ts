/**
 * The emulator's ELB v3 routes: shapes (field names checked against the SDK models), paging,
 * filters, weight updates, 409 while a load balancer is busy, throttling, faults, and member health
 * on the emulator clock (rise after max_retries, fall after max_retries_down, weight 0 per type).
 */
import { describe, expect, it } from 'vitest'
import { manualClock, submit, useEmulators, type CallOptions } from '../support/emulator-calls'
import { ELB_PATH, elbFleet, lbCall, lbJson, memberId, serverId, setWeight } from '../support/elb-fleet'

const startEmulator = useEmulators()

interface MemberBody {
  id: string
  instance_id: string
  weight: number
  operating_status: string
  status: { listener_id: string; operating_status: string }[]
}
interface PageInfo {
  previous_marker?: string
  next_marker?: string
  current_count: number
}

// Field names the Node SDK models declare (huaweicloud-sdk-nodejs-v3 @ 018e785,
// services/elb/v3/model/{Member,Pool,LoadBalancer,HealthMonitor,PageInfo}.ts); the emulator may send
// fewer, never others.
const SDK_FIELDS = {
  member: [
    'id',
    'availability_zone',
    'name',
    'project_id',
    'admin_state_up',
    'subnet_cidr_id',
    'protocol_port',
    'weight',
    'address',
    'ip_version',
    'operating_status',
    'status',
    'reason',
    'created_at',
    'updated_at',
    'member_type',
    'instance_id'
  ],
  pool: [
    'admin_state_up',
    'az_affinity',
    'description',
    'healthmonitor_id',
    'id',
    'lb_algorithm',
    'listeners',
    'loadbalancers',
    'members',
    'name',
    'project_id',
    'protocol',
    'session_persistence',
    'ip_version',
    'slow_start',
    'member_deletion_protection_enable',
    'created_at',
    'updated_at',
    'vpc_id',
    'type',
    'protection_status',
    'protection_reason',
    'any_port_enable',
    'connection_drain',
    'enterprise_project_id',
    'pool_health',
    'public_border_group',
    'quic_cid_hash_strategy'
  ],
  loadbalancer: [
    'id',
    'description',
    'provisioning_status',
    'admin_state_up',
    'provider',
    'pools',
    'listeners',
    'operating_status',
    'name',
    'project_id',
    'vip_subnet_cidr_id',
    'vip_address',
    'vip_port_id',
    'tags',
    'created_at',
    'updated_at',
    'guaranteed',
    'vpc_id',
    'eips',
    'ipv6_vip_address',
    'availability_zone_list',
    'enterprise_project_id',
    'billing_info'
  ],
  healthmonitor: [
    'admin_state_up',
    'delay',
    'domain_name',
    'expected_codes',
    'http_method',
    'id',
    'max_retries',
    'max_retries_down',
    'monitor_port',
    'name',
    'pools',
    'project_id',
    'timeout',
    'type',
    'url_path',
    'created_at',
    'updated_at'
  ],
  page_info: ['previous_marker', 'next_marker', 'current_count']
}

function onlySdkFields(kind: keyof typeof SDK_FIELDS, object: object): void {
  expect(Object.keys(object).filter((key) => !SDK_FIELDS[kind].includes(key))).toEqual([])
}

describe('ELB v3 routes and shapes', () => {
  it('shows load balancers, pools, members and monitors with the SDK models’ field names', async () => {
    const emulator = await startEmulator(elbFleet())
    const lbs = await lbJson<{
      loadbalancers: { id: string; guaranteed: boolean; provisioning_status: string }[]
      page_info: object
    }>(emulator, `${ELB_PATH}/loadbalancers`)
    expect(lbs.loadbalancers.map((lb) => [lb.id, lb.guaranteed, lb.provisioning_status])).toEqual([
      ['lb-main', true, 'ACTIVE'],
      ['lb-legacy', false, 'ACTIVE']
    ])
    lbs.loadbalancers.forEach((lb) => onlySdkFields('loadbalancer', lb))
    onlySdkFields('page_info', lbs.page_info)

    const { pool } = await lbJson<{ pool: Record<string, unknown> }>(emulator, `${ELB_PATH}/pools/pool-api`)
    onlySdkFields('pool', pool)
    expect(pool).toMatchObject({
      id: 'pool-api',
      lb_algorithm: 'ROUND_ROBIN',
      healthmonitor_id: 'pool-api-hm',
      loadbalancers: [{ id: 'lb-main' }]
    })

    const { healthmonitor } = await lbJson<{ healthmonitor: object }>(
      emulator,
      `${ELB_PATH}/healthmonitors/pool-api-hm`
    )
    onlySdkFields('healthmonitor', healthmonitor)
    expect(healthmonitor).toMatchObject({ delay: 5, timeout: 3, max_retries: 3, max_retries_down: 3, type: 'HTTP' })

    const { member } = await lbJson<{ member: MemberBody }>(
      emulator,
      `${ELB_PATH}/pools/pool-api/members/${memberId('pool-api', 'srv-12')}`
    )
    onlySdkFields('member', member)
    expect(member).toMatchObject({
      instance_id: 'srv-12',
      weight: 1,
      operating_status: 'ONLINE',
      member_type: 'instance'
    })
    expect(member.status).toEqual([{ listener_id: 'listener-pool-api', operating_status: 'ONLINE' }])
    // Shared load balancers do not return created_at/updated_at (GO model_member.go).
    const shared = await lbJson<{ member: object }>(
      emulator,
      `${ELB_PATH}/pools/pool-legacy/members/${memberId('pool-legacy', 'srv-25')}`
    )
    expect(shared.member).not.toHaveProperty('created_at')

    expect(emulator.requests.every((r) => r.signatureValid && r.route.startsWith('elb-'))).toBe(true)
  })

  it('answers unknown resources 404 ELB.8904 in the ELB error shape, and bad signatures 401', async () => {
    const emulator = await startEmulator(elbFleet())
    const response = await lbCall(emulator, `${ELB_PATH}/pools/nope/members`)
    expect(response.status).toBe(404)
    const body = (await response.json()) as Record<string, string>
    expect(body).toEqual({
      error_code: 'ELB.8904',
      error_msg: 'pool nope could not be found.',
      request_id: response.headers.get('x-request-id')
    })
    expect((await lbCall(emulator, `${ELB_PATH}/pools/pool-web/members/nope`)).status).toBe(404)
    expect((await lbCall(emulator, `${ELB_PATH}/healthmonitors/nope`)).status).toBe(404)
    const unsigned = await lbCall(emulator, `${ELB_PATH}/pools`, {
      // Another first digit, so the signature is certainly wrong.
      rewriteAuthorization: (a) => a.replace(/Signature=(\w)/, (_, c: string) => `Signature=${c === '0' ? '1' : '0'}`)
    })
    expect(unsigned.status).toBe(401)
  })

  it('pages with limit and marker: every member once, then an empty page', async () => {
    const emulator = await startEmulator(elbFleet())
    const seen: string[] = []
    let marker: string | undefined
    let pages = 0
    for (;;) {
      const query = `limit=4${marker ? `&marker=${marker}` : ''}`
      const page = await lbJson<{ members: MemberBody[]; page_info: PageInfo }>(
        emulator,
        `${ELB_PATH}/pools/pool-web/members?${query}`
      )
      pages++
      seen.push(...page.members.map((m) => m.instance_id))
      expect(page.page_info.current_count).toBe(page.members.length)
      marker = page.page_info.next_marker
      if (marker === undefined) break
    }
    expect(seen).toEqual(Array.from({ length: 15 }, (_, i) => serverId(i)))
    expect(pages).toBe(4)
    const bad = await lbCall(emulator, `${ELB_PATH}/pools/pool-web/members?marker=${memberId('pool-web', 'srv-03')}`)
    expect(bad.status).toBe(400) // marker needs limit
    expect(await bad.json()).toMatchObject({ error_code: 'ELB.8902' })
    expect((await lbCall(emulator, `${ELB_PATH}/pools/pool-web/members?limit=2&marker=nope`)).status).toBe(400)
    expect((await lbCall(emulator, `${ELB_PATH}/pools/pool-web/members?limit=2001`)).status).toBe(400)
  })

  it('filters pools by member_device_id, member_instance_id and loadbalancer_id, members by instance_id', async () => {
    const emulator = await startEmulator(elbFleet())
    const pools = async (query: string) =>
      (await lbJson<{ pools: { id: string }[] }>(emulator, `${ELB_PATH}/pools?${query}`)).pools.map((p) => p.id)
    expect(await pools('member_device_id=srv-12')).toEqual(['pool-web', 'pool-api'])
    expect(await pools('member_device_id=srv-12&member_device_id=srv-27')).toEqual([
      'pool-web',
      'pool-api',
      'pool-legacy'
    ])
    expect(await pools('member_instance_id=srv-22')).toEqual(['pool-api', 'pool-legacy'])
    expect(await pools('loadbalancer_id=lb-legacy')).toEqual(['pool-legacy'])
    expect(await pools('member_device_id=srv-99')).toEqual([])
    const members = await lbJson<{ members: MemberBody[] }>(
      emulator,
      `${ELB_PATH}/pools/pool-api/members?instance_id=srv-10&instance_id=srv-24`
    )
    expect(members.members.map((m) => m.id)).toEqual([memberId('pool-api', 'srv-10'), memberId('pool-api', 'srv-24')])
  })
})

describe('member weight updates', () => {
  it('sets weight 0 (sent explicitly) one by one and in batches, validating the body', async () => {
    const emulator = await startEmulator(elbFleet({ busyMs: 0 }))
    const id = memberId('pool-web', 'srv-01')
    const put = await setWeight(emulator, 'pool-web', id, 0)
    expect(put.status).toBe(200)
    expect(((await put.json()) as { member: MemberBody }).member).toMatchObject({ id, weight: 0 })
    expect((await setWeight(emulator, 'pool-web', id, 101)).status).toBe(400)
    const empty = await lbCall(emulator, `${ELB_PATH}/pools/pool-web/members/${id}`, {
      method: 'PUT',
      body: '{"member":{}}'
    })
    expect(await empty.json()).toMatchObject({ error_code: 'SYS.0400' })

    const batch = (members: object[]): Promise<Response> =>
      lbCall(emulator, `${ELB_PATH}/pools/pool-web/members/batch-update`, { body: JSON.stringify({ members }) })
    const ids = [memberId('pool-web', 'srv-02'), memberId('pool-web', 'srv-03')]
    const ok = await batch(ids.map((member) => ({ id: member, weight: 0 })))
    expect(ok.status).toBe(200)
    expect(((await ok.json()) as { members: MemberBody[] }).members.map((m) => [m.id, m.weight])).toEqual(
      ids.map((m) => [m, 0])
    )
    expect((await batch(Array.from({ length: 201 }, () => ({ id: ids[0], weight: 1 })))).status).toBe(400)
    // Applied in order: an unknown id stops it with 404, the members before it stay updated.
    const partial = await batch([
      { id: ids[0], weight: 7 },
      { id: 'nope', weight: 7 },
      { id: ids[1], weight: 7 }
    ])
    expect(partial.status).toBe(404)
    expect(
      emulator.loadBalancing
        .members('pool-web')
        .filter((m) => m.weight === 7)
        .map((m) => m.id)
    ).toEqual([ids[0]])
  })

  it('answers 409 ELB.8907 on the whole load balancer while it is PENDING_UPDATE after a change', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(elbFleet({ now: clock.now, busyMs: 2000 }))
    const opts = (): CallOptions => ({ date: clock.date() })
    expect((await setWeight(emulator, 'pool-web', memberId('pool-web', 'srv-01'), 0, opts())).status).toBe(200)
    const conflict = await setWeight(emulator, 'pool-api', memberId('pool-api', 'srv-20'), 0, opts())
    expect(conflict.status).toBe(409)
    expect(await conflict.json()).toMatchObject({ error_code: 'ELB.8907' })
    const lb = await lbJson<{ loadbalancer: { provisioning_status: string } }>(
      emulator,
      `${ELB_PATH}/loadbalancers/lb-main`,
      opts()
    )
    expect(lb.loadbalancer.provisioning_status).toBe('PENDING_UPDATE')
    // Another load balancer is not affected.
    expect((await setWeight(emulator, 'pool-legacy', memberId('pool-legacy', 'srv-20'), 0, opts())).status).toBe(200)
    clock.advance(2000)
    expect((await setWeight(emulator, 'pool-api', memberId('pool-api', 'srv-20'), 0, opts())).status).toBe(200)
    expect(emulator.loadBalancing.members('pool-api').find((m) => m.serverId === 'srv-20')?.weight).toBe(0)
  })

  it('throttles with 429 APIG.0308 and plays injected faults per route', async () => {
    const emulator = await startEmulator({
      ...elbFleet(),
      loadBalancing: { rateLimit: { requests: 2, windowMs: 60_000 } }
    })
    emulator.inject('elb-pools', { kind: 'respond', status: 503, body: { error_code: 'ELB.8906', error_msg: 'x' } })
    expect((await lbCall(emulator, `${ELB_PATH}/pools`)).status).toBe(503)
    expect((await lbCall(emulator, `${ELB_PATH}/pools`)).status).toBe(200)
    expect((await lbCall(emulator, `${ELB_PATH}/pools`)).status).toBe(200)
    const throttled = await lbCall(emulator, `${ELB_PATH}/pools`)
    expect(throttled.status).toBe(429)
    expect(await throttled.json()).toMatchObject({ error_code: 'APIG.0308' })
    // As the gateway is documented, and harsher: no Retry-After to go by.
    expect(throttled.headers.get('retry-after')).toBeNull()
  })
})

describe('member health on the emulator clock', () => {
  const statusOf = async (emulator: { url: string }, poolId: string, server: string, date: Date): Promise<string> =>
    (
      await lbJson<{ member: MemberBody }>(
        emulator,
        `${ELB_PATH}/pools/${poolId}/members/${memberId(poolId, server)}`,
        { date }
      )
    ).member.operating_status

  it('falls after max_retries_down failed probes and rises after max_retries good ones', async () => {
    const clock = manualClock()
    // taskSettleMs 0: the server is ACTIVE with no task the moment its 20 s job ends.
    const emulator = await startEmulator({ ...elbFleet({ now: clock.now, jobDurationMs: 20_000 }), taskSettleMs: 0 })
    await submit(emulator, ['srv-03'], { date: clock.date() })
    // Probes every 5 s: the reboot fails those at 5, 10 and 15 s; the server is back at 20 s.
    clock.advance(14_999)
    expect(await statusOf(emulator, 'pool-web', 'srv-03', clock.date())).toBe('ONLINE')
    clock.advance(1)
    expect(await statusOf(emulator, 'pool-web', 'srv-03', clock.date())).toBe('OFFLINE')
    clock.advance(14_999) // 29.999 s: successes at 20 and 25 s only
    expect(await statusOf(emulator, 'pool-web', 'srv-03', clock.date())).toBe('OFFLINE')
    clock.advance(1)
    expect(await statusOf(emulator, 'pool-web', 'srv-03', clock.date())).toBe('ONLINE')
    expect(await statusOf(emulator, 'pool-web', 'srv-04', clock.date())).toBe('ONLINE')
  })

  it('waits for the boot delay after ACTIVE, and a stopped server goes OFFLINE in every pool', async () => {
    const clock = manualClock()
    const emulator = await startEmulator({
      ...elbFleet({ now: clock.now }),
      loadBalancing: { serverBootDelayMs: { 'srv-12': 30_000 } }
    })
    emulator.setServerStatus('srv-12', 'SHUTOFF')
    clock.advance(15_000)
    expect(await statusOf(emulator, 'pool-web', 'srv-12', clock.date())).toBe('OFFLINE')
    expect(await statusOf(emulator, 'pool-api', 'srv-12', clock.date())).toBe('OFFLINE')
    emulator.setServerStatus('srv-12', 'ACTIVE') // at 15 s, serving from 45 s
    clock.advance(40_000) // 55 s: successes at 45, 50, 55
    expect(await statusOf(emulator, 'pool-web', 'srv-12', clock.date())).toBe('ONLINE')
    const samples = emulator.loadBalancing.samples('pool-web')
    expect(samples.find((s) => s.at === clock.now() - 15_000)).toMatchObject({ healthy: 14 })
  })

  it('weight 0 on a dedicated load balancer shows the real probe result', async () => {
    const clock = manualClock()
    const emulator = await startEmulator({
      ...elbFleet({ now: clock.now, jobDurationMs: 20_000, busyMs: 0 }),
      taskSettleMs: 0
    })
    await setWeight(emulator, 'pool-web', memberId('pool-web', 'srv-05'), 0, { date: clock.date() })
    expect(await statusOf(emulator, 'pool-web', 'srv-05', clock.date())).toBe('ONLINE')
    await submit(emulator, ['srv-05'], { date: clock.date() })
    clock.advance(15_000)
    expect(await statusOf(emulator, 'pool-web', 'srv-05', clock.date())).toBe('OFFLINE')
    clock.advance(15_000)
    expect(await statusOf(emulator, 'pool-web', 'srv-05', clock.date())).toBe('ONLINE')
  })

  it('weight 0 on a shared load balancer shows OFFLINE, and raised it must pass max_retries probes again', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(elbFleet({ now: clock.now, busyMs: 0 }))
    const id = memberId('pool-legacy', 'srv-26')
    await setWeight(emulator, 'pool-legacy', id, 0, { date: clock.date() })
    expect(await statusOf(emulator, 'pool-legacy', 'srv-26', clock.date())).toBe('OFFLINE')
    clock.advance(2_000)
    await setWeight(emulator, 'pool-legacy', id, 1, { date: clock.date() })
    clock.advance(12_999) // probes at 5 and 10 s
    expect(await statusOf(emulator, 'pool-legacy', 'srv-26', clock.date())).toBe('OFFLINE')
    clock.advance(1) // third probe at 15 s
    expect(await statusOf(emulator, 'pool-legacy', 'srv-26', clock.date())).toBe('ONLINE')
  })

  it('reports the status tree per listener, pools DEGRADED while a member is OFFLINE', async () => {
    const clock = manualClock()
    const emulator = await startEmulator(elbFleet({ now: clock.now }))
    emulator.setServerStatus('srv-11', 'SHUTOFF')
    clock.advance(15_000)
    type Tree = { statuses: { loadbalancer: { listeners: { pools: { id: string; operating_status: string }[] }[] } } }
    const tree = await lbJson<Tree>(emulator, `${ELB_PATH}/loadbalancers/lb-main/statuses`, { date: clock.date() })
    const pools = tree.statuses.loadbalancer.listeners.flatMap((l) => l.pools)
    expect(pools.map((p) => [p.id, p.operating_status])).toEqual([
      ['pool-web', 'DEGRADED'],
      ['pool-api', 'DEGRADED']
    ])
  })
})
