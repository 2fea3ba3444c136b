/**
 * Runs the ECS + IAM emulator stand-alone:
 *
 *   npx tsx __tests__/emulator/serve.ts [--port N] [--job-duration-ms N]
 *     [--fleet <file.json>|none] [--fail <server-id>=<code>[:<reason>]]... [--server <id>]...
 *     [--unknown-servers reject|sub-job] [--verbose]
 *
 * Prints one JSON line to stdout ({"url","accessKeyId","secretAccessKey","projectId","region"}),
 * the fleet to stderr, logs one line per request to stderr with --verbose, and closes cleanly on
 * SIGINT/SIGTERM (exit 0).
 *
 * Servers: by default the fleet of examples/fleet.json (12 named, tagged servers; one stopped, two
 * whose restart fails), so that selection by tag, name and state works as against a real project.
 * `--fleet file.json` (or the ECS_EMULATOR_FLEET environment variable) loads another fleet in that
 * format (see fleet-file.ts); `--fleet none` has no listed servers and lets every server id exist,
 * and `--server` (which implies `--fleet none`) lets only the ids given exist. `--fail` adds
 * failures on top of the fleet's. A bad flag or fleet file exits 2 with the reason.
 */
import { parseArgs } from 'node:util'
import { DEFAULT_FLEET_FILE, FleetFileError, loadFleetFile, reasonFor, type FleetSpec } from './fleet-file'
import {
  DEFAULT_ACCESS_KEY,
  DEFAULT_PROJECT_ID,
  DEFAULT_REGION,
  EcsEmulator,
  type EmulatorOptions,
  type RecordedRequest,
  type ServerFailure
} from '.'

class UsageError extends Error {}

function nonNegativeInteger(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} must be a non-negative integer, got ${JSON.stringify(value)}`)
  return Number(value)
}

interface ServeArgs {
  options: EmulatorOptions
  verbose: boolean
  /** The fleet file to load; undefined for none. */
  fleet: string | undefined
}

/** `--fleet`, else ECS_EMULATOR_FLEET, else the default fleet; none with `--fleet none` or `--server`. */
function fleetFile(flag: string | undefined, servers: string[] | undefined): string | undefined {
  const chosen = flag ?? process.env.ECS_EMULATOR_FLEET
  if (servers && servers.length > 0) {
    if (chosen !== undefined && chosen !== 'none') {
      throw new UsageError('--server lists the only servers that exist; it cannot be combined with a fleet file')
    }
    return undefined
  }
  if (chosen === '') throw new UsageError('--fleet needs a file name, or none')
  return chosen === 'none' ? undefined : (chosen ?? DEFAULT_FLEET_FILE)
}

function parseServeArgs(argv: string[]): ServeArgs {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      'job-duration-ms': { type: 'string' },
      fail: { type: 'string', multiple: true },
      server: { type: 'string', multiple: true },
      fleet: { type: 'string' },
      'unknown-servers': { type: 'string' },
      verbose: { type: 'boolean', default: false }
    }
  })
  const serverFailures: Record<string, ServerFailure> = {}
  for (const spec of values.fail ?? []) {
    const eq = spec.indexOf('=')
    if (eq <= 0 || eq === spec.length - 1) {
      throw new UsageError(`--fail expects <server-id>=<code>[:<reason>], got ${JSON.stringify(spec)}`)
    }
    const id = spec.slice(0, eq)
    const rest = spec.slice(eq + 1)
    const colon = rest.indexOf(':')
    const code = colon < 0 ? rest : rest.slice(0, colon)
    const reason = colon < 0 ? reasonFor(code) : rest.slice(colon + 1)
    serverFailures[id] = { code, reason }
  }
  const unknown = values['unknown-servers']
  if (unknown !== undefined && unknown !== 'reject' && unknown !== 'sub-job') {
    throw new UsageError(`--unknown-servers must be reject or sub-job, got ${JSON.stringify(unknown)}`)
  }
  const port = nonNegativeInteger('--port', values.port)
  if (port !== undefined && port > 65535) throw new UsageError('--port must be at most 65535')
  return {
    verbose: values.verbose,
    fleet: fleetFile(values.fleet, values.server),
    options: {
      port,
      jobDurationMs: nonNegativeInteger('--job-duration-ms', values['job-duration-ms']),
      serverFailures,
      servers: values.server && values.server.length > 0 ? values.server : 'any',
      unknownServers: unknown
    }
  }
}

function logLine(request: RecordedRequest): string {
  const query = request.query.toString()
  return `${new Date().toISOString()} ${request.method} ${request.path}${query ? `?${query}` : ''} -> ${request.status}${request.signatureValid ? '' : ' (signature invalid)'}`
}

/** The fleet, one server a line, so that whoever started the emulator knows what it holds. */
function describeFleet(file: string, fleet: FleetSpec): string {
  const lines = fleet.servers.map((server) => {
    const failure = fleet.failures[server.id] as ServerFailure | undefined
    const tags = (server.tags ?? []).join(',')
    return `  ${server.name.padEnd(10)} ${server.id}  ${(server.status ?? 'ACTIVE').padEnd(8)} ${tags}${failure ? `  (restart fails: ${failure.code})` : ''}`
  })
  return `serve: ${fleet.servers.length} servers from ${file}:\n${lines.join('\n')}\n`
}

async function parseAndLoad(argv: string[]): Promise<Omit<ServeArgs, 'fleet'>> {
  const { options, verbose, fleet: file } = parseServeArgs(argv)
  if (file === undefined) return { options, verbose }
  const fleet = await loadFleetFile(file)
  process.stderr.write(describeFleet(file, fleet))
  return {
    verbose,
    options: { ...options, inventory: fleet.servers, serverFailures: { ...fleet.failures, ...options.serverFailures } }
  }
}

async function main(): Promise<void> {
  let parsed: Omit<ServeArgs, 'fleet'>
  try {
    parsed = await parseAndLoad(process.argv.slice(2))
  } catch (error) {
    if (!(
      error instanceof UsageError ||
      error instanceof FleetFileError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ))
      throw error
    process.stderr.write(`serve: ${(error as Error).message}\n`)
    process.exitCode = 2
    return
  }
  const { options, verbose } = parsed
  if (verbose) options.onRequest = (request) => process.stderr.write(`${logLine(request)}\n`)
  const emulator = await EcsEmulator.start(options)

  const { accessKeyId, secretAccessKey } = DEFAULT_ACCESS_KEY
  process.stdout.write(
    `${JSON.stringify({
      url: emulator.url,
      accessKeyId,
      secretAccessKey,
      projectId: DEFAULT_PROJECT_ID,
      region: DEFAULT_REGION
    })}\n`
  )

  let stopping = false
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return
    stopping = true
    if (verbose) process.stderr.write(`serve: ${signal}, closing\n`)
    // Never linger: if something keeps the loop alive after close(), leave anyway.
    setTimeout(() => process.exit(0), 2000).unref()
    emulator.close().then(
      () => {
        process.exitCode = 0
      },
      (error: unknown) => {
        process.stderr.write(`serve: close failed: ${String(error)}\n`)
        process.exitCode = 1
      }
    )
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

main().catch((error: unknown) => {
  process.stderr.write(`serve: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exit(1)
})
