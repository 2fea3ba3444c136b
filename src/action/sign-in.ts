import type { ApiClient } from '../cloud/api'
import { type Authenticator, accessKeyAuthenticator, tokenAuthenticator } from '../cloud/auth'
import { ApiError } from '../cloud/errors'
import { type IssuedToken, signInHint, tokenFromIdToken, tokenFromPassword } from '../cloud/iam'
import type { ActionIO } from './action-io'
import type { ActionInputs } from './inputs'
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
 * Prepares the authentication: AK/SK signs each request; the token modes sign in at IAM now (so
 * their errors come first and clear) and give the token's project.
 */
export async function signIn(
  inputs: ActionInputs,
  iam: ApiClient,
  io: ActionIO
): Promise<{ authenticator: Authenticator; tokenProjectId: string | undefined }> {
  if (inputs.auth.mode === 'access-key') {
    return { authenticator: accessKeyAuthenticator(inputs.auth.credentials), tokenProjectId: undefined }
  }
  const auth: Exclude<AuthConfig, { mode: 'access-key' }> = inputs.auth
  const iamEndpoint = inputs.iamEndpoint as URL
  const scope = inputs.projectId !== undefined ? { id: inputs.projectId } : { name: inputs.region as string }
  async function obtain(): Promise<IssuedToken> {
    let idToken: string | undefined
    try {
      if (auth.mode === 'password') return await tokenFromPassword(iam, iamEndpoint, auth, scope)
      if (!io.env.ACTIONS_ID_TOKEN_REQUEST_URL || !io.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
        throw new Error(
          'GitHub gave this job no OIDC token: add `permissions: id-token: write` to the workflow or job (pull requests from forks never get one).'
        )
      }
      idToken = await untilCancelled(io.getIDToken(auth.audience), io.cancellation)
      return await tokenFromIdToken(iam, iamEndpoint, auth.idpId, idToken, scope)
    } catch (error) {
      if (error instanceof ApiError) {
        // The OIDC facts are a separate piece (oidc-hint.ts), so the exchange itself can change apart from them.
        const facts = auth.mode === 'oidc' ? ` ${idTokenFacts(idToken, auth.idpId, auth.audience)}` : ''
        throw new Error(`${error.message}. ${signInHint(error, auth.mode)}${facts}`, { cause: error })
      }
      throw error
    }
  }
  const first = await obtain()
  io.maskSecret(first.token)
  io.log.info(`Signed in ${auth.mode === 'oidc' ? `through identity provider ${auth.idpId}` : `as ${auth.username}`}`)
  const renew = async (): Promise<string> => {
    const next = await obtain()
    io.maskSecret(next.token)
    return next.token
  }
  return { authenticator: tokenAuthenticator(renew, first.token), tokenProjectId: first.projectId }
}
