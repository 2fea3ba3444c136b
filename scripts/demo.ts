/**
 * `npm run demo`: the action's main job with no cloud account. Starts the loopback ECS
 * emulator, runs the bundled dist/index.js against it exactly as the runner would (a child
 * process with INPUT_* variables and GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files) for a few
 * thousand simulated servers, some of which fail, then prints the outputs and where the job
 * summary was written.
 */
import { createHash } from 'node:crypto'
import { DEFAULT_ACCESS_KEY, DEFAULT_REGION, EcsEmulator, type ServerFailure } from '../__tests__/emulator'
import { runAndShow } from './show-run'

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

async function main(): Promise<void> {
  const servers = Array.from({ length: SERVER_COUNT }, (_, i) => serverId(i))
  const emulator = await EcsEmulator.start({
    jobDurationMs: 1500,
    serverFailures: Object.fromEntries(FAILURES.map(([index, failure]) => [servers[index], failure]))
  })
  const { accessKeyId, secretAccessKey } = DEFAULT_ACCESS_KEY
  console.log(`Emulator listening on ${emulator.url}; restarting ${SERVER_COUNT} simulated servers.\n`)
  try {
    const run = await runAndShow(emulator, {
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
    })
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
