/**
 * Runs the ECS + IAM emulator stand-alone:
 *
 *   npx tsx __tests__/emulator/serve.ts [--port N] [--job-duration-ms N]
 *     [--fail <server-id>=<code>[:<reason>]]... [--server <id>]...
 *     [--unknown-servers reject|sub-job] [--verbose]
 *
 * Prints one JSON line to stdout ({"url","accessKeyId","secretAccessKey","projectId","region"}),
 * logs one line per request to stderr with --verbose, and closes cleanly on SIGINT/SIGTERM (exit 0).
 * Without --server every server id exists; with it only the listed ids do.
 */
import { parseArgs } from 'node:util'
import {
  DEFAULT_ACCESS_KEY,
  DEFAULT_PROJECT_ID,
  DEFAULT_REGION,
  EcsEmulator,
  type EmulatorOptions,
  type RecordedRequest,
  type ServerFailure
} from '.'

const KNOWN_REASONS: Record<string, string> = {
  'Ecs.0100': 'The ECS status does not meet requirements.',
  'Ecs.0114': 'The ECS does not exist.',
  'Ecs.0227': 'Failed to reboot.',
  'Ecs.0605': 'ECS locked.',
  'Ecs.0611': 'Batch operation failed.'
}

class UsageError extends Error {}

function nonNegativeInteger(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} must be a non-negative integer, got ${JSON.stringify(value)}`)
  return Number(value)
}

function parseServeArgs(argv: string[]): { options: EmulatorOptions; verbose: boolean } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      'job-duration-ms': { type: 'string' },
      fail: { type: 'string', multiple: true },
      server: { type: 'string', multiple: true },
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
    const reason = colon < 0 ? (KNOWN_REASONS[code] ?? `Emulated failure ${code}.`) : rest.slice(colon + 1)
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

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseServeArgs>
  try {
    parsed = parseServeArgs(process.argv.slice(2))
  } catch (error) {
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
