/**
 * Contender 3: the per-server Nova way, as `openstack server reboot` scripts do it. Every server
 * gets its own `POST /v2.1/{project_id}/servers/{id}/action` `{"reboot":{"type":…}}`, at most
 * CONCURRENCY at a time; then every server's status is read (`GET /v2.1/{project_id}/servers/{id}`)
 * in passes POLL_MS apart until it is ACTIVE (or ERROR). A 429 waits for Retry-After and sends that
 * server's request again; any other failure is counted and that server given up. Requests are signed
 * with the action's own signer (SDK-HMAC-SHA256 over host, content-type, x-project-id, x-sdk-date).
 *
 * A separate process, bundled by bench/run.ts, configured by environment variables:
 * NOVA_ENDPOINT, PROJECT_ID, AK, SK, IDS_FILE, TYPE (SOFT), CONCURRENCY (10), POLL_MS (1000),
 * TIMEOUT_MS (600000), RESULT_FILE. COLD_START=1 exits at once (the cold-start measurement).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { Agent, request as httpRequest } from 'node:http'
import { formatSdkDate, sign } from '../src/cloud/signer'

export interface NovaSummary {
  ok: boolean
  n: number
  posts: number
  gets: number
  throttled: number
  errors: number
  active: number
  failed: number
  firstError: string | null
  totalMs: number
}

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

function env(name: string, fallback?: string): string {
  const value = process.env[name] ?? fallback
  if (value === undefined) throw new Error(`${name} is not set`)
  return value
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++])
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

async function main(): Promise<void> {
  const started = Date.now()
  const endpoint = new URL(env('NOVA_ENDPOINT'))
  const projectId = env('PROJECT_ID')
  const key = { accessKeyId: env('AK'), secretAccessKey: env('SK') }
  const resultFile = process.env.RESULT_FILE
  const finish = (summary: Omit<NovaSummary, 'totalMs'>): void => {
    const line = JSON.stringify({ ...summary, totalMs: Date.now() - started })
    if (resultFile) writeFileSync(resultFile, line)
    process.stdout.write(`${line}\n`)
  }
  const summary: Omit<NovaSummary, 'totalMs'> = {
    ok: false,
    n: 0,
    posts: 0,
    gets: 0,
    throttled: 0,
    errors: 0,
    active: 0,
    failed: 0,
    firstError: null
  }
  if (process.env.COLD_START === '1') {
    finish({ ...summary, ok: true })
    return
  }
  const ids = readFileSync(env('IDS_FILE'), 'utf8').split('\n').filter(Boolean)
  summary.n = ids.length
  const type = env('TYPE', 'SOFT')
  const concurrency = Number(env('CONCURRENCY', '10'))
  const pollMs = Number(env('POLL_MS', '1000'))
  const deadline = started + Number(env('TIMEOUT_MS', '600000'))
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })

  const send = (method: 'GET' | 'POST', path: string, body: string): Promise<Answer> => {
    const url = new URL(path, endpoint)
    const headers: Record<string, string> = {
      Host: url.host,
      'X-Project-Id': projectId,
      'X-Sdk-Date': formatSdkDate(new Date())
    }
    if (body !== '') headers['Content-Type'] = 'application/json'
    const { authorization } = sign({ method, url, signedHeaders: headers, body }, key)
    return new Promise((resolve, reject) => {
      const req = httpRequest(url, { method, agent, headers: { ...headers, Authorization: authorization } }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') })
        )
        res.on('error', reject)
      })
      req.on('error', reject)
      req.setTimeout(30_000, () => req.destroy(new Error('request timed out after 30 s')))
      req.end(body)
    })
  }

  const fail = (what: string, detail: string): void => {
    summary.errors++
    summary.firstError ??= `${what}: ${detail.slice(0, 200)}`
  }

  /** One request, sent again after Retry-After while the cloud throttles it (until the deadline). */
  const call = async (method: 'GET' | 'POST', path: string, body: string): Promise<Answer | undefined> => {
    for (;;) {
      if (method === 'POST') summary.posts++
      else summary.gets++
      let answer: Answer
      try {
        answer = await send(method, path, body)
      } catch (error) {
        fail(`${method} ${path}`, error instanceof Error ? error.message : String(error))
        return undefined
      }
      if (answer.status !== 429) return answer
      summary.throttled++
      const header = answer.headers['retry-after']
      const seconds = Number(Array.isArray(header) ? header[0] : header)
      const waitMs = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 1000
      if (Date.now() + waitMs > deadline) {
        fail(`${method} ${path}`, 'still throttled at the deadline')
        return undefined
      }
      await sleep(waitMs)
    }
  }

  const rebootBody = JSON.stringify({ reboot: { type } })
  const accepted: string[] = []
  await forEachLimited(ids, concurrency, async (id) => {
    const answer = await call('POST', `/v2.1/${projectId}/servers/${encodeURIComponent(id)}/action`, rebootBody)
    if (answer === undefined) return
    if (answer.status >= 200 && answer.status < 300) accepted.push(id)
    else fail(`reboot ${id}`, `HTTP ${answer.status} ${answer.body}`)
  })

  let waiting = accepted
  while (waiting.length > 0 && Date.now() < deadline) {
    await sleep(pollMs)
    const still: string[] = []
    await forEachLimited(waiting, concurrency, async (id) => {
      const answer = await call('GET', `/v2.1/${projectId}/servers/${encodeURIComponent(id)}`, '')
      if (answer === undefined) return
      if (answer.status !== 200) {
        fail(`show ${id}`, `HTTP ${answer.status} ${answer.body}`)
        return
      }
      const status = (JSON.parse(answer.body) as { server?: { status?: string } }).server?.status
      if (status === 'ACTIVE') summary.active++
      else if (status === 'ERROR') summary.failed++
      else still.push(id)
    })
    waiting = still
  }
  if (waiting.length > 0) fail('wait', `${waiting.length} servers had not come back by the deadline`)
  agent.destroy()
  summary.ok = summary.errors === 0 && summary.failed === 0 && summary.active === ids.length
  finish(summary)
  process.exitCode = summary.ok ? 0 : 1
}

main().catch((error: unknown) => {
  process.stderr.write(`nova-client: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exitCode = 2
})
