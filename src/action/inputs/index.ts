import { type EndpointInputs, readEndpoints } from './endpoints'
import { type HealthGateInputs, readHealthGate } from './health-gate'
import { readOperation } from './operation'
import { type ServerInputs, readServerInputs } from './servers'
import { type AuthConfig, parseSignIn, readSecrets } from './sign-in'
import { type InputSource, Problems, trimmedInput } from './source'
import { type PacingInputs, readPacing } from './timing'
import { parseBoolean } from './values'
import type { Operation } from '../../cloud/server-action'
import { InputError } from '../errors'

export interface ActionInputs extends ServerInputs, EndpointInputs, PacingInputs, HealthGateInputs {
  dryRun: boolean
  operation: Operation
  auth: AuthConfig
  failOnError: boolean
}

/** A health-gated restart restarts (never stops), and waits for each wave. */
function checkHealthGate(gate: HealthGateInputs, pacing: PacingInputs, operation: Operation): void {
  if (gate.healthGate === undefined) return
  if (operation.kind !== 'reboot') {
    throw new InputError('health-gate', `elb works with operation: reboot only, not ${operation.kind}`)
  }
  if (!pacing.wait) throw new InputError('health-gate', 'elb needs wait: true, since each wave is gated on health')
}

/** Reads and validates every input; throws {@link InputErrors} listing all problems. */
export function readInputs(source: InputSource): ActionInputs {
  // Secrets first, so they are masked before any other message can be printed.
  const secrets = readSecrets(source)
  const problems = new Problems()
  const servers = readServerInputs(source, problems)
  const operation = readOperation(source, problems)
  const auth = problems.check<AuthConfig | undefined>(() => parseSignIn(source, secrets))
  const endpoints = readEndpoints(source, auth?.mode, problems)
  const pacing = readPacing(source, problems)
  const dryRun = problems.check(() => parseBoolean('dry-run', trimmedInput(source, 'dry-run'), false))
  const failOnError = problems.check(() => parseBoolean('fail-on-error', trimmedInput(source, 'fail-on-error'), true))
  const gate = readHealthGate(source, endpoints, problems)
  problems.check(() => checkHealthGate(gate, pacing, operation))
  problems.throwIfAny()
  return { ...servers, ...endpoints, ...pacing, ...gate, operation, dryRun, auth: auth as AuthConfig, failOnError }
}
