import { type EndpointInputs, readEndpoints } from './endpoints'
import { readOperation } from './operation'
import { type ServerInputs, readServerInputs } from './servers'
import { type AuthConfig, parseSignIn, readSecrets } from './sign-in'
import { type InputSource, Problems, trimmedInput } from './source'
import { type PacingInputs, readPacing } from './timing'
import { parseBoolean } from './values'
import type { Operation } from '../../cloud/server-action'

export interface ActionInputs extends ServerInputs, EndpointInputs, PacingInputs {
  dryRun: boolean
  operation: Operation
  auth: AuthConfig
  failOnError: boolean
}

/** Reads and validates every input; throws {@link InputErrors} listing all problems. */
export function readInputs(source: InputSource): ActionInputs {
  // Secrets first, so they are masked before any other message can be printed.
  const secrets = readSecrets(source)
  const problems = new Problems()
  const servers = readServerInputs(source, problems)
  const operation = readOperation(source, problems)
  const auth = problems.check<AuthConfig | undefined>(() => parseSignIn(source, secrets))
  const endpoints = readEndpoints(source, auth !== undefined && auth.mode !== 'access-key', problems)
  const pacing = readPacing(source, problems)
  const dryRun = problems.check(() => parseBoolean('dry-run', trimmedInput(source, 'dry-run'), false))
  const failOnError = problems.check(() => parseBoolean('fail-on-error', trimmedInput(source, 'fail-on-error'), true))
  problems.throwIfAny()
  return { ...servers, ...endpoints, ...pacing, operation, dryRun, auth: auth as AuthConfig, failOnError }
}
