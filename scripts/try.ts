/**
 * `npm run try -- <case>`: one feature of the action with no cloud account. Starts the loopback
 * emulator in this process with the default fleet (examples/fleet.json: 12 named, tagged servers,
 * one stopped, two whose restart fails), runs the bundled dist/index.js against it as the runner
 * does, and prints the inputs as a workflow's `with:` block, the step log, the outputs and where
 * the job summary was written. `npm run try -- list` lists the cases.
 *
 * Exit code: 0 when every run ended as the case means to show (a case about failures shows a
 * failed step), 1 otherwise, 2 for an unknown case.
 */
import { DEFAULT_ACCESS_KEY, DEFAULT_REGION, EcsEmulator } from '../__tests__/emulator'
import { DEFAULT_FLEET_FILE, loadFleetFile, type FleetSpec } from '../__tests__/emulator/fleet-file'
import type { ActionRun } from '../__tests__/support/run-action'
import { runAndShow, usesAction, withBlock } from './show-run'
import { ELB_CASE } from './try-elb'
import { emulatorOptionsFor, IDP_ID, TRY_CASES, type TryCase, type TryContext, type TryStep } from './try-cases'

/** Every case, the one behind ELB (its own fleet) last. */
const CASES: TryCase[] = [...TRY_CASES, ELB_CASE]

/** Jobs take this long in the emulator: long enough to be polled, short enough to try everything quickly. */
const JOB_DURATION_MS = 200

function listCases(): void {
  const width = Math.max(...CASES.map((c) => c.name.length))
  console.log('npm run try -- <case>, where <case> is one of:')
  for (const c of CASES) console.log(`  ${c.name.padEnd(width)}  ${c.summary}`)
  console.log(`  ${'list'.padEnd(width)}  this list`)
}

function context(emulator: EcsEmulator, fleet: FleetSpec): TryContext {
  return {
    emulator,
    fleet,
    idOf: (name) => {
      const server = fleet.servers.find((s) => s.name === name)
      if (!server) throw new Error(`the fleet has no server named ${name}`)
      return server.id
    }
  }
}

/** What every step adds to its feature's inputs: where the emulator is, and how to sign in. */
function commonInputs(tryCase: TryCase, emulator: EcsEmulator): Record<string, string> {
  const signIn: Record<string, string> =
    tryCase.signIn === 'oidc'
      ? { 'idp-id': IDP_ID }
      : { 'access-key-id': DEFAULT_ACCESS_KEY.accessKeyId, 'secret-access-key': DEFAULT_ACCESS_KEY.secretAccessKey }
  return {
    region: DEFAULT_REGION,
    ...signIn,
    endpoint: emulator.url,
    'iam-endpoint': emulator.url,
    'poll-interval-seconds': '0.1'
  }
}

/** `web-1 succeeded, api-2 failed (Ecs.0605), …` from the `results` output. */
function outcomesByName(run: ActionRun, fleet: FleetSpec): string {
  if (!('results' in run.outputs)) return 'none (no results output)'
  const results = JSON.parse(run.outputs.results) as { id: string; outcome: string; error_code: string | null }[]
  const names = new Map(fleet.servers.map((server) => [server.id, server.name]))
  return results
    .map((r) => `${names.get(r.id) ?? r.id} ${r.outcome}${r.error_code ? ` (${r.error_code})` : ''}`)
    .join(', ')
}

/** Runs one step and says whether it ended as the case means. */
async function runStep(tryCase: TryCase, step: TryStep, tryContext: TryContext, label: string): Promise<boolean> {
  const { emulator, fleet } = tryContext
  const inputs = { ...step.inputs, ...commonInputs(tryCase, emulator) }
  console.log(`\n=== ${label}: ${step.title} ===\n`)
  console.log('The workflow step (this run uses the same inputs):\n')
  if (tryCase.signIn === 'oidc') console.log('# the job needs: permissions: { id-token: write }')
  console.log(`- uses: ${usesAction()}\n${withBlock(inputs).replace(/^/gm, '  ')}\n`)
  const env = tryCase.signIn === 'oidc' ? emulator.githubOidcEnv() : {}
  const run = await runAndShow(emulator, inputs, { env })
  console.log(`Outcome by server name: ${outcomesByName(run, fleet)}`)
  await step.after?.(run, tryContext)
  const expected = run.exitCode === step.expectedExit
  const why = step.expectedExit === 1 ? ': the step fails, since some servers failed' : ''
  console.log(
    `The action exited with code ${run.exitCode}${expected ? `${why}, as this case shows` : ` instead of ${step.expectedExit}`}.`
  )
  return expected
}

/** The case's own fleet, or examples/fleet.json. */
async function startEmulator(
  tryCase: TryCase
): Promise<{ emulator: EcsEmulator; fleet: FleetSpec; described: string }> {
  if (tryCase.fleet !== undefined) {
    const options = tryCase.fleet.options()
    const emulator = await EcsEmulator.start(options)
    const servers = (options.inventory ?? []).map((server) => ({ id: server.id, name: server.name }))
    return { emulator, fleet: { servers, failures: {} }, described: tryCase.fleet.description }
  }
  const fleet = await loadFleetFile(DEFAULT_FLEET_FILE)
  const emulator = await EcsEmulator.start({
    jobDurationMs: JOB_DURATION_MS,
    inventory: fleet.servers,
    serverFailures: fleet.failures,
    ...emulatorOptionsFor(tryCase)
  })
  return { emulator, fleet, described: `the ${fleet.servers.length} servers of examples/fleet.json` }
}

async function tryOne(tryCase: TryCase): Promise<boolean> {
  const { emulator, fleet, described } = await startEmulator(tryCase)
  console.log(`npm run try -- ${tryCase.name}: ${tryCase.summary}.`)
  console.log(`What it shows: ${tryCase.shows}`)
  console.log(`The emulator listens on ${emulator.url} with ${described}.`)
  try {
    const tryContext = context(emulator, fleet)
    const steps = tryCase.steps(tryContext)
    let asMeant = true
    for (const [index, step] of steps.entries()) {
      const label = steps.length > 1 ? `Step ${index + 1} of ${steps.length}` : 'Step'
      asMeant = (await runStep(tryCase, step, tryContext, label)) && asMeant
    }
    tryCase.finish?.(tryContext)
    return asMeant
  } finally {
    await emulator.close()
  }
}

async function main(): Promise<void> {
  const name = process.argv.at(2)
  if (name === 'list') {
    listCases()
    return
  }
  const tryCase = CASES.find((c) => c.name === name)
  if (!tryCase) {
    console.error(name === undefined ? 'Which case?' : `Unknown case ${JSON.stringify(name)}.`)
    listCases()
    process.exitCode = 2
    return
  }
  if (!(await tryOne(tryCase))) process.exitCode = 1
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
