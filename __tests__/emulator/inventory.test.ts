/** The inventory: listing, server details and states that follow actions. */
import { describe, expect, it } from 'vitest'
import { DEFAULT_PROJECT_ID } from '.'
import {
  SUBMIT_PATH,
  actionBody,
  call,
  manualClock,
  queryJob,
  rebootBody,
  submit,
  useEmulators
} from '../support/emulator-calls'

const startEmulator = useEmulators()

describe('inventory: listing, server details and states', () => {
  const inventory = Array.from({ length: 5 }, (_, i) => ({
    id: `srv-${i}`,
    name: `web-${i}`,
    tags: [`app=${i < 3 ? 'web' : 'db'}`, ...(i === 1 ? ['canary'] : []), ...(i === 2 ? ['canary='] : [])],
    status: i === 4 ? 'SHUTOFF' : undefined,
    enterpriseProjectId: i === 0 ? 'ep-1' : undefined
  }))

  it('lists pages by page number, with the count, and filters by enterprise project', async () => {
    const emulator = await startEmulator({ inventory })
    const page = async (query: string) =>
      (await (await call(emulator, `/v1/${DEFAULT_PROJECT_ID}/cloudservers/detail?${query}`)).json()) as {
        count: number
        servers: { id: string; name: string; status: string; tags: string[] }[]
      }
    const first = await page('offset=1&limit=2')
    expect(first.count).toBe(5)
    expect(first.servers.map((s) => s.id)).toEqual(['srv-0', 'srv-1'])
    expect(first.servers[0]).toMatchObject({ name: 'web-0', status: 'ACTIVE', tags: ['app=web'] })
    // Bare tags are listed bare, and an empty value is listed as the bare key, as the API does.
    expect(first.servers[1].tags).toEqual(['app=web', 'canary'])
    expect((await page('offset=2&limit=2')).servers[0].tags).toEqual(['app=web', 'canary'])
    expect((await page('offset=3&limit=2')).servers.map((s) => s.id)).toEqual(['srv-4'])
    expect((await page('offset=4&limit=2')).servers).toEqual([])
    expect((await page('offset=1&limit=10&enterprise_project_id=ep-1')).servers.map((s) => s.id)).toEqual(['srv-0'])
    expect((await page('offset=1&limit=10&enterprise_project_id=all_granted_eps')).count).toBe(5)
    expect((await call(emulator, `/v1/${DEFAULT_PROJECT_ID}/cloudservers/detail?limit=1001`)).status).toBe(400)
    expect(emulator.requests.every((r) => r.route === 'list' && r.signatureValid)).toBe(true)
  })

  type Page = { count: number; servers: { id: string }[] }
  const listPage = async (emulator: { url: string }, query: string): Promise<Page> =>
    (await (await call(emulator, `/v1/${DEFAULT_PROJECT_ID}/cloudservers/detail?${query}`)).json()) as Page

  it('pages by marker, the ID of the last server of a page; an unknown marker is refused', async () => {
    const emulator = await startEmulator({ inventory })
    const first = await listPage(emulator, 'limit=2')
    expect(first.servers.map((s) => s.id)).toEqual(['srv-0', 'srv-1'])
    expect((await listPage(emulator, 'limit=2&marker=srv-1')).servers.map((s) => s.id)).toEqual(['srv-2', 'srv-3'])
    expect((await listPage(emulator, 'limit=2&marker=srv-3')).servers.map((s) => s.id)).toEqual(['srv-4'])
    expect((await listPage(emulator, 'limit=2&marker=srv-4')).servers).toEqual([])
    expect((await listPage(emulator, 'limit=9&marker=srv-0&enterprise_project_id=ep-1')).servers).toEqual([])
    const unknown = await call(emulator, `/v1/${DEFAULT_PROJECT_ID}/cloudservers/detail?limit=2&marker=nope`)
    expect(unknown.status).toBe(400)
    expect(await unknown.json()).toMatchObject({ error: { code: 'Ecs.0005' } })
  })

  describe('an inventory that changes while it is listed', () => {
    const many = Array.from({ length: 10 }, (_, i) => ({ id: `srv-${i}`, name: `web-${i}` }))
    const survivors = (deletedFirst: number) => many.slice(deletedFirst).map((s) => s.id)

    /** Lists 3 per page until a short page, by page number or by marker; the IDs seen. */
    async function listAll(emulator: { url: string }, by: 'offset' | 'marker'): Promise<string[]> {
      const seen: string[] = []
      for (let page = 1; page < 50; page++) {
        const marker = seen.length === 0 ? '' : `&marker=${seen[seen.length - 1]}`
        const { servers } = await listPage(emulator, by === 'offset' ? `limit=3&offset=${page}` : `limit=3${marker}`)
        seen.push(...servers.map((s) => s.id))
        if (servers.length < 3) return seen
      }
      throw new Error('the listing did not end')
    }

    it('page numbers skip a server that existed throughout when one listed earlier is deleted', async () => {
      const emulator = await startEmulator({ inventory: many, churnWhileListing: { delete: 1 } })
      const seen = await listAll(emulator, 'offset')
      // Three pages, each followed by the deletion of the server listed first (srv-0, srv-1, srv-2):
      // every deletion moves the later servers up a place, past the next page's start.
      expect(seen).toEqual(['srv-0', 'srv-1', 'srv-2', 'srv-4', 'srv-5', 'srv-6', 'srv-8', 'srv-9'])
      expect(survivors(3).filter((id) => !seen.includes(id))).toEqual(['srv-3', 'srv-7'])
    })

    it('marker paging lists every server that existed throughout, deletions and creations alike', async () => {
      for (const churn of [{ delete: 1 }, { delete: 2, create: 1 }, { create: 3 }, { delete: 1, create: 2 }]) {
        const emulator = await startEmulator({ inventory: many, churnWhileListing: churn })
        const seen = await listAll(emulator, 'marker')
        const unseen = many.filter((s) => !seen.includes(s.id)).map((s) => s.id)
        // Every original server is seen: a deletion removes only servers already listed.
        expect(unseen).toEqual([])
        expect(new Set(seen).size).toBe(seen.length)
      }
    })
  })

  const STATE_FIELDS = ['status', 'OS-EXT-STS:vm_state', 'OS-EXT-STS:task_state', 'OS-EXT-STS:power_state'] as const

  it('shows a server, follows its state and task through a reboot, and fails servers in the wrong state', async () => {
    const clock = manualClock()
    const emulator = await startEmulator({ inventory, now: clock.now, jobDurationMs: 1000, taskSettleMs: 300 })
    const state = async (id: string): Promise<unknown[]> => {
      const response = await call(emulator, `/v1/${DEFAULT_PROJECT_ID}/cloudservers/${id}`, {
        date: new Date(clock.now())
      })
      const { server } = (await response.json()) as { server: Record<string, unknown> }
      expect(server.locked).toBe(false)
      return STATE_FIELDS.map((field) => server[field])
    }
    expect(await state('srv-4')).toEqual(['SHUTOFF', 'stopped', null, 4])
    const jobId = await submit(emulator, ['srv-1', 'srv-4'], { date: new Date(clock.now()) })
    expect(await state('srv-1')).toEqual(['REBOOT', 'active', 'reboot_started', 1])
    clock.advance(1000)
    // The job has finished, the server's task not yet.
    const job = await queryJob(emulator, jobId, { date: new Date(clock.now()) })
    expect(job.status).toBe('FAIL')
    expect(await state('srv-1')).toEqual(['REBOOT', 'active', 'reboot_started', 1])
    const again = await call(emulator, SUBMIT_PATH, { body: rebootBody(['srv-1']), date: new Date(clock.now()) })
    expect(again.status).toBe(200)
    clock.advance(300)
    expect(await state('srv-1')).toEqual(['ACTIVE', 'active', null, 1])
    expect(job.entities.sub_jobs.map((s) => [s.entities.server_id, s.status, s.error_code])).toEqual([
      ['srv-1', 'SUCCESS', null],
      ['srv-4', 'FAIL', 'Ecs.0100']
    ])
    // The second reboot came while the first's task was still running: its sub-job failed.
    clock.advance(1000)
    const second = await queryJob(emulator, ((await again.json()) as { job_id: string }).job_id, {
      date: new Date(clock.now())
    })
    expect(second.entities.sub_jobs.map((s) => [s.status, s.error_code])).toEqual([['FAIL', 'Ecs.0100']])
    expect(
      (await call(emulator, `/v1/${DEFAULT_PROJECT_ID}/cloudservers/nope`, { date: new Date(clock.now()) })).status
    ).toBe(404)
  })

  it('keeps ACTIVE with task powering-off a moment after a stop job succeeded (and SHUTOFF, powering-on, after a start)', async () => {
    const clock = manualClock()
    const emulator = await startEmulator({ inventory, now: clock.now, jobDurationMs: 0 })
    const date = () => new Date(clock.now())
    const state = async (id: string): Promise<unknown[]> => {
      const listed = (await (
        await call(emulator, `/v1/${DEFAULT_PROJECT_ID}/cloudservers/detail?offset=1&limit=10`, { date: date() })
      ).json()) as { servers: Record<string, unknown>[] }
      const server = listed.servers.find((s) => s.id === id) as Record<string, unknown>
      return STATE_FIELDS.map((field) => server[field])
    }
    const stopJob = await submit(emulator, ['srv-0'], { body: actionBody('os-stop', ['srv-0']), date: date() })
    expect((await queryJob(emulator, stopJob, { date: date() })).status).toBe('SUCCESS')
    expect(await state('srv-0')).toEqual(['ACTIVE', 'active', 'powering-off', 1])
    await submit(emulator, ['srv-4'], { body: actionBody('os-start', ['srv-4']), date: date() })
    expect(await state('srv-4')).toEqual(['SHUTOFF', 'stopped', 'powering-on', 4])
    clock.advance(99)
    expect(await state('srv-0')).toEqual(['ACTIVE', 'active', 'powering-off', 1])
    clock.advance(1) // the default taskSettleMs, 100
    expect(await state('srv-0')).toEqual(['SHUTOFF', 'stopped', null, 4])
    expect(await state('srv-4')).toEqual(['ACTIVE', 'active', null, 1])
    emulator.setServerStatus('srv-2', 'ERROR')
    expect(await state('srv-2')).toEqual(['ERROR', 'error', null, 0])
    expect(() => emulator.setServerStatus('nope', 'ACTIVE')).toThrow(/not in the inventory/)
  })

  it.each([
    ['taskSettleMs', -1],
    ['jobHiddenMs', Number.NaN]
  ])('start() refuses %s %s', async (name, value) => {
    await expect(startEmulator({ [name]: value })).rejects.toThrow(new RegExp(`${name} must be a finite number >= 0`))
  })

  it('answers a job query 400 Common.0011 for jobHiddenMs after the submission, then shows the job', async () => {
    const clock = manualClock()
    const emulator = await startEmulator({ now: clock.now, jobHiddenMs: 5000 })
    const jobId = await submit(emulator, ['srv-x'], { date: clock.date() })
    const path = `/v1/${DEFAULT_PROJECT_ID}/jobs/${jobId}`
    clock.advance(4999)
    const hidden = await call(emulator, path, { date: clock.date() })
    expect(hidden.status).toBe(400)
    expect(await hidden.json()).toMatchObject({ error: { code: 'Common.0011' } })
    clock.advance(1)
    expect((await call(emulator, path, { date: clock.date() })).status).toBe(200)
  })
})
