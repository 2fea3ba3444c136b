import type { ApiClient } from '../cloud/api'
import {
  type Authenticator,
  accessKeyAuthenticator,
  temporaryKeyAuthenticator,
  tokenAuthenticator
} from '../cloud/auth'
import { ApiError } from '../cloud/errors'
import {
  type SignInStep,
  type TemporaryAccessKeys,
  signInHint,
  temporaryAccessKeys,
  tokenFromPassword,
  unscopedTokenFromIdToken
} from '../cloud/iam'
import { errorMessage } from '../shared/text'
import type { ActionIO } from './action-io'
import type { ConnectionInputs } from './inputs'
import type { AuthConfig } from './inputs/sign-in'
import { idTokenFacts } from './oidc-hint'

/** The promise's value, unless the run is cancelled first. */
function untilCancelled<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cancel = (): void => reject(new Error('The run was cancelled while signing in.'))
    if (signal.aborted) cancel()
    signal.addEventListener('abort', cancel, { once: true })
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', cancel))
  })
}

/**
 * The step's promise, with an IAM refusal turned into an error that says what to fix, and what
 * the action knows that helps (`facts`).
 */
async function explained<T>(step: SignInStep, promise: Promise<T>, facts = ''): Promise<T> {
  try {
    return await promise
  } catch (error) {
    if (error instanceof ApiError) {
      throw new Error(`${error.message}. ${signInHint(error, step)}${facts && ` ${facts}`}`, { cause: error })
    }
    throw error
  }
}

/** A fresh ID token from GitHub (they live minutes, so one per exchange), masked at once. */
async function gitHubIdToken(audience: string, io: ActionIO): Promise<string> {
  if (!io.env.ACTIONS_ID_TOKEN_REQUEST_URL || !io.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
    throw new Error(
      'GitHub gave this job no OIDC token: add `permissions: id-token: write` to the workflow or job (pull requests from forks never get one).'
    )
  }
  try {
    const idToken = await untilCancelled(io.getIDToken(audience), io.cancellation)
    io.maskSecret(idToken)
    return idToken
  } catch (error) {
    throw new Error(`Getting the workflow's ID token from GitHub failed: ${errorMessage(error)}`, { cause: error })
  }
}

/**
 * GitHub OIDC the way both SDKs sign in: the workflow's ID token buys an unscoped token at IAM,
 * which buys temporary access keys; every value is masked the moment it arrives.
 */
async function oidcAccessKeys(
  auth: Extract<AuthConfig, { mode: 'oidc' }>,
  iam: ApiClient,
  iamEndpoint: URL,
  io: ActionIO
): Promise<TemporaryAccessKeys> {
  const idToken = await gitHubIdToken(auth.audience, io)
  const token = await explained(
    'oidc',
    unscopedTokenFromIdToken(iam, iamEndpoint, auth.idpId, idToken),
    // IAM's own answer is often only "The id_token is invalid.": say what to compare it with.
    idTokenFacts(idToken, auth.idpId, auth.audience)
  )
  io.maskSecret(token)
  const keys = await explained('temporary-keys', temporaryAccessKeys(iam, iamEndpoint, token))
  for (const secret of [keys.accessKeyId, keys.secretAccessKey, keys.securityToken]) io.maskSecret(secret)
  return keys
}

/** OIDC sign-in now (so its errors come first and clear), renewed before the keys expire. */
async function signInWithOidc(
  auth: Extract<AuthConfig, { mode: 'oidc' }>,
  inputs: ConnectionInputs,
  iam: ApiClient,
  io: ActionIO
): Promise<Authenticator> {
  const iamEndpoint = inputs.oidcIamEndpoint as URL
  const obtain = (): Promise<TemporaryAccessKeys> => oidcAccessKeys(auth, iam, iamEndpoint, io)
  const obtainedAt = io.clock()
  const first = await obtain()
  const until = (keys: TemporaryAccessKeys): string => new Date(keys.expiresAt).toISOString()
  io.log.info(
    `Signed in through identity provider ${auth.idpId} at ${iamEndpoint.host}: temporary access keys valid until ${until(first)}`
  )
  return temporaryKeyAuthenticator({
    clock: io.clock,
    initial: { credentials: first, obtainedAt },
    obtain: async () => {
      const keys = await obtain()
      io.log.info(`Renewed the temporary access keys; valid until ${until(keys)}`)
      return keys
    },
    onRenewalFailed: (error) =>
      io.log.warning(
        `Renewing the temporary access keys failed (${errorMessage(error)}); using the current ones, still valid, and trying again in a minute`
      )
  })
}

/**
 * Prepares the authentication: AK/SK signs each request; the other modes sign in at IAM now (so
 * their errors come first and clear). A password gives a project-scoped token, and its project.
 */
export async function signIn(
  inputs: ConnectionInputs,
  iam: ApiClient,
  io: ActionIO
): Promise<{ authenticator: Authenticator; tokenProjectId: string | undefined }> {
  const auth = inputs.auth
  if (auth.mode === 'access-key') {
    return { authenticator: accessKeyAuthenticator(auth.credentials), tokenProjectId: undefined }
  }
  if (auth.mode === 'oidc') {
    return { authenticator: await signInWithOidc(auth, inputs, iam, io), tokenProjectId: undefined }
  }
  const iamEndpoint = inputs.iamEndpoint as URL
  const scope = inputs.projectId !== undefined ? { id: inputs.projectId } : { name: inputs.region as string }
  const issue = async (): Promise<{ token: string; projectId: string | undefined }> => {
    const issued = await explained('password', tokenFromPassword(iam, iamEndpoint, auth, scope))
    io.maskSecret(issued.token)
    return issued
  }
  const first = await issue()
  io.log.info(`Signed in as ${auth.username}`)
  const renew = async (): Promise<string> => (await issue()).token
  return { authenticator: tokenAuthenticator(renew, first.token), tokenProjectId: first.projectId }
}
