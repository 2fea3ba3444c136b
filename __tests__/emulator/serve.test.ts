/** serve.ts, the stand-alone emulator (`npm run emulator`). */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { DEFAULT_PROJECT_ID, DEFAULT_REGION } from '.'
import { call, DEFAULT_AK, DEFAULT_KEY, jobPath, rebootBody, type JobBody } from '../support/emulator-calls'

describe('serve.ts', () => {
  it('prints its connection line, serves signed requests and exits 0 on SIGTERM', async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url))
    const script = fileURLToPath(new URL('./serve.ts', import.meta.url))
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', script, '--job-duration-ms', '0', '--fail', 'srv-bad=Ecs.0227', '--verbose'],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }
    )
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let stdout = ''
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          stdout += chunk
          const newline = stdout.indexOf('\n')
          if (newline >= 0) resolve(stdout.slice(0, newline))
        })
        child.once('exit', (code) => reject(new Error(`serve.ts exited early (${code}): ${stderr}`)))
      })
      const info = JSON.parse(line) as Record<string, string>
      expect(info).toEqual({
        url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
        accessKeyId: DEFAULT_AK,
        secretAccessKey: DEFAULT_KEY.secretAccessKey,
        projectId: DEFAULT_PROJECT_ID,
        region: DEFAULT_REGION
      })

      const remote = { url: info.url }
      const key = { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey }
      const submitted = await call(remote, `/v1/${info.projectId}/cloudservers/action`, {
        body: rebootBody(['srv-ok', 'srv-bad']),
        key
      })
      expect(submitted.status).toBe(200)
      const { job_id } = (await submitted.json()) as { job_id: string }
      const job = await call(remote, jobPath(job_id, info.projectId), { key })
      expect(job.status).toBe(200)
      const body = (await job.json()) as JobBody
      expect(body.status).toBe('FAIL')
      expect(body.entities.sub_jobs.map((s) => [s.entities.server_id, s.status, s.error_code])).toEqual([
        ['srv-ok', 'SUCCESS', null],
        ['srv-bad', 'FAIL', 'Ecs.0227']
      ])
      const unsigned = await fetch(new URL(jobPath(job_id, info.projectId), info.url))
      expect(unsigned.status).toBe(401)
    } finally {
      child.kill('SIGTERM')
    }
    const [code, signal] = await exited
    // Windows has no catchable signals: kill() ends the process there, so only POSIX can show a clean exit.
    const expected = process.platform === 'win32' ? { code: null, signal: 'SIGTERM' } : { code: 0, signal: null }
    expect({ code, signal }).toEqual(expected)
    expect(stderr).toMatch(/POST \/v1\/0123456789abcdef0123456789abcdef\/cloudservers\/action -> 200/)
    expect(stderr).toMatch(/GET \/v1\/\S+\/jobs\/[0-9a-f]{32} -> 401 \(signature invalid\)/)
  }, 30_000)

  it('rejects bad flags with exit code 2', async () => {
    const script = fileURLToPath(new URL('./serve.ts', import.meta.url))
    const child = spawn(process.execPath, ['--import', 'tsx', script, '--unknown-servers', 'maybe'], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const [code] = (await once(child, 'exit')) as [number | null]
    expect(code).toBe(2)
    expect(stderr).toMatch(/--unknown-servers must be reject or sub-job/)
  }, 30_000)
})
