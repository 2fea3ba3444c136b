/**
 * `npm run demo`: the action's main job with no cloud account. Starts the loopback ECS
 * emulator, runs the bundled dist/index.js against it exactly as the runner would (a child
 * process with INPUT_* variables and GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files) for a few
 * thousand simulated servers, some of which fail, then prints the outputs and where the job
 * summary was written.
 */
import { createHash } from 'node:crypto'
import { DEFAULT_ACCESS_KEY, DEFAULT_REGION, EcsEmulator, type ServerFailure } from '../__tests__/emulator'
import { runAction } from '../__tests__/support/run-action'

const SERVER_COUNT = 2500

/** Stable, UUID-shaped server IDs, so every demo run shows the same fleet. */
function serverId(index: number): string {
  const hex = createHash('sha256').update(`demo-server-${index}`).digest('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

const FAILURES: [number, ServerFailure][] = [
  [17, { code: 'Ecs.0100', reason: 'The ECS status does not meet requirements.' }],
  [1024, { code: 'Ecs.0605', reason: 'ECS locked.' }],
  [2222, { code: 'Ecs.0227', reason: 'Failed to reboot.' }]
]

/** Prints the log as the runner's page shows it: debug hidden, groups folded, annotations marked. */
function showLikeTheRunner(stdout: string): void {
  const decode = (text: string): string =>
    text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%')
  let folded = false
  for (const line of stdout.split('\n')) {
    const command = /^::([a-z-]+) ?([^:]*)::(.*)$/.exec(line)
    if (folded) {
      folded = command?.[1] !== 'endgroup'
      continue
    }
    if (command === null) {
      if (line !== '') console.log(`  ${line}`)
      continue
    }
    const [, name, properties, message] = command
    if (name === 'group') {
      console.log(`  ▸ ${message}`)
      folded = true
    } else if (name === 'error' || name === 'warning') {
      const title = /title=([^,]*)/.exec(properties)?.[1]
      console.log(`  ${name === 'error' ? 'Error' : 'Warning'}: ${title ? `${decode(title)}: ` : ''}${decode(message)}`)
    }
  }
}

async function main(): Promise<void> {
  const servers = Array.from({ length: SERVER_COUNT }, (_, i) => serverId(i))
  const emulator = await EcsEmulator.start({
    jobDurationMs: 1500,
    serverFailures: Object.fromEntries(FAILURES.map(([index, failure]) => [servers[index], failure]))
  })
  const { accessKeyId, secretAccessKey } = DEFAULT_ACCESS_KEY
  console.log(`Emulator listening on ${emulator.url}; restarting ${SERVER_COUNT} simulated servers.\n`)
  try {
    const run = await runAction(
      {
        'server-ids': servers.join('\n'),
        type: 'SOFT',
        region: DEFAULT_REGION,
        endpoint: emulator.url,
        'iam-endpoint': emulator.url,
        'access-key-id': accessKeyId,
        'secret-access-key': secretAccessKey,
        'batch-size': '1000',
        // The emulator has no rate limit; against the cloud the default of 1000 paces batches a minute apart.
        'max-servers-per-minute': '100000',
        'poll-interval-seconds': '0.5',
        'fail-on-error': 'true'
      },
      { keepFiles: true }
    )
    console.log('--- The step log, as the workflow run page shows it (groups folded) ---')
    showLikeTheRunner(run.stdout)
    console.log('\n--- Outputs (GITHUB_OUTPUT) ---')
    for (const [name, value] of Object.entries(run.outputs)) {
      const shown = value.length > 300 ? `${value.slice(0, 300)}… (${value.length} characters)` : value
      console.log(`${name}: ${shown}`)
    }
    const signed = emulator.requests.filter((r) => r.signatureValid).length
    console.log(`\nThe emulator verified ${signed} of ${emulator.requests.length} request signatures.`)
    console.log(`Job summary (HTML, as GitHub renders it on the run page): ${run.summaryPath}`)
    console.log(
      `The action exited with code ${run.exitCode}${run.exitCode === 1 ? ': the step fails, since 3 servers were made to fail' : ''}.`
    )
  } finally {
    await emulator.close()
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
