import { describe, expect, it } from 'vitest'
import { DEFAULT_FLEET_FILE, loadFleetFile } from '../emulator/fleet-file'
import { runScript, takeSummaries } from '../support/run-script'

// `npm run try -- <case>`: each case runs the bundled action against the in-process emulator's
// default fleet and prints the inputs, the log, the outputs and the summary path.

async function tryCase(name: string): Promise<{ code: number | null; output: string; summaries: string[] }> {
  const { code, output } = await runScript('scripts/try.ts', [name])
  return { code, output, summaries: await takeSummaries(output) }
}

const fleet = await loadFleetFile(DEFAULT_FLEET_FILE)
const id = (name: string): string => fleet.servers.find((s) => s.name === name)?.id as string
const ids = (...names: string[]): string => JSON.stringify(names.map(id))

/** A succeeded run's summary lists no servers: it has the status and every job of the run's `job-ids`. */
function expectSucceededSummary(summary: string, verb: string, output: string): void {
  expect(summary).toMatch(new RegExp(`^<h2>ECS batch ${verb}: ✅ succeeded</h2>`))
  const jobs = JSON.parse(/^job-ids: (.*)$/m.exec(output)?.[1] ?? '[]') as string[]
  expect(jobs.length).toBeGreaterThan(0)
  for (const job of jobs) expect(summary).toContain(job)
}

