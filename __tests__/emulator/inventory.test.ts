/** The inventory: listing, server details and states that follow actions. */
import { describe, expect, it } from 'vitest'
import { DEFAULT_PROJECT_ID } from '.'
import { actionBody, call, manualClock, queryJob, submit, useEmulators } from '../support/emulator-calls'

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

  it('shows a server, follows its state through a reboot, and fails servers in the wrong state', async () => {
    const clock = manualClock()
    const emulator = await startEmulator({ inventory, now: clock.now, jobDurationMs: 1000 })
    const status = async (id: string): Promise<string> => {
      const response = await call(emulator, `/v1/${DEFAULT_PROJECT_ID}/cloudservers/${id}`, {
        date: new Date(clock.now())
      })
      return ((await response.json()) as { server: { status: string } }).server.status
    }
    const jobId = await submit(emulator, ['srv-1', 'srv-4'], { date: new Date(clock.now()) })
    expect(await status('srv-1')).toBe('REBOOT')
    clock.advance(1000)
    expect(await status('srv-1')).toBe('ACTIVE')
    const job = await queryJob(emulator, jobId, { date: new Date(clock.now()) })
    expect(job.entities.sub_jobs.map((s) => [s.entities.server_id, s.status, s.error_code])).toEqual([
      ['srv-1', 'SUCCESS', null],
      ['srv-4', 'FAIL', 'Ecs.0100']
    ])
    expect(
      (await call(emulator, `/v1/${DEFAULT_PROJECT_ID}/cloudservers/nope`, { date: new Date(clock.now()) })).status
    ).toBe(404)
  })

  it('stops and starts servers, and lets a test change a state at any time', async () => {
    const emulator = await startEmulator({ inventory, jobDurationMs: 0 })
    const status = async (id: string): Promise<string> =>
      (
        (await (await call(emulator, `/v1/${DEFAULT_PROJECT_ID}/cloudservers/${id}`)).json()) as {
          server: { status: string }
        }
      ).server.status
    await submit(emulator, ['srv-0'], { body: actionBody('os-stop', ['srv-0']) })
    expect(await status('srv-0')).toBe('SHUTOFF')
    await submit(emulator, ['srv-4'], { body: actionBody('os-start', ['srv-4']) })
    expect(await status('srv-4')).toBe('ACTIVE')
    emulator.setServerStatus('srv-2', 'ERROR')
    expect(await status('srv-2')).toBe('ERROR')
    expect(() => emulator.setServerStatus('nope', 'ACTIVE')).toThrow(/not in the inventory/)
  })
})
