import { describe, expect, it } from 'vitest'
import { ApiError } from '../../src/cloud/errors'
import { signInHint } from '../../src/cloud/iam'

const error = (status: number, message: string, code = 'IAM.0001'): ApiError =>
  new ApiError(status, code, message, 'r', 'Signing in')

describe('signInHint', () => {
  it.each([
    ["The ID token audience does not match the identity provider's client_id.", /oidc-audience/],
    ['The ID token has expired.', /re-run the job/],
    ['The ID token issuer does not match.', /idp_url must be https:\/\/token\.actions\.githubusercontent\.com/],
    ['Invalid ID token signature.', /signing_key must hold GitHub's current signing keys/]
  ])('points an OIDC failure "%s" to its fix', (message, hint) => {
    expect(signInHint(error(401, message), 'oidc')).toMatch(hint)
  })

  it('points to idp-id, the conversion rules, or the README otherwise', () => {
    expect(signInHint(error(404, 'The identity provider does not exist.', 'IAM.0004'), 'oidc')).toMatch(/Check idp-id/)
    expect(signInHint(error(403, 'Forbidden.', 'IAM.0003'), 'oidc')).toMatch(/identity conversion rules/)
    expect(signInHint(error(400, 'Bad request.', 'IAM.0011'), 'oidc')).toMatch(/README/)
  })

  it('points a password failure to the user, password and account, or to project access', () => {
    expect(signInHint(error(401, 'The username or password is wrong.', '401'), 'password')).toMatch(
      /iam-username, iam-password and iam-domain/
    )
    expect(signInHint(error(403, 'Forbidden.'), 'password')).toMatch(/may access the project/)
  })
})
