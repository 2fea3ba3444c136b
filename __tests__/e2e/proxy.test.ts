import { createServer, type IncomingMessage } from 'node:http'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createProxy, type ProxyServer } from 'proxy'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_REGION, type EcsEmulator } from '../emulator'
import { EMULATOR_KEY, serverIds, useEmulator } from '../support/fixtures'
import { outcomes, runAction, type ActionRun } from '../support/run-action'
import { createTestCertificates } from '../support/tls'

// A self-hosted runner behind a corporate proxy whose TLS is signed by a private CA: the bundled
// action against the emulator served over HTTPS with a generated CA, through a real loopback
// forward proxy (HTTPS_PROXY), trusting the CA through NODE_EXTRA_CA_CERTS, as a runner would.
//
// The endpoint is a name, not 127.0.0.1: @actions/http-client never proxies loopback addresses.
// The runner cannot resolve that name (it is under .test); the proxy resolves it to the emulator,
// as a corporate proxy resolves the cloud's names for runners that have no outside DNS. So a run
// that succeeds can only have reached the emulator through the proxy.

const HOST = 'ecs.emulator.test'
const SERVERS = serverIds(3)
const emulators = useEmulator()

/** Loaded with NODE_OPTIONS=--require: resolves the names in TEST_HOSTS to 127.0.0.1, as /etc/hosts would. */
const HOSTS_PRELOAD = `
const dns = require('node:dns')
const names = new Set((process.env.TEST_HOSTS || '').split(','))
const lookup = dns.lookup
dns.lookup = function (hostname, options, callback) {
  if (!names.has(hostname)) return lookup.apply(this, arguments)
  const done = typeof options === 'function' ? options : callback
  const all = typeof options === 'object' && options !== null && options.all
  process.nextTick(() => (all ? done(null, [{ address: '127.0.0.1', family: 4 }]) : done(null, '127.0.0.1', 4)))
}
`

let folder: string
let caFile: string
let hostsPreload: string
let tls: { key: string; cert: string }
let proxy: ProxyServer
let proxyUrl: string
/** The target of every CONNECT the proxy received (`host:port`). */
const connects: string[] = []

async function certificates(): Promise<void> {
  const generated = await createTestCertificates([HOST, 'localhost'])
  tls = { key: generated.key, cert: generated.cert }
  caFile = join(folder, 'corporate-ca.pem')
  await writeFile(caFile, generated.caCert)
}

async function startProxy(): Promise<void> {
  const server = createServer()
  // Registered before the proxy's own handler, so it sees each CONNECT first: it counts it, and
  // resolves HOST (which only the proxy knows) to the emulator on this machine.
  server.on('connect', (req: IncomingMessage) => {
    const target = req.url ?? ''
    connects.push(target)
    if (target.startsWith(`${HOST}:`)) req.url = `127.0.0.1:${target.slice(HOST.length + 1)}`
  })
  proxy = createProxy(server)
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
}

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'proxy-test-'))
  await certificates()
  hostsPreload = join(folder, 'hosts.cjs')
  await writeFile(hostsPreload, HOSTS_PRELOAD)
  await startProxy()
})

afterAll(async () => {
  await new Promise((resolve) => proxy.close(resolve))
  await rm(folder, { recursive: true, force: true })
})

async function start(): Promise<{ emulator: EcsEmulator; endpoint: string }> {
  const emulator = await emulators.start({ jobDurationMs: 30, tls })
  connects.length = 0
  return { emulator, endpoint: `https://${HOST}:${new URL(emulator.url).port}` }
}

function run(endpoint: string, env: Record<string, string>): Promise<ActionRun> {
  return runAction(
    {
      'server-ids': SERVERS.join(','),
      region: DEFAULT_REGION,
      endpoint,
      'iam-endpoint': endpoint,
      'access-key-id': EMULATOR_KEY.accessKeyId,
      'secret-access-key': EMULATOR_KEY.secretAccessKey,
      'poll-interval-seconds': '0.02'
    },
    { env }
  )
}

describe('behind a proxy, with a custom CA', () => {
  it('sends every request through HTTPS_PROXY and trusts the CA of NODE_EXTRA_CA_CERTS', async () => {
    const { emulator, endpoint } = await start()
    const result = await run(endpoint, { HTTPS_PROXY: proxyUrl, NODE_EXTRA_CA_CERTS: caFile })
    expect(result.exitCode, result.stdout).toBe(0)
    expect(outcomes(result).succeeded).toEqual(SERVERS)
    expect(emulator.requests.map((r) => r.route)).toEqual(expect.arrayContaining(['projects', 'submit', 'job']))
    // One tunnel per request (or fewer requests than tunnels), each to the emulator's name and port.
    expect(connects.length).toBeGreaterThanOrEqual(emulator.requests.length)
    expect(new Set(connects)).toEqual(new Set([`${HOST}:${new URL(endpoint).port}`]))
  })

  it('goes straight to a host NO_PROXY covers: the proxy sees nothing', async () => {
    const { emulator, endpoint } = await start()
    const result = await run(endpoint, {
      HTTPS_PROXY: proxyUrl,
      NO_PROXY: 'example.com,.emulator.test',
      NODE_EXTRA_CA_CERTS: caFile,
      // Without the proxy the runner must resolve the name itself: an /etc/hosts line, in effect.
      NODE_OPTIONS: `--require ${hostsPreload}`,
      TEST_HOSTS: HOST
    })
    expect(result.exitCode, result.stdout).toBe(0)
    expect(outcomes(result).succeeded).toEqual(SERVERS)
    expect(emulator.requests.length).toBeGreaterThanOrEqual(3)
    expect(connects).toEqual([])
  })

  it('fails with a TLS error naming NODE_EXTRA_CA_CERTS when the CA is not trusted, and restarts nothing', async () => {
    const { emulator, endpoint } = await start()
    const result = await run(endpoint, { HTTPS_PROXY: proxyUrl })
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toMatch(
      /^::error::Project lookup for region ap-southeast-1 got no complete answer: UNABLE_TO_VERIFY_LEAF_SIGNATURE .*set the NODE_EXTRA_CA_CERTS environment variable of the job to the path of that CA's PEM file$/m
    )
    expect(outcomes(result).failed).toEqual(SERVERS)
    // The handshakes went through the proxy and failed there: no request reached the emulator.
    expect(connects.length).toBeGreaterThanOrEqual(1)
    expect(emulator.requests).toHaveLength(0)
  })
})
