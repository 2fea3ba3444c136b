/** serve.ts, the stand-alone emulator (`npm run emulator`). */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { DEFAULT_PROJECT_ID, DEFAULT_REGION } from '.'
import { call, DEFAULT_AK, DEFAULT_KEY, jobPath, rebootBody, type JobBody } from '../support/emulator-calls'

const root = fileURLToPath(new URL('../..', import.meta.url))
const script = fileURLToPath(new URL('./serve.ts', import.meta.url))

interface Served {
  child: ChildProcess
  exited: Promise<[number | null, NodeJS.Signals | null]>
  stderr: () => string
}

function withoutFleetVariable(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  delete env.ECS_EMULATOR_FLEET
  return env
}

function serve(args: string[], env: Record<string, string> = {}): Served {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: root,
    // The fleet comes from the flags, unless a test sets ECS_EMULATOR_FLEET itself.
    env: { ...withoutFleetVariable(), ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  return { child, exited, stderr: () => stderr }
}

/** The connection line serve.ts prints once it listens. */
function connectionLine({ child, stderr }: Served): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    let stdout = ''
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
      const newline = stdout.indexOf('\n')
      if (newline >= 0) resolve(JSON.parse(stdout.slice(0, newline)) as Record<string, string>)
    })
    child.once('exit', (code) => reject(new Error(`serve.ts exited early (${code}): ${stderr()}`)))
  })
}

const key = (info: Record<string, string>) => ({ accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey })

async function listNames(info: Record<string, string>): Promise<{ name: string; status: string; tags: string[] }[]> {
  const listed = await call({ url: info.url }, `/v1/${info.projectId}/cloudservers/detail?limit=100&offset=1`, {
    key: key(info)
  })
  expect(listed.status).toBe(200)
  return ((await listed.json()) as { servers: { name: string; status: string; tags: string[] }[] }).servers
}

describe('serve.ts', () => {
  it('prints its connection line, serves signed requests and exits 0 on SIGTERM', async () => {
    const served = serve(['--fleet', 'none', '--job-duration-ms', '0', '--fail', 'srv-bad=Ecs.0227', '--verbose'])
    try {
      const info = await connectionLine(served)
      expect(info).toEqual({
        url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
        accessKeyId: DEFAULT_AK,
        secretAccessKey: DEFAULT_KEY.secretAccessKey,
        projectId: DEFAULT_PROJECT_ID,
        region: DEFAULT_REGION
      })

      const remote = { url: info.url }
      const submitted = await call(remote, `/v1/${info.projectId}/cloudservers/action`, {
        body: rebootBody(['srv-ok', 'srv-bad']),
        key: key(info)
      })
      expect(submitted.status).toBe(200)
      const { job_id } = (await submitted.json()) as { job_id: string }
      const job = await call(remote, jobPath(job_id, info.projectId), { key: key(info) })
      expect(job.status).toBe(200)
      const body = (await job.json()) as JobBody
      expect(body.status).toBe('FAIL')
      expect(body.entities.sub_jobs.map((s) => [s.entities.server_id, s.status, s.error_code])).toEqual([
        ['srv-ok', 'SUCCESS', null],
        ['srv-bad', 'FAIL', 'Ecs.0227']
      ])
      const unsigned = await fetch(new URL(jobPath(job_id, info.projectId), info.url))
      expect(unsigned.status).toBe(401)
      expect(await listNames(info)).toEqual([])
    } finally {
      served.child.kill('SIGTERM')
    }
    const [code, signal] = await served.exited
    // Windows has no catchable signals: kill() ends the process there, so only POSIX can show a clean exit.
    const expected = process.platform === 'win32' ? { code: null, signal: 'SIGTERM' } : { code: 0, signal: null }
    expect({ code, signal }).toEqual(expected)
    expect(served.stderr()).toMatch(/POST \/v1\/0123456789abcdef0123456789abcdef\/cloudservers\/action -> 200/)
    expect(served.stderr()).toMatch(/GET \/v1\/\S+\/jobs\/[0-9a-f]{32} -> 401 \(signature invalid\)/)
  }, 30_000)

  it('serves the example fleet by default, prints it, and fails its failing servers', async () => {
    const served = serve(['--job-duration-ms', '0'])
    try {
      const info = await connectionLine(served)
      const servers = await listNames(info)
      expect(servers).toHaveLength(12)
      expect(servers.find((s) => s.name === 'web-6')?.status).toBe('SHUTOFF')
      expect(servers.find((s) => s.name === 'web-1')?.tags).toEqual(['app=web', 'env=prod', 'tier=frontend', 'canary'])
      expect(served.stderr()).toMatch(/^serve: 12 servers from \S+fleet\.json:$/m)
      const api2 = /^ {2}api-2 +([0-9a-f-]{36}) +ACTIVE .*\(restart fails: Ecs\.0605\)$/m.exec(served.stderr())?.[1]
      expect(api2, served.stderr()).toBeDefined()
      const submitted = await call({ url: info.url }, `/v1/${info.projectId}/cloudservers/action`, {
        body: rebootBody([api2 as string, '00000000-0000-4000-8000-000000000001']),
        key: key(info)
      })
      const { job_id } = (await submitted.json()) as { job_id: string }
      const job = (await (
        await call({ url: info.url }, jobPath(job_id, info.projectId), { key: key(info) })
      ).json()) as JobBody
      // The fleet's failure, and an id outside the fleet, which does not exist.
      expect(job.entities.sub_jobs.map((s) => s.error_code)).toEqual(['Ecs.0605', 'Ecs.0114'])
    } finally {
      served.child.kill('SIGTERM')
      await served.exited
    }
  }, 30_000)

  it('loads a fleet file named by ECS_EMULATOR_FLEET', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'serve-fleet-'))
    const file = join(folder, 'fleet.json')
    await writeFile(file, JSON.stringify({ servers: [{ id: '616fb98f-46ca-475e-917e-2563e5a8cd19', name: 'solo' }] }))
    const served = serve([], { ECS_EMULATOR_FLEET: file })
    try {
      const info = await connectionLine(served)
      expect((await listNames(info)).map((s) => s.name)).toEqual(['solo'])
    } finally {
      served.child.kill('SIGTERM')
      await served.exited
      await rm(folder, { recursive: true, force: true })
    }
  }, 30_000)

  it.each([
    [['--unknown-servers', 'maybe'], /--unknown-servers must be reject or sub-job/],
    [['--fleet', 'no-such-fleet.json'], /serve: no-such-fleet\.json: cannot be read \(ENOENT\)/],
    [['--fleet', 'package.json'], /serve: package\.json: must be an object with a "servers" list/],
    [['--fleet', 'examples/fleet.json', '--server', 'a'], /--server .* cannot be combined with a fleet file/],
    [['--no-such-flag'], /serve: Unknown option '--no-such-flag'/]
  ])(
    'rejects %j with exit code 2',
    async (args, message) => {
      const served = serve(args)
      const [code] = await served.exited
      expect(code).toBe(2)
      expect(served.stderr()).toMatch(message)
    },
    30_000
  )
})
