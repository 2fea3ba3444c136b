/**
 * What `npm run demo` and `npm run try` share: running the bundled action against an emulator as
 * the runner does (through `runAction`), and showing a run as a person reads it on GitHub — the
 * inputs as a workflow's `with:` block, the step log as the run page shows it, the outputs, and
 * where the job summary was written.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { EcsEmulator } from '../__tests__/emulator'
import { type ActionRun, runAction, type RunOptions } from '../__tests__/support/run-action'

/**
 * What a workflow's `uses:` says for this action, as the README's examples write it: the commit of
 * the release of package.json's version, with the version as a comment.
 */
export function usesAction(): string {
  const { version } = JSON.parse(readFileSync(resolve(__dirname, '..', 'package.json'), 'utf8')) as { version: string }
  return `<owner>/ecs-batch-restart@<sha-of-v${version}> # v${version}`
}

/** Inputs shown as `${{ secrets.… }}` in the `with:` block, as a workflow must pass them. */
const SECRET_INPUTS: Record<string, string> = {
  'access-key-id': 'HUAWEI_CLOUD_AK',
  'secret-access-key': 'HUAWEI_CLOUD_SK',
  'security-token': 'HUAWEI_CLOUD_SECURITY_TOKEN',
  'iam-password': 'HUAWEI_CLOUD_PASSWORD'
}

/** Inputs that only point the action at the emulator; against the cloud they are left out. */
const EMULATOR_ONLY = new Set(['endpoint', 'iam-endpoint', 'elb-endpoint', 'as-endpoint'])

/** The inputs as the `with:` block of a workflow step (multi-line values as `|` blocks). */
export function withBlock(inputs: Record<string, string>): string {
  const lines = ['with:']
  for (const [name, value] of Object.entries(inputs)) {
    if (name in SECRET_INPUTS) {
      lines.push(`  ${name}: \${{ secrets.${SECRET_INPUTS[name]} }}`)
    } else if (value.includes('\n')) {
      lines.push(`  ${name}: |`, ...value.split('\n').map((line) => `    ${line}`))
    } else {
      const quoted =
        /^[\w./:@%-][\w ./:@%,=*-]*$/.test(value) && !/^(true|false|yes|no|null)$/i.test(value)
          ? value
          : `'${value.replace(/'/g, "''")}'`
      lines.push(
        `  ${name}: ${/^(true|false)$/.test(value) ? value : quoted}${EMULATOR_ONLY.has(name) ? ' # the emulator; leave out against the cloud' : ''}`
      )
    }
  }
  return lines.join('\n')
}

/** Prints the log as the runner's page shows it: debug hidden, groups folded, annotations marked. */
export function showLikeTheRunner(stdout: string): void {
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

/** Prints each output on one line, long ones cut at `maxLength` characters. */
export function showOutputs(outputs: Record<string, string>, maxLength = 300): void {
  for (const [name, value] of Object.entries(outputs)) {
    const shown = value.length > maxLength ? `${value.slice(0, maxLength)}… (${value.length} characters)` : value
    console.log(`${name}: ${shown}`)
  }
}

/** The line that names the job summary file; `npm run demo` and `npm run try` print it, their tests read it. */
export function summaryLine(run: ActionRun): string {
  return `Job summary (HTML, as GitHub renders it on the run page): ${run.summaryPath}`
}

/**
 * Runs the bundled action with these inputs against `emulator` (keeping the summary file for the
 * person to open) and prints the run: the log, the outputs, how many signatures the emulator
 * verified, the summary's path. Returns the run.
 */
export async function runAndShow(
  emulator: EcsEmulator,
  inputs: Record<string, string>,
  options: RunOptions = {}
): Promise<ActionRun> {
  const before = emulator.requests.length
  const run = await runAction(inputs, { ...options, keepFiles: true })
  const requests = emulator.requests.slice(before)
  console.log('--- The step log, as the workflow run page shows it (groups folded) ---')
  showLikeTheRunner(run.stdout)
  if (run.stderr.trim() !== '') console.log(`--- stderr ---\n${run.stderr.trimEnd()}`)
  console.log('\n--- Outputs (GITHUB_OUTPUT) ---')
  showOutputs(run.outputs)
  const signed = requests.filter((r) => r.signatureValid).length
  const byToken = requests.filter((r) => r.authenticatedBy === 'token').length
  console.log(
    byToken > 0
      ? `\nThe emulator accepted ${byToken} of ${requests.length} requests by IAM token (the others signed in) and ${signed} by signature.`
      : `\nThe emulator verified ${signed} of ${requests.length} request signatures.`
  )
  console.log(summaryLine(run))
  return run
}
