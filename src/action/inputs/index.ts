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

/** What signing in and reaching the services needs. */
export interface ConnectionInputs extends EndpointInputs {
  auth: AuthConfig
}

export interface ActionInputs extends ServerInputs, ConnectionInputs, PacingInputs, HealthGateInputs {
  dryRun: boolean
  operation: Operation
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
  const { auth, ...endpoints } = readConnection(source, secrets, problems)
  const pacing = readPacing(source, problems)
  const dryRun = problems.check(() => parseBoolean('dry-run', trimmedInput(source, 'dry-run'), false))
  const failOnError = problems.check(() => parseBoolean('fail-on-error', trimmedInput(source, 'fail-on-error'), true))
  const gate = readHealthGate(source, endpoints, problems)
  problems.check(() => checkHealthGate(gate, pacing, operation))
  problems.throwIfAny()
  return { ...servers, ...endpoints, ...pacing, ...gate, operation, dryRun, auth, failOnError }
}

function readConnection(
  source: InputSource,
  secrets: ReturnType<typeof readSecrets>,
  problems: Problems
): ConnectionInputs {
  const auth = problems.check<AuthConfig | undefined>(() => parseSignIn(source, secrets))
  return { ...readEndpoints(source, auth?.mode, problems), auth: auth as AuthConfig }
}

/**
 * What the post step needs: signing in, the endpoints and the health gate. The servers and the
 * rest are not read again: a `server-ids-file` a later step removed must not keep it from
 * restoring what the main step drained.
 */
export function readPostInputs(source: InputSource): ConnectionInputs & HealthGateInputs {
  const secrets = readSecrets(source)
  const problems = new Problems()
  const connection = readConnection(source, secrets, problems)
  const gate = readHealthGate(source, connection, problems)
  problems.throwIfAny()
  return { ...connection, ...gate }
}