describe('npm run try', () => {
  it('dry-run: plans the web servers in waves and sends no restart', async () => {
    const { code, output, summaries } = await tryCase('dry-run')
    expect(code, output).toBe(0)
    expect(output).toMatch(/^ {4}dry-run: true$/m)
    expect(output).toContain('Dry run: SOFT restart of 6 servers in 3 batches, 3 waves')
    expect(output).toMatch(/^status: dry-run$/m)
    expect(output).toMatch(/^job-ids: \[\]$/m)
    expect(output).toContain(`skipped-ids: ${ids('web-1', 'web-2', 'web-3', 'web-4', 'web-5', 'web-6')}`)
    expect(summaries).toHaveLength(1)
    expect(summaries[0]).toContain(id('web-6'))
  }, 60_000)

  it('rolling: three waves of the running web servers, the stopped one left out', async () => {
    const { code, output, summaries } = await tryCase('rolling')
    expect(code, output).toBe(0)
    expect(output).toContain('SOFT restart of 5 servers in 3 batches, 3 waves')
    expect(output).toMatch(/Pausing 0\.2 s before wave 2 of 3[\s\S]*Pausing 0\.2 s before wave 3 of 3/)
    expect(output).toContain(`succeeded-ids: ${ids('web-1', 'web-2', 'web-3', 'web-4', 'web-5')}`)
    expect(output).not.toContain(id('web-6'))
    expectSucceededSummary(summaries[0], 'restart', output)
  }, 60_000)

  it('tags: the servers carrying both tags, printed as a workflow step', async () => {
    const { code, output, summaries } = await tryCase('tags')
    expect(code, output).toBe(0)
    expect(output).toMatch(/^ {4}tags: \|\n {6}app=web\n {6}env=prod$/m)
    expect(output).toMatch(/^ {4}secret-access-key: \$\{\{ secrets\.HUAWEI_CLOUD_SK \}\}$/m)
    expect(output).not.toContain('SKEMULATOR')
    expect(output).toContain('Finished with status succeeded: 4 succeeded, 0 failed, 0 pending.')
    expect(output).toContain(
      'Outcome by server name: web-1 succeeded, web-2 succeeded, web-3 succeeded, web-4 succeeded\n'
    )
    expectSucceededSummary(summaries[0], 'restart', output)
  }, 60_000)

  it('failures: the failed servers with their codes; the step fails, which is what the case shows', async () => {
    const { code, output, summaries } = await tryCase('failures')
    expect(code, output).toBe(0)
    expect(output).toContain('Finished with status failed: 7 succeeded, 2 failed, 0 pending.')
    expect(output).toMatch(/^status: failed$/m)
    expect(output).toContain(`failed-ids: ${ids('api-2', 'db-2')}`)
    expect(output).toContain('api-2 failed (Ecs.0605)')
    expect(output).toContain('db-2 failed (Ecs.0227)')
    expect(output).toContain(
      'The action exited with code 1: the step fails, since some servers failed, as this case shows.'
    )
    expect(summaries[0]).toMatch(/❌ failed/)
    expect(summaries[0]).toContain('Ecs.0605')
    expect(summaries[0]).toContain(id('api-2'))
  }, 60_000)

  it('stop-start: stops the running staging servers, then starts all three', async () => {
    const { code, output, summaries } = await tryCase('stop-start')
    expect(code, output).toBe(0)
    const [stop, start] = output.split('=== Step 2 of 2: Start the same servers ===')
    expect(stop).toMatch(/^ {4}operation: stop$/m)
    expect(stop).toContain(`succeeded-ids: ${ids('web-5', 'api-3')}`)
    expect(stop).toContain(`skipped-ids: ${ids('web-6')}`)
    expect(start).toMatch(/^ {4}operation: start$/m)
    expect(start).toContain(`succeeded-ids: ${ids('web-5', 'web-6', 'api-3')}`)
    expect(summaries).toHaveLength(2)
    expectSucceededSummary(summaries[0], 'stop', stop)
    expectSucceededSummary(summaries[1], 'start', start)
  }, 60_000)

  it('oidc: signs in with the GitHub ID token, no keys, and restarts by ID', async () => {
    const { code, output, summaries } = await tryCase('oidc')
    expect(code, output).toBe(0)
    expect(output).toMatch(/^ {4}idp-id: idp-github$/m)
    expect(output).not.toMatch(/access-key-id/)
    expect(output).toContain('Signed in through identity provider idp-github')
    // The ID token buys temporary access keys, with which every ECS request is signed.
    expect(output).toMatch(/temporary access keys valid until /)
    expect(output).toMatch(/The emulator verified \d+ of \d+ request signatures\./)
    expect(output).toContain(`succeeded-ids: ${ids('web-1', 'web-2')}`)
    expectSucceededSummary(summaries[0], 'restart', output)
  }, 60_000)

  it('elb: the health-gated restart drops no request where rolling: true on the same fleet drops some', async () => {
    const { code, output, summaries } = await tryCase('elb')
    expect(code, output).toBe(0)
    const [gated, rolling] = output.split(
      '=== Step 2 of 2: The same fleet with plain rolling: true (no health gate) ==='
    )
    expect(gated).toMatch(/^ {4}health-gate: elb$/m)
    expect(gated).toMatch(/^ {4}elb-endpoint: \S+ # the emulator; leave out against the cloud$/m)
    expect(gated).toMatch(/^Requests dropped during this step: 0 of [1-9]\d* sent into the pools$/m)
    // 20% of each pool of 10 is 2 servers per wave: 5 waves of 6 servers from the 3 pools.
    const waves = [
      ...gated.matchAll(
        /^ {2}Wave (\d+) \((\d+) servers\): drain ([\d.]+) s, restart ([\d.]+) s, until healthy ([\d.]+) s, restore ([\d.]+) s$/gm
      )
    ]
    expect(waves.map((w) => [Number(w[1]), Number(w[2])])).toEqual([1, 2, 3, 4, 5].map((wave) => [wave, 6]))
    // drain-seconds is 0.5: no wave drains for less.
    for (const w of waves) expect(Number(w[3])).toBeGreaterThanOrEqual(0.5)
    expect(rolling).toMatch(/^ {4}rolling: true$/m)
    expect(rolling).not.toMatch(/^ {4}health-gate:/m)
    const rollingDrops = Number(/^Requests dropped during this step: (\d+) of/m.exec(rolling)?.[1])
    expect(rollingDrops).toBeGreaterThan(0)
    expect(output).toContain(`Dropped requests on the same fleet: health-gated 0, rolling: true ${rollingDrops}.`)
    expect(summaries).toHaveLength(2)
    expectSucceededSummary(summaries[0], 'restart', gated)
  }, 120_000)

  it('list prints one line per case; an unknown case prints them and exits 2', async () => {
    const list = await tryCase('list')
    expect(list.code).toBe(0)
    const cases = ['dry-run', 'rolling', 'tags', 'failures', 'stop-start', 'oidc', 'elb', 'list']
    for (const name of cases) expect(list.output).toMatch(new RegExp(`^ {2}${name} +\\S.*$`, 'm'))
    const unknown = await tryCase('nope')
    expect(unknown.code).toBe(2)
    expect(unknown.output).toContain('Unknown case "nope".')
    expect(unknown.output).toMatch(/^ {2}stop-start +/m)
  }, 60_000)
})
