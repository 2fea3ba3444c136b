/**
 * The cases of `npm run try -- <case>`: one feature each, run against the emulator's default fleet
 * (examples/fleet.json) with the inputs a user would write.
 */
import type { EcsEmulator, EmulatorOptions } from '../__tests__/emulator'
import type { FleetSpec } from '../__tests__/emulator/fleet-file'
import type { ActionRun } from '../__tests__/support/run-action'
import { createOidcFixture } from '../__tests__/support/oidc'

/** One run of the action within a case. */
export interface TryStep {
  title: string
  /** The inputs particular to the feature; the sign-in, region and emulator endpoints are added. */
  inputs: Record<string, string>
  /** The action's exit code this step is meant to show (1 for a run with failed servers). */
  expectedExit: 0 | 1
  /** What to print after the run, besides the log and the outputs. */
  after?: (run: ActionRun, context: TryContext) => Promise<void>
}

export interface TryContext {
  emulator: EcsEmulator
  fleet: FleetSpec
  /** The id of the fleet's server of this name. */
  idOf: (name: string) => string
}

export interface TryCase {
  name: string
  /** One line for `npm run try -- list`. */
  summary: string
  /** What to look for in the output, printed before the run. */
  shows: string
  /** Sign in with the emulator's access key (default) or through GitHub OIDC. */
  signIn?: 'keys' | 'oidc'
  /** A fleet of its own instead of examples/fleet.json: what it is, and the emulator options that make it. */
  fleet?: { description: string; options: () => EmulatorOptions }
  steps(context: TryContext): TryStep[]
  /** What to print after the last step. */
  finish?: (context: TryContext) => void
}

export const IDP_ID = 'idp-github'
const AUDIENCE = 'huaweicloud'

/** Emulator options for a case: its GitHub OIDC token service and IAM identity provider, for 'oidc'. */
export function emulatorOptionsFor(tryCase: TryCase): Partial<EmulatorOptions> {
  if (tryCase.signIn !== 'oidc') return {}
  const github = createOidcFixture()
  return {
    identityProviders: { [IDP_ID]: { issuer: github.issuer, clientId: AUDIENCE, jwks: github.publicJwks } },
    githubOidc: {
      issuer: github.issuer,
      requestToken: 'try-request-token',
      privateKey: github.privateKey,
      kid: github.kid
    }
  }
}

export const TRY_CASES: TryCase[] = [
  {
    name: 'dry-run',
    summary: 'plan a rolling restart of the app=web servers named web-* and change nothing',
    shows:
      'the plan (waves and batches) in the log, the `plan` output and the summary; every server `skipped` as "Dry run: would …"; no restart sent.',
    steps: () => [
      {
        title: 'Rehearse: dry run',
        inputs: { 'dry-run': 'true', tags: 'app=web', name: 'web-*', rolling: 'true', 'batch-size': '2' },
        expectedExit: 0
      }
    ]
  },
  {
    name: 'rolling',
    summary: 'restart the running web servers in rolling waves of 2, each waiting for ACTIVE',
    shows:
      'three waves, one after the other, each waited for until its servers report ACTIVE; the stopped web-6 is not selected.',
    steps: () => [
      {
        title: 'Rolling restart',
        inputs: {
          tags: 'app=web',
          status: 'ACTIVE',
          rolling: 'true',
          'batch-size': '2',
          'pause-seconds': '0.2',
          'max-failures': '0'
        },
        expectedExit: 0
      }
    ]
  },
  {
    name: 'tags',
    summary: 'select by tags: every server tagged app=web and env=prod',
    shows: 'the four servers that carry both tags restarted; the other eight are not selected.',
    steps: () => [{ title: 'Restart by tag', inputs: { tags: 'app=web\nenv=prod' }, expectedExit: 0 }]
  },
  {
    name: 'failures',
    summary: 'restart every env=prod server; api-2 (locked) and db-2 fail, and the step fails',
    shows:
      "the two failed servers with the cloud's error codes in `failed-ids`, `results` and the summary, and an error annotation; the step fails, but only after every server was restarted and reported.",
    steps: () => [{ title: 'Restart with failures', inputs: { tags: 'env=prod', 'batch-size': '5' }, expectedExit: 1 }]
  },
  {
    name: 'stop-start',
    summary: 'stop the env=staging servers (skipping the one already stopped), then start them all',
    shows:
      'the stop skips web-6 (already SHUTOFF) and waits for SHUTOFF; the start then starts all three and waits for ACTIVE.',
    steps: () => {
      const selection = { tags: 'env=staging', 'skip-inactive': 'true', 'wait-for-active': 'true' }
      return [
        { title: 'Stop', inputs: { operation: 'stop', ...selection }, expectedExit: 0 },
        { title: 'Start the same servers', inputs: { operation: 'start', ...selection }, expectedExit: 0 }
      ]
    }
  },
  {
    name: 'oidc',
    summary: "sign in with the workflow's GitHub OIDC token (idp-id), no keys, and restart two servers by ID",
    shows:
      'the ID token exchanged at IAM for a project token (masked), the requests accepted by that token, no access key anywhere.',
    signIn: 'oidc',
    steps: ({ idOf }) => [
      {
        title: 'Restart by ID, signed in through GitHub OIDC',
        inputs: { 'server-ids': [idOf('web-1'), idOf('web-2')].join('\n') },
        expectedExit: 0
      }
    ]
  }
]
